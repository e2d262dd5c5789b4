"""Screenshots of the four /viz views at 1400×900 and of page 1 of the board pack, for the README.

Starts ``bepgraph serve`` on a free port of 127.0.0.1 with the example
bundle, photographs each view with headless Chromium (Debian's
``chromium``), writes a board pack and renders its first page with poppler's
``pdftoppm``. Run from the repository: ``python docs/make_screenshots.py``.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
VIEWS = {
    "structure": "view=structure",
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


def shoot(url: str, out: Path, profile: Path) -> None:
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1400,900", f"--user-data-dir={profile}", "--virtual-time-budget=20000",
                    f"--screenshot={out}", url], check=True, capture_output=True, timeout=120)


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
            for name, query in VIEWS.items():
                shoot(f"{base}/viz?{query}", args.out / f"viz-{name}.png", Path(tmp) / "profile")
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
