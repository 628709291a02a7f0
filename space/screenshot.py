"""A headless-Chromium look at the running Space: open a page, wait for a text to appear, save a PNG.

Uses the Debian `chromium` binary and its DevTools protocol over a websocket (the `websockets` package Gradio
already installs): no Playwright/Selenium, no browser download. `--dump-dom` / `--screenshot` alone do not wait for
Gradio's JavaScript to fetch the answer, so the page text is polled until `wait_for` shows up.

    python -m space.screenshot "http://127.0.0.1:7860/?q=what%27s+the+GC+content%3F&seq=ACGT..." space/screenshot.png
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


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


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        raise SystemExit(__doc__)
    text = capture(argv[0], argv[1], argv[2:] or ["Model's answer"])
    print(text[:3000])


if __name__ == "__main__":
    main()
