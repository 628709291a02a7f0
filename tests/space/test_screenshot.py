"""space/screenshot.py: a headless Chromium opens the served app with a question in the URL and screenshots the
answer. The PNG goes to pytest's tmp_path: the committed space/screenshot.png is only rewritten by
`python -m space.screenshot --out space/screenshot.png`."""

import pytest


@pytest.fixture(scope="module")
def chromium():
    from space.screenshot import find_chromium

    path = find_chromium()
    if not path:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium); the browser check needs it")
    return path


def test_headless_browser_shows_the_answer(server, chromium, tmp_path):
    from space.app import EXAMPLE_SEQ
    from space.screenshot import ANSWERED, capture, question_url
    from tasks.grammar import exact_answer

    png = tmp_path / "answer.png"
    text = capture(question_url(server), png, ANSWERED, timeout=90, chromium=chromium)
    assert "Model's answer" in text and exact_answer("gc_content", EXAMPLE_SEQ[:60]) in text
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_line_writes_where_it_is_told(server, chromium, tmp_path, capsys):
    from space.screenshot import main, question_url

    out = tmp_path / "shot.png"
    main(["--out", str(out), "--url", question_url(server, "translate"), "--wait-for", "Routed to task nt2aa"])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"wrote {out}" in capsys.readouterr().out
