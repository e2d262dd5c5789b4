"""Timeouts under load (issue 13): N explosive queries at once against ``bepgraph serve``, small queries meanwhile.

Starts ``bepgraph serve`` on a generated bundle (a real uvicorn process on
127.0.0.1, store in memory) with ``BEPGRAPH_QUERY_TIMEOUT``, then for each
round sends ``--explosive`` cartesian-product queries at once and, while they
run, small queries one after another on one connection. Reports the worst
time to the 503 of an explosive query (target: timeout + 1 s) and the
median and worst latency of the small queries meanwhile; writes
``bench/out/timeouts.json``.

    flock /tmp/bepgraph-bench.lock python bench/bench_timeouts.py --trades 10000 --timeout-s 3 --explosive 4 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from bench_sparql import BEPGRAPH, free_port, wait_until  # bench/ is on sys.path when run as a script
from bundles import generate

HERE = Path(__file__).resolve().parent
EXPLOSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
SMALL = "ASK { ?s a ?type }"


def one_round(base: str, explosive: int) -> tuple[list[float], list[int], list[float]]:
    seconds: list[float] = []
    statuses: list[int] = []

    def explode() -> None:
        start = time.monotonic()
        answer = httpx.get(base + "/sparql", params={"query": EXPLOSIVE}, timeout=120)
        seconds.append(time.monotonic() - start)
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=explode) for _ in range(explosive)]
    for thread in threads:
        thread.start()
    small: list[float] = []
    with httpx.Client(timeout=120) as client:
        while any(t.is_alive() for t in threads):
            start = time.monotonic()
            assert client.get(base + "/sparql", params={"query": SMALL}).status_code == 200
            small.append(time.monotonic() - start)
    for thread in threads:
        thread.join()
    return seconds, statuses, small


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trades", type=int, default=10_000)
    parser.add_argument("--timeout-s", type=float, default=3.0)
    parser.add_argument("--explosive", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bundle = generate(args.trades)
    port = free_port()
    env = {**os.environ, "BEPGRAPH_QUERY_TIMEOUT": str(args.timeout_s)}
    process = subprocess.Popen([str(BEPGRAPH), "serve", "--port", str(port), str(bundle)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(base + "/sparql", process, {"query": "ASK {}"})
        worst: list[float] = []
        small: list[float] = []
        statuses: list[int] = []
        for _ in range(args.rounds):
            seconds, round_statuses, round_small = one_round(base, args.explosive)
            worst.append(max(seconds))
            statuses += round_statuses
            small += round_small
    finally:
        process.terminate()
        process.wait(timeout=60)
    result = {"trades": args.trades, "timeout_s": args.timeout_s, "explosive": args.explosive,
              "rounds": args.rounds, "cores": os.cpu_count(), "statuses": sorted(set(statuses)),
              "worst_s": round(max(worst), 3), "worst_per_round_s": [round(w, 3) for w in worst],
              "small_count": len(small), "small_median_ms": round(1000 * statistics.median(small), 1),
              "small_worst_ms": round(1000 * max(small), 1)}
    print(json.dumps(result, indent=2))
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "timeouts.json").write_text(json.dumps(result, indent=2) + "\n")
    if max(worst) >= args.timeout_s + 1.0:
        sys.exit(f"worst {max(worst):.2f} s is over timeout + 1 s")


if __name__ == "__main__":
    main()
