"""Run-relative position streams (modeling/positions_genomicllm.py) and the short convolution: the positions each
stream gives on grammar prompts, padding invariance, and cached generation equal to a full forward with both on."""

from __future__ import annotations

import pytest
import torch

from modeling.configuration_genomicllm import GenomicLLMConfig
from modeling.modeling_genomicllm import GenomicLLMForCausalLM
from modeling.positions_genomicllm import (POINTER_STRIDE, STREAMS, field_pointer, key_table, stream_positions,
                                          token_table)

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
    plain = tiny_config(position_streams=["token"] * 4)  # all-ordinary streams are plain RoPE: nothing else needed
    assert not plain.uses_streams and stream_config().uses_streams
    assert stream_config().layer_types == ["hybrid", "hybrid"]  # the cache keeps conv states beside keys/values


@pytest.mark.parametrize("overrides", [{}, {"conv_kernel_size": 0}, {"position_streams": None}],
                         ids=["streams+conv", "streams", "conv"])
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


def test_generate_left_padded_batch_equals_one_by_one_and_full_forward():
    model = stream_model()
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

