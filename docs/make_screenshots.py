"""Screenshots of the four /viz views at 1400×900 and of page 1 of the board pack, for the README.

Starts ``bepgraph serve`` on a free port of 127.0.0.1 with the example
bundle, photographs each view with headless Chromium (Debian's
``chromium``), writes a board pack and renders its first page with poppler's
``pdftoppm``. Run from the repository: ``python docs/make_screenshots.py``.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from websockets.sync.client import ClientConnection, connect

HERE = Path(__file__).resolve().parent
VIEWS = {
    "structure": "view=structure",
    "structure-expanded": "view=structure&expand=all",
    "control": "view=control",
    "money": "view=money",
    "governance": "view=governance&from=2002-01-01",
}
AS_OF = "2004-12-31"
RUN = "import sys; from bepgraph.cli import main; sys.exit(main(sys.argv[1:]))"  # the installed command, run by this Python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, deadline_s: float = 120.0) -> None:
    until = time.monotonic() + deadline_s
    while time.monotonic() < until:
        try:
            if httpx.get(url + "/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)  # poll interval; the deadline bounds the wait
    raise SystemExit(f"bepgraph serve did not answer at {url} within {deadline_s}s")


class Tab:
    """One headless Chromium tab over the DevTools protocol, its screen emulated at 1400×900 CSS pixels.

    Why not ``chromium --screenshot``: its page is laid out for a viewport
    shorter than the window and then photographed at the window's size, so
    a view that fits 1400×900 is drawn for a smaller screen.
    """

    def __init__(self, ws: ClientConnection) -> None:
        self.ws, self.ids = ws, itertools.count(1)
        self.send("Emulation.setDeviceMetricsOverride", width=1400, height=900, deviceScaleFactor=1, mobile=False)

    def send(self, method: str, **params: object) -> dict[str, object]:
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=120))
            if message.get("id") == ident:
                return message.get("result", {})  # type: ignore[no-any-return]

    def shoot(self, url: str, out: Path) -> None:
        """Open *url*, wait until the page says it is drawn (and its quarter slider is there), save a PNG."""
        self.send("Page.navigate", url=url)
        ready = ("document.readyState === 'complete' && document.body.dataset.state === 'ready'"
                 " && document.getElementById('quarter') !== null")
        until = time.monotonic() + 120
        while not self.send("Runtime.evaluate", expression=ready, returnByValue=True)["result"].get("value"):  # type: ignore[union-attr]
            if time.monotonic() > until:
                raise SystemExit(f"{url} was not drawn within 120 s")
            time.sleep(0.1)  # poll interval; the deadline bounds the wait
        out.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))  # type: ignore[arg-type]



@contextmanager
def tab(profile: Path) -> Iterator[Tab]:
    """A headless Chromium with a fresh *profile*, and one tab in it."""
    proc = subprocess.Popen(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file, until = profile / "DevToolsActivePort", time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > until or proc.poll() is not None:
                raise SystemExit("chromium did not open its DevTools port")
            time.sleep(0.05)  # poll interval; the deadline bounds the wait
        devtools = f"http://127.0.0.1:{port_file.read_text().split()[0]}"
        with connect(httpx.put(f"{devtools}/json/new?about:blank").json()["webSocketDebuggerUrl"],
                     max_size=None) as ws:
            yield Tab(ws)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "screenshots")
    args = parser.parse_args()
    for tool in ("chromium", "pdftoppm"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed (apt-get install chromium poppler-utils)")
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", RUN, "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)
        with tempfile.TemporaryDirectory() as tmp:
            with tab(Path(tmp)) as page:
                for name, query in VIEWS.items():
                    page.shoot(f"{base}/viz?{query}", args.out / f"viz-{name}.png")
                    print(f"wrote {args.out / f'viz-{name}.png'}")
            pack = Path(tmp) / "pack.pdf"
            subprocess.run([sys.executable, "-c", RUN, "board-pack", "--as-of", AS_OF, "--since", "2004-06-30",
                            "-o", str(pack)], check=True, capture_output=True)
            subprocess.run(["pdftoppm", "-r", "110", "-png", "-f", "1", "-l", "1", "-singlefile", str(pack),
                            str(args.out / "pack-page1")], check=True)
            print(f"wrote {args.out / 'pack-page1.png'}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
