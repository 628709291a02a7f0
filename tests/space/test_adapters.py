"""space/adapters.py and the Classify tab: a fine-tuned folder's task joins the tab and is answered by its own model
(the base's tabs unchanged); a classification-head adapter gives its softmax, averaged over windows of a long
sequence; bad input gets the Space's friendly message. The tiny base and adapter, no server."""

from __future__ import annotations

import pytest

gradio = pytest.importorskip("gradio")

SEQ = "GGGCCCATGGCCGGGCATCCGG"


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture
def app(tiny_base, tiny_adapter, monkeypatch):
    from space import adapters, app

    monkeypatch.setenv("GENOMICLLM_MODEL", str(tiny_base))
    monkeypatch.delenv("GENOMICLLM_REVISION", raising=False)
    monkeypatch.setenv(adapters.ENV, str(tiny_adapter))
    app.STATE.clear()
    yield app
    app.STATE.clear()


@pytest.fixture(scope="module")
def head_adapter(tiny_base, labelled_csv, tmp_path_factory):
    from finetune.adapt.run import finetune
    from finetune.adapt.train_adapter import AdaptConfig
    from finetune.adapt.userdata import load_user_data
    from tasks.custom import custom_task

    data = load_user_data(labelled_csv)
    out = tmp_path_factory.mktemp("head") / "gc_head"
    finetune(data, custom_task("gc_head", "GC rich", data.labels), out,
             AdaptConfig(objective="head", epochs=1, tokens_per_batch=400, steps=2), tiny_base, progress=False)
    return out


def test_the_adapters_task_joins_the_classify_tab(app):
    demo = app.build_demo()
    drop = next(b for b in demo.blocks.values() if isinstance(b, gradio.Dropdown) and b.label == "Question")
    choices = [c[0] if isinstance(c, (tuple, list)) else c for c in drop.choices]
    assert choices[-1] == "gc_rich" and "promoter" in choices and drop.value == "gc_rich"


def test_the_adapter_answers_its_task_and_the_base_stays_the_base(app):
    md, probs = app.do_classify("gc_rich", f">mine\n{SEQ.lower()}\n", None, progress=None)
    assert "gc_rich" in md and set(probs) == {"no", "yes"} and abs(sum(probs.values()) - 1) < 1e-4
    own = app.get_adapters()["gc_rich"]
    _, base = app.get_model()
    assert own.model is not base and not any("lora" in n for n, _ in base.named_modules())
    md, probs = app.do_classify("promoter", SEQ, None, progress=None)  # a built-in task, on the plain base
    assert "promoter" in md and set(probs) == {"yes", "no"}


def test_bad_input_to_the_adapters_task_gets_the_friendly_message(app):
    with pytest.raises(gradio.Error) as e:
        app.do_classify("gc_rich", "ACGTXXACGT", None, progress=None)
    assert "X" in e.value.message and e.value.title == "Input problem"
    with pytest.raises(gradio.Error, match="a head of its own; GUE/tf_2 names one of the shipped model's heads"):
        app.do_classify("gc_rich", SEQ, None, "GUE/tf_2", progress=None)  # never silently ignored


def test_a_head_adapter_gives_its_softmax_averaged_over_windows(head_adapter, tiny_base):
    from space import adapters, core

    [(name, a)] = adapters.load_all([str(head_adapter)], str(tiny_base)).items()
    assert name == "gc_head" and a.head
    res = adapters.answer(a, SEQ)
    assert res.value in ("no", "yes") and abs(sum(res.probs.values()) - 1) < 1e-4 and not res.windowed
    long = SEQ * 40  # 880 nt: longer than one question of the 128-token context holds
    res = adapters.answer(a, long)
    assert res.windowed and res.windows[-1].end == len(long) and abs(sum(res.probs.values()) - 1) < 1e-4
    assert "windows" in core.markdown(res)
