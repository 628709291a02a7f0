"""Run-relative position streams (modeling/positions_genomicllm.py) and the short convolution: the positions each
stream gives on grammar prompts, padding invariance, and cached generation equal to a full forward with both on."""

from __future__ import annotations

import pytest
import torch

from modeling.configuration_genomicllm import GenomicLLMConfig
from modeling.modeling_genomicllm import GenomicLLMForCausalLM
from modeling.positions_genomicllm import (POINTER_STRIDE, STREAMS, aligned_sources, field_pointer, key_table,
                                          stream_positions, token_table)

from .test_modeling import EOS, left_pad, tiny_char_tokenizer, tiny_config

TOK = tiny_char_tokenizer()
DNA_IDS = TOK.convert_tokens_to_ids(list("ACGTN"))
MARKER = TOK.convert_tokens_to_ids("=")
OPEN, CLOSE = TOK.convert_tokens_to_ids([":", ","])  # a field's value: key:value, (the real grammar: key=value,)
FAR = 1000
STREAM = {name: i for i, name in enumerate(STREAMS)}


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def ids_of(text: str, answer: str = "", eos: bool = False) -> torch.Tensor:
    ids = TOK(text + answer)["input_ids"] + ([EOS] if eos else [])
    return torch.tensor(ids)


def positions(ids: torch.Tensor, real: torch.Tensor | None = None, min_run: int = 4) -> torch.Tensor:
    ids = ids[None] if ids.dim() == 1 else ids
    real = torch.ones_like(ids, dtype=torch.bool) if real is None else real
    return stream_positions(ids, real, token_table(64, DNA_IDS), token_table(64, [MARKER]), EOS, min_run, FAR,
                            token_table(64, [OPEN]), token_table(64, [CLOSE]))


A, C, G, T, N = DNA_IDS
COMPLEMENTS = [[A, T], [T, A], [C, G], [G, C]]  # N is its own


def gate(hidden: int, pick: int | None = None, seed: int = 0) -> dict:
    """An aligned copy's gate: one that always picks share `pick` (0 the LM, then each alignment as is and
    complemented), or a random one."""
    if pick is not None:
        return {"weight": [[0.0] * hidden] * 5, "bias": [50.0 * (k == pick) for k in range(5)]}
    g = torch.Generator().manual_seed(seed)
    return {"weight": torch.randn(5, hidden, generator=g).tolist(), "bias": torch.randn(5, generator=g).tolist()}


HIDDEN = tiny_config().hidden_size
ALIGNED = {"aligned_gate": gate(HIDDEN), "dna_complement_ids": COMPLEMENTS}


def stream_config(**overrides) -> GenomicLLMConfig:
    kwargs = dict(num_attention_heads=len(STREAMS), num_key_value_heads=len(STREAMS), head_dim=8,
                  position_streams=list(STREAMS), dna_token_ids=DNA_IDS, answer_marker_token_ids=[MARKER],
                  field_open_token_ids=[OPEN], field_close_token_ids=[CLOSE], dna_run_min_tokens=4, far_offset=FAR,
                  conv_kernel_size=3, pointer_copy=True)
    kwargs.update(overrides)
    kwargs["pointer_copy"] &= "pointer" in (kwargs["position_streams"] or ())  # the copy needs pointer heads
    return tiny_config(**kwargs)


def stream_model(seed: int = 0, **overrides) -> GenomicLLMForCausalLM:
    torch.manual_seed(seed)
    return GenomicLLMForCausalLM(stream_config(**overrides)).eval()


def test_answer_tokens_align_with_their_source_bases():
    # <s> A C G T T , r c = x y z w </s>: a closed run of 5 bases, the answer after "="
    prompt, answer = "ACGTT,rc=", "xyzw"
    p = positions(ids_of(prompt, answer, eos=True))[0]
    run = slice(1, 6)
    assert p[STREAM["run_start"], run].tolist() == [0, 1, 2, 3, 4]
    assert p[STREAM["run_end"], run].tolist() == [4, 3, 2, 1, 0]
    assert p[STREAM["codon"], run].tolist() == [0, 1, 2, 3, 4]
    eq = 1 + len(prompt) - 1
    # "=" at -1, answer tokens (and the </s> ending it) 0, 1, 2, ... in run_start / run_end, 3x in codon
    assert p[STREAM["run_start"], eq:].tolist() == [-1, 0, 1, 2, 3, 4]
    assert p[STREAM["run_end"], eq:].tolist() == [-1, 0, 1, 2, 3, 4]
    assert p[STREAM["codon"], eq:].tolist() == [-3, 0, 3, 6, 9, 12]
    # text sits far away in the run-relative streams, at its ordinary position in "token"
    assert p[STREAM["token"]].tolist() == list(range(len(p[0])))
    for s in ("run_start", "run_end", "codon"):
        assert p[STREAM[s], 0] == FAR and p[STREAM[s], 6] == FAR + 6


def test_answer_tokens_align_with_the_field_they_copy():
    # <s> s y : a b , e n d : 4 2 9 , A C G T , e n d = 4 2 9 </s>: the answer copies the value of "end"
    prompt, answer = "sy:ab,end:429,ACGT,end=", "429"
    p = positions(ids_of(prompt, answer, eos=True))[0]
    first, second = slice(4, 6), slice(11, 14)  # "ab", "429" in the prompt
    eq = 1 + len(prompt) - 1
    assert p[STREAM["field"], first].tolist() == [0, 1]
    assert p[STREAM["field"], second].tolist() == [0, 1, 2]
    assert p[STREAM["field"], eq:].tolist() == [-1, 0, 1, 2, 3]  # like the run streams: "=" at -1
    # answer token j sits where the value token it copies sits, in every field at once ...
    assert p[STREAM["field"], eq + 1:eq + 4].tolist() == p[STREAM["field"], second].tolist()
    # ... and "field_key" tells the fields apart: every token of a value sits where its opener does, one step from its
    # key's last token; every answer token where "=" does, one step from the key the question names (the real
    # grammar has "?" between: two steps)
    assert p[STREAM["field_key"], second].tolist() == [10, 10, 10]  # the ":" of end:
    assert p[STREAM["field_key"], eq:].tolist() == [eq] * 5
    assert p[STREAM["field_key"], eq - 1] == eq - 1  # everything else at its ordinary position
    # text and DNA sit far in "field"; the opener and closer are not in the value
    for i in (1, 3, 6, 10, 14, 16):
        assert p[STREAM["field"], i] >= FAR


def pointer(ids: torch.Tensor, aliases=None) -> tuple[torch.Tensor, torch.Tensor]:
    ids = ids[None] if ids.dim() == 1 else ids
    return field_pointer(ids, torch.ones_like(ids, dtype=torch.bool), token_table(64, [MARKER]), EOS, FAR,
                         token_table(64, [OPEN]), token_table(64, [CLOSE]), key_table(64, aliases))


def test_the_pointer_stream_aligns_the_answer_with_the_asked_field_alone():
    # <s> s y : a b , e n d : 4 2 9 , A C G T , e n d = 4 2 9 </s>: the question names the key "end" (its last token)
    prompt, answer = "sy:ab,end:429,ACGT,end=", "429"
    p, asked = (x[0] for x in pointer(ids_of(prompt, answer, eos=True)))
    base, eq = 2 * FAR, len(prompt)
    # a field is its opener (index 0), its value and its closer, around its opener's position x stride
    assert p[3:7].tolist() == [base + 3 * POINTER_STRIDE + i for i in range(4)]  # ":ab,"
    assert p[10:15].tolist() == [base + 10 * POINTER_STRIDE + i for i in range(5)]  # ":429,"
    # " =" and the answer sit on the asked field ("end", opened at 10): "=" at -1, answer token j at j, so the value
    # token each one predicts ("4" for "=", "2" for "4", ...) lies 2 steps on, in this field and no other
    assert p[eq:].tolist() == [base + 10 * POINTER_STRIDE + i for i in range(-1, 4)]
    assert asked.tolist() == [False] * eq + [True] * 5  # where pointer heads may write
    assert p[0] == FAR and p[8] == FAR + 8 and p[16] == FAR + 16  # keys, text and DNA sit far
    # a question that names no key of the prompt asks nothing: its answer sits far and pointer heads stay silent
    p, asked = pointer(ids_of("sy:ab,ACGT,rc=", "TT"))
    assert not asked.any() and (p[0, 10:] < 2 * FAR).all()
    # keys compare through their aliases ("Y" names "y"), and a later field with the named key wins
    _, asked = pointer(ids_of("sy:ab,ACGT,sY=", "ab"))
    assert not asked.any()
    Y, y = TOK.convert_tokens_to_ids(["Y", "y"])
    p, asked = pointer(ids_of("sy:ab,ACGT,sY=", "ab"), aliases=[[Y, y]])
    assert asked[0, -3:].all() and p[0, -2] == base + 3 * POINTER_STRIDE
    p, _ = pointer(ids_of("y:ab,y:cd,y=", "cd"))
    assert p[0, -2] == base + 7 * POINTER_STRIDE
    # a token that opens, holds and closes a value in one (";" here, "=+," in the real grammar) sits at index 1, where
    # a value's first token does: " =" and the answer reach it at the offsets they reach any value's tokens at
    semi = TOK.convert_tokens_to_ids(";")
    ids = ids_of("s;x:ab,s=", "+")[None]
    p, asked = field_pointer(ids, torch.ones_like(ids, dtype=torch.bool), token_table(64, [MARKER]), EOS, FAR,
                             token_table(64, [OPEN, semi]), token_table(64, [CLOSE, semi]), key_table(64, None))
    assert p[0, 2] == base + 2 * POINTER_STRIDE + 1 and p[0, 3] == FAR + 3  # ";" then "x", outside every field
    assert p[0, -2:].tolist() == [base + 2 * POINTER_STRIDE - 1, base + 2 * POINTER_STRIDE] and asked[0, -2:].all()


def test_pointer_heads_write_only_where_a_field_is_asked():
    model = stream_model()  # one head per stream, the pointer's included, every weight random
    silent = stream_model()
    h, hd = STREAMS.index("pointer"), model.config.head_dim
    with torch.no_grad():
        for layer in silent.model.layers:
            layer.self_attn.o_proj.weight[:, h * hd:(h + 1) * hd] = 0  # the same model, its pointer head mute
    other, asks = ids_of("k:TAG,ACGTA,rc=", "TACGT")[None], ids_of("sy:ab,end:429,ACGT,end=", "429")[None]
    eq = asks.shape[1] - 4  # the field question's " ="
    with torch.no_grad():
        assert torch.equal(model(other).logits, silent(other).logits)  # no field asked: not a bit differs
        a, b = model(asks).logits, silent(asks).logits
    assert torch.equal(a[:, :eq], b[:, :eq]) and not torch.allclose(a[:, eq:], b[:, eq:])


def test_pointer_heads_reach_the_asked_fields_prompt_tokens_alone():
    model = stream_model()
    ids = ids_of("sy:ab,end:429,ACGT,end=", "42")[None]  # "=" at 23, "4" "2" after it
    positions, asked = model.model.position_streams(ids, torch.ones_like(ids, dtype=torch.bool))
    reach = model.model._pointer_reach(positions[:, STREAMS.index("pointer")], asked, ids.shape[1])
    reach = reach[0, 0]
    for query in (23, 24, 25):  # " =" and the answer: the field "end" (":429," at 10-14), never themselves
        assert reach[query].nonzero().flatten().tolist() == list(range(10, 15))
    assert reach[12].nonzero().flatten().tolist() == [10, 11, 12]  # a value token: its field so far
    assert reach[8].nonzero().flatten().tolist() == [8]  # outside every field: itself alone


def aligned(ids: torch.Tensor, real: torch.Tensor | None = None, min_run: int = 4) -> torch.Tensor:
    ids = ids[None] if ids.dim() == 1 else ids
    real = torch.ones_like(ids, dtype=torch.bool) if real is None else real
    return aligned_sources(ids, real, token_table(64, DNA_IDS), token_table(64, [MARKER]), EOS, min_run)


def test_each_answer_token_lies_aligned_with_a_base_of_the_last_run():
    # <s> G G G G , A C G T T , c = T G C A A </s>: two runs; the answer is read against the last (6-10)
    prompt, answer = "GGGG,ACGTT,c=", "TGCAA"
    ids = ids_of(prompt, answer, eos=True)
    src = aligned(ids)[0]
    eq = len(TOK(prompt)["input_ids"]) - 1  # "=": it predicts answer token 0
    assert src[0, eq:eq + 5].tolist() == [6, 7, 8, 9, 10]  # from the run's start: what a complement copies
    assert src[1, eq:eq + 5].tolist() == [10, 9, 8, 7, 6]  # from its end: what a reverse copies
    assert (src[:, :eq] == -1).all() and (src[:, eq + 5:] == -1).all()  # the prompt; past the run (</s> is next)
    spaced = aligned(ids_of(prompt, " " + answer, eos=True))[0]  # a space before the bases: they align the same
    assert spaced[0, eq:eq + 7].tolist() == [6, 6, 7, 8, 9, 10, -1] and spaced[1, eq + 1] == 10
    short = aligned(ids_of("GGGG,AC,c=", "TG"))[0]  # too short a last run (2 < 4): the run before it
    assert short[:, -3:].tolist() == [[1, 2, 3], [4, 3, 2]]
    assert (aligned(ids_of("xy,c=", "ab")) == -1).all()  # no run: nothing aligned
    padded = torch.cat([torch.zeros(3, dtype=torch.long), ids])[None]  # left padding moves indices, nothing else
    real = padded != 0
    assert torch.equal(aligned(padded, real)[0, :, 3:], torch.where(src >= 0, src + 3, -1))


def test_the_aligned_copy_writes_the_base_its_gate_picks_and_nothing_where_none_is_offered():
    model, plain = stream_model(**ALIGNED), stream_model()  # the same weights; the gate lives in the config
    run = "ACGTTGCAACGTAGGCTTAC"
    complemented, backwards = run.translate(str.maketrans("ACGT", "TGCA")), run[::-1]
    with torch.no_grad():
        for text in ("xyz,rc=ab", "ACGTTGCA,rc", run + ",c= "):  # no run; no answer; no base yet: not a bit differs
            ids = ids_of(text)[None]
            assert torch.equal(model(ids).logits, plain(ids).logits)
        ids = ids_of(run + ",c= " + complemented[:3])[None]  # one base explains it (T: the start, complemented)
        a, b = model(ids).logits, plain(ids).logits
        assert torch.equal(a[:, :-3], b[:, :-3]) and not torch.allclose(a[:, -1], b[:, -1])
        for pick, want in ((2, complemented), (3, backwards)):  # start complemented; end as it is
            model = stream_model(aligned_gate=gate(HIDDEN, pick), dna_complement_ids=COMPLEMENTS)
            ids = ids_of(run + ",c= " + want[:2])[None]  # the answer begun (a random LM would not)
            out = model.generate(ids, max_new_tokens=len(run) - 2, do_sample=False)
            assert TOK.decode(out[0, ids.shape[1]:]).replace(" ", "") == want[2:]  # at any length, no training


def test_an_alignment_is_offered_once_it_alone_explains_the_answer_and_while_it_does():
    model = stream_model(**ALIGNED)
    prompt = "ACGTTTGCAA,c= "
    ids = ids_of(prompt, "TGCAT")[None]  # a complement for four bases, then a base it does not write
    writes = model.model.position_streams.aligned_writes(ids, torch.ones_like(ids, dtype=torch.bool))[0]
    space = len(TOK(prompt)["input_ids"]) - 1
    assert (writes[:, :space + 2] == -1).all()  # the prompt, "=", no base yet (four ways), T (start and end
    # complemented both wrote it)
    assert writes[1, space + 2:space + 5].tolist() == [C, A, A]  # G: the start complemented alone; it follows
    assert (writes[[0, 2, 3], space + 2:] == -1).all()
    assert (writes[:, space + 5] == -1).all()  # T where A was due: no alignment is left; the LM writes on
    label = ids_of("ACGTTTGCAA,c= ", "xyz")[None]  # an answer with no bases: every way alike, never offered
    assert (model.model.position_streams.aligned_writes(label, torch.ones_like(label, dtype=torch.bool)) == -1).all()


def test_short_open_and_repeated_runs():
    # a 3-base run (below min_run 4) is text; two closed runs are each indexed from their own ends
    p = positions(ids_of("ACG,TTTT,GGGGA,x="))[0]
    assert p[STREAM["run_start"], 1:4].tolist() == [FAR + 1, FAR + 2, FAR + 3]
    assert p[STREAM["run_start"], 5:9].tolist() == [0, 1, 2, 3]
    assert p[STREAM["run_end"], 10:15].tolist() == [4, 3, 2, 1, 0]
    # a run still open at the end of the input is not yet a run: its end is unknown
    p = positions(ids_of("x,ACGTACGT"))[0]
    assert (p[STREAM["run_end"], 3:] >= FAR).all()
    # after </s> a new question starts: its DNA is prompt again, not answer
    two_questions = torch.cat([ids_of("ACGT,a=", "TT", eos=True), ids_of("GGCC,b=")[1:]])  # no second <s>
    p = positions(two_questions)[0]
    second_run = slice(11, 15)
    assert p[STREAM["run_start"], second_run].tolist() == [0, 1, 2, 3]


def test_content_heads_read_a_bag_of_tokens():
    # "content" puts every token at 0 (rotary is the identity) ...
    p = positions(ids_of("ACGTTG,rc=", "ab"))[0]
    assert (p[STREAM["content"]] == 0).all()
    # ... so one layer of content-only heads (no convolution) answers the same whatever the order of the bases before
    # its last token: the mean a count needs, at any length; ordinary positions (the control) do not
    bases, shuffled = ids_of("ACGTTGCAAT,gc="), ids_of("TTAACGGCAT,gc=")
    for streams, same in ((["content"] * 2, True), (["token"] * 2, False)):
        model = stream_model(num_layers=1, conv_kernel_size=0, num_attention_heads=2, num_key_value_heads=2,
                             position_streams=streams)
        with torch.no_grad():
            a, b = (model(input_ids=ids[None]).logits[0, -1] for ids in (bases, shuffled))
        assert torch.allclose(a, b, atol=1e-5) == same


def test_left_padding_does_not_move_positions():
    rows = [ids_of("ACGTTG,rc=", "ab"), ids_of("AC,x=", "b")]
    ids, mask = left_pad(rows)
    padded = positions(ids, mask.bool())
    for i, row in enumerate(rows):
        alone = positions(row)[0]
        assert torch.equal(padded[i, :, -len(row):], alone)


def test_config_checks_streams():
    with pytest.raises(ValueError, match="one per query head"):
        stream_config(position_streams=["token", "run_end"])
    with pytest.raises(ValueError, match="unknown"):
        stream_config(position_streams=["token"] * (len(STREAMS) - 1) + ["diagonal"])
    with pytest.raises(ValueError, match="field_open_token_ids"):
        stream_config(field_open_token_ids=None)
    with pytest.raises(ValueError, match="answer_marker_token_ids"):
        stream_config(answer_marker_token_ids=None)
    with pytest.raises(ValueError, match="num_key_value_heads"):
        stream_config(num_key_value_heads=2)
    with pytest.raises(ValueError, match="conv_kernel_size"):
        stream_config(conv_kernel_size=-1)
    with pytest.raises(ValueError, match="aligned copy"):
        stream_config(position_streams=None, **ALIGNED)
    with pytest.raises(ValueError, match="aligned_gate needs"):
        stream_config(aligned_gate={"weight": [[0.0] * HIDDEN] * 4, "bias": [0.0] * 5})
    plain = tiny_config(position_streams=["token"] * 4)  # all-ordinary streams are plain RoPE: nothing else needed
    assert not plain.uses_streams and stream_config().uses_streams
    assert stream_config().layer_types == ["hybrid", "hybrid"]  # the cache keeps conv states beside keys/values


@pytest.mark.parametrize("overrides", [{}, {"conv_kernel_size": 0}, {"position_streams": None},
                                       ALIGNED],
                         ids=["streams+conv", "streams", "conv", "streams+conv+aligned"])
def test_cached_decoding_matches_full_forward(overrides):
    model = stream_model(**overrides)
    prompt = ids_of("ACGTTGCA,rc=")
    answer = torch.randint(4, 40, (10,), generator=torch.Generator().manual_seed(3))
    ids = torch.cat([prompt, answer])[None]
    n = len(prompt)
    with torch.no_grad():
        torch.testing.assert_close(decoded_in_steps(model, ids, [n, 3]), model(ids).logits, rtol=0, atol=1e-5)


def decoded_in_steps(model, ids: torch.Tensor, chunks: list[int]) -> torch.Tensor:
    """The logits of `ids` fed through a cache: the first chunks as given (a prefill, then a few tokens at once),
    the rest one token at a time, each step with the whole history."""
    from transformers import DynamicCache

    cache, steps, t = DynamicCache(config=model.config), [], 0
    sizes = list(chunks) + [1] * (ids.shape[1] - sum(chunks))
    for size in sizes:
        steps.append(model(ids[:, t:t + size], cache=cache, use_cache=True, history_ids=ids[:, :t + size]).logits)
        t += size
    return torch.cat(steps, dim=1)


@pytest.mark.parametrize("overrides", [{}, ALIGNED], ids=["streams", "streams+aligned"])
def test_generate_left_padded_batch_equals_one_by_one_and_full_forward(overrides):
    model = stream_model(**overrides)
    TOK.padding_side = "left"
    prompts = ["ACGTTGCA,rc=", "GGA,x=", "TTTTACGT,c=", "k:TAG,v:GC,ACGTA,v="]  # the last asks field v (pointer)
    batch = TOK(prompts, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.generate(**batch, max_new_tokens=8, do_sample=False, min_new_tokens=8,
                             output_scores=True, return_dict_in_generate=True)
        new = out.sequences[:, batch["input_ids"].shape[1]:]
        for i, prompt in enumerate(prompts):
            single = TOK(prompt, return_tensors="pt")
            alone = model.generate(**single, max_new_tokens=8, do_sample=False, min_new_tokens=8)
            assert torch.equal(new[i], alone[0, single["input_ids"].shape[1]:])
            full = model(alone).logits[0, single["input_ids"].shape[1] - 1:-1]  # the logits each step chose from
            full[:, EOS] = float("-inf")  # as min_new_tokens does
            steps = torch.stack([s[i] for s in out.scores])
            assert torch.equal(full.argmax(-1), steps.argmax(-1))
        beams = model.generate(**batch, max_new_tokens=6, num_beams=3, do_sample=False)
    assert beams.shape[0] == len(prompts)


def test_stream_model_needs_ids_and_history():
    model = stream_model()
    ids = ids_of("ACGTTGCA,rc=")[None]
    with pytest.raises(ValueError, match="input_ids"):
        model(inputs_embeds=model.get_input_embeddings()(ids))
    with pytest.raises(ValueError, match="position streams"):
        model(ids, position_ids=torch.arange(ids.shape[1])[None])
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config)
    with torch.no_grad():
        model(ids, cache=cache, use_cache=True)
        with pytest.raises(ValueError, match="history_ids"):
            model(ids[:, :1], cache=cache, use_cache=True)

