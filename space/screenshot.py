"""A headless-Chromium look at the Space: open a page, wait for a text to appear, save a PNG.

Uses the Debian `chromium` binary and its DevTools protocol over a websocket (the `websockets` package Gradio
already installs): no Playwright/Selenium, no browser download. `--dump-dom` / `--screenshot` alone do not wait for
Gradio's JavaScript to fetch the answer, so the page text is polled until `wait_for` shows up.

    python -m space.screenshot --out space/screenshot.png     # regenerate the README's screenshot (committed)
    python -m space.screenshot --out shot.png [--url http://127.0.0.1:7860/] [--model DIR] [--wait-for TEXT ...]

Without --url it serves the app itself on a free loopback port and asks the README's question (`QUESTION` about
the first 60 nt of the app's example sequence, through the `?q=...&seq=...` page parameters).
"""

from __future__ import annotations

import argparse
import base64
import os
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

QUESTION = "what is the GC content?"
ANSWERED = ["Routed to task gc_content", "Exact answer"]  # on the page once the answer is shown


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


class _CDP:
    def __init__(self, ws_url: str):
        from websockets.sync.client import connect

        self.ws = connect(ws_url, max_size=64 * 2**20, open_timeout=20)
        self.next_id = 0

    def call(self, method: str, timeout: float = 30, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def close(self):
        self.ws.close()


def capture(url: str, png: Path | str | None, wait_for: str | list[str] = (), timeout: float = 60,
            size: tuple[int, int] = (1280, 1700), chromium: str | None = None) -> str:
    """Open `url` headless, wait until every string of `wait_for` is in the page text, screenshot it to `png`;
    returns the page's visible text. TimeoutError (with the text seen) if the strings never appear."""
    chromium = chromium or find_chromium()
    if not chromium:
        raise FileNotFoundError("no chromium binary on PATH (Debian: apt-get install chromium)")
    wanted = [wait_for] if isinstance(wait_for, str) else list(wait_for)
    profile = tempfile.mkdtemp(prefix="genomicllm_chromium_")
    proc = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={profile}",
         f"--window-size={size[0]},{size[1]}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cdp = None
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.is_file() or not port_file.read_text().strip():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = next(t for t in targets if t.get("type") == "page")
        cdp = _CDP(page["webSocketDebuggerUrl"])
        cdp.call("Emulation.setDeviceMetricsOverride", width=size[0], height=size[1], deviceScaleFactor=1,
                 mobile=False)
        cdp.call("Page.navigate", url=url)
        text, deadline = "", time.monotonic() + timeout
        while time.monotonic() < deadline:
            res = cdp.call("Runtime.evaluate", expression="document.body ? document.body.innerText : ''",
                           returnByValue=True)
            text = res.get("result", {}).get("value") or ""
            if text and all(w in text for w in wanted):
                break
            time.sleep(0.5)
        else:
            raise TimeoutError(f"{wanted} not on the page after {timeout:.0f} s; page text: {text[:2000]!r}")
        time.sleep(1.0)  # let plots and fonts settle
        if png:
            shot = cdp.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
            Path(png).write_bytes(base64.b64decode(shot["data"]))
        return text
    finally:
        if cdp is not None:
            try:
                cdp.close()
            except Exception:  # noqa: BLE001, S110 - closing a dead socket
                pass
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def question_url(base: str, question: str = QUESTION, sequence: str | None = None) -> str:
    """The page of `base` with `question` asked about `sequence` (default: the app's example, first 60 nt)."""
    if sequence is None:
        from .app import EXAMPLE_SEQ

        sequence = EXAMPLE_SEQ[:60]
    return f"{base.rstrip('/')}/?{urlencode({'q': question, 'seq': sequence})}"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="PNG to write")
    p.add_argument("--url", help="page of a running Space (default: serve the app here and ask QUESTION)")
    p.add_argument("--model", help="model the served app loads (default: $GENOMICLLM_MODEL or release/GenomicLLM)")
    p.add_argument("--wait-for", nargs="+", help="texts the page must show before the screenshot")
    p.add_argument("--timeout", type=float, default=90)
    args = p.parse_args(argv)
    demo, url = None, args.url
    if not url:
        from .app import serve

        if args.model:
            os.environ["GENOMICLLM_MODEL"] = args.model
        demo = serve(port=None, block=False)
        url = question_url(demo.local_url)
    try:
        capture(url, args.out, args.wait_for or (ANSWERED if demo else ["Model's answer"]), args.timeout)
    finally:
        if demo is not None:
            demo.close()
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
