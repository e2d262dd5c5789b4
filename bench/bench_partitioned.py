"""Partitioned validation benchmark (issue 16): time and peak memory of ``validate --partition``.

Each measurement is the real command (``python -m bepgraph.cli validate``)
in a subprocess; its memory is sampled from /proc for the whole process
tree (the command, the pool's workers and their forked validation
children): the peak of the sum of their RSS, and of their PSS (shared
copy-on-write pages counted once, which is what the machine really
spends); its CPU seconds too, whose ratio to the wall time says how many
cores it got on a machine shared with other work. At ``--at`` trades the unpartitioned run and the partitioned runs
with each ``--workers`` count are alternated ``--rounds`` times and their
findings compared byte for byte; at ``--big`` trades only the partitioned
run with the most workers is measured (the unpartitioned run does not fit),
first, so that a lock held for less time than both still gives it.

Run it under the shared lock:

    flock /tmp/bepgraph-bench.lock .venv/bin/python bench/bench_partitioned.py --at 1000000 --big 10000000

The 2-over-1 speed-up on a quiet machine (about five minutes; the last line
is the summary: ``speedup.2_over_1`` against its ``target``, and the cores
each run obtained, which must be near 1 and 2 for the figure to mean
anything):

    flock /tmp/bepgraph-bench.lock .venv/bin/python bench/bench_partitioned.py --at 300000 --workers 1 2 --rounds 2 --skip-plain
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bundles import generate  # bench/ is on sys.path when a benchmark runs as a script

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "partitioned.json"
AS_OF = "2005-07-31"


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                parent = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(parent, []).append(int(entry))
    return tree


def _kib(path: str, field: str) -> int:
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory:
    """Samples the RSS and PSS of a process and all its descendants until stopped; keeps the peaks."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        self.pid, self.every = pid, every
        self.peak_rss = self.peak_pss = 0
        self.processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            tree = _children()
            todo, pids = [self.pid], []
            while todo:
                pid = todo.pop()
                pids.append(pid)
                todo.extend(tree.get(pid, []))
            rss = sum(_kib(f"/proc/{p}/status", "VmRSS:") for p in pids)
            pss = sum(_kib(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.processes = max(self.processes, len(pids))
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(name: str, bundle: Path, extra: list[str], out: Path, cores: set[int] | None = None) -> dict[str, object]:
    """One ``validate`` run: wall time, peak tree memory, exit code, findings written to *out*; confined to
    the CPUs *cores* when given (its pool's workers inherit the affinity)."""
    cmd = [sys.executable, "-m", "bepgraph.cli", "validate", str(bundle), "--as-of", AS_OF, "--format", "json", *extra]
    before = load_average()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with out.open("wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.PIPE, cwd=ROOT,
                                preexec_fn=None if cores is None else lambda: os.sched_setaffinity(0, cores))
        memory = TreeMemory(proc.pid)
        _, err = proc.communicate()
    wall = time.perf_counter() - started
    memory.stop()
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and every process it waited for
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    row = {"run": name, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
           "cores_obtained": round(cpu / wall, 2), "cpus_allowed": sorted(cores) if cores else None,
           "exit": proc.returncode,
           "peak_rss_gb": round(memory.peak_rss / 2**20, 2), "peak_pss_gb": round(memory.peak_pss / 2**20, 2),
           "processes": memory.processes, "load_before": before, "load_after": load_average()}
    if proc.returncode not in (0, 1):
        row["error"] = err.decode(errors="replace").strip().splitlines()[-3:]
    print(json.dumps(row), flush=True)
    return row


def _phases(findings_file: Path) -> dict[str, object]:
    if not findings_file.is_file():
        return {}
    prov = json.loads(findings_file.read_text(encoding="utf-8"))["provenance"]
    rows = [sum(p["rows"].values()) for p in prov["partitions"]]
    busy: dict[int, float] = {}
    for p in prov["partitions"]:
        busy[p["worker"]] = busy.get(p["worker"], 0.0) + p.get("seconds", 0.0)
    return {"seconds": prov["seconds"], "partitions": len(rows), "largest_partition_rows": max(rows),
            "carried": sum(p["carried"] for p in prov["partitions"]),
            "partition_s": [round(p.get("seconds", 0.0), 1) for p in prov["partitions"]],
            # each worker's time on its partitions: unequal totals mean one worker idled at the end
            "worker_busy_s": sorted((round(v, 1) for v in busy.values()), reverse=True)}


def _speedup(runs: list[dict[str, object]], trades: int, workers: list[int]) -> dict[str, object]:
    """The 2-over-1 (most-over-1) speed-up of the medians, with what says whether the machine allowed it."""
    def median(w: int, key: str) -> float:
        return statistics.median(float(x[key]) for x in runs  # type: ignore[arg-type]
                                 if x.get("workers") == w and x["trades"] == trades and x["exit"] in (0, 1))

    most = max(workers)
    validate = {w: statistics.median(float(x["seconds"]["validate"]) for x in runs  # type: ignore[index]
                                     if x.get("workers") == w and x["trades"] == trades and "seconds" in x)
                for w in (1, most)}
    return {f"{most}_over_1": round(median(1, "wall_s") / median(most, "wall_s"), 2),
            f"{most}_over_1_validate_phase": round(validate[1] / validate[most], 2),
            "wall_s": {w: median(w, "wall_s") for w in (1, most)},
            "cores_obtained": {w: median(w, "cores_obtained") for w in (1, most)},
            "target": 1.7}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--at", type=int, default=1_000_000, help="trades of the comparison run (default 1M)")
    ap.add_argument("--big", type=int, default=0, help="trades of the scale run (0: none)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--partition", choices=["series", "year"], default="series")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--skip-plain", action="store_true", help="do not run the unpartitioned validation")
    ap.add_argument("--cores-per-worker", type=int, default=0,
                    help="confine a run with W workers to W x N CPUs (strong scaling: the same CPUs per worker "
                         "whatever W; a worker's own threads stay on its share); 0: the whole machine")
    args = ap.parse_args()

    def cpus(w: int) -> set[int] | None:
        if not args.cores_per_worker:
            return None
        wanted = set(range(w * args.cores_per_worker))
        if not wanted <= os.sched_getaffinity(0):
            raise SystemExit(f"{w} worker(s) x {args.cores_per_worker} CPU(s): this machine has "
                             f"{len(os.sched_getaffinity(0))} CPU(s) for this process")
        return wanted

    report: dict[str, object] = {"as_of": AS_OF, "partition": args.partition, "cores": os.cpu_count(),
                                 "cores_per_worker": args.cores_per_worker or None, "runs": []}
    runs: list[dict[str, object]] = report["runs"]  # type: ignore[assignment]
    with tempfile.TemporaryDirectory(prefix="bench-partitioned-") as tmp:
        out = Path(tmp)
        if args.big:
            bundle = generate(args.big)
            w = max(args.workers)
            saved = out / "big-provenance.json"
            row = measure(f"partitioned, {w} worker(s)", bundle,
                          ["--partition", args.partition, "--workers", str(w), "--findings-file", str(saved)],
                          out / "big.json")
            row.update(_phases(saved))
            counts = json.loads((out / "big.json").read_text())["counts"] if row["exit"] in (0, 1) else None
            runs.append({"trades": args.big, "workers": w, "counts": counts, **row})
        if args.at:
            bundle = generate(args.at)
            for r in range(args.rounds):
                plain = out / "plain.json"
                if not args.skip_plain:
                    runs.append({"trades": args.at, "round": r, **measure("unpartitioned", bundle, [], plain)})
                for w in args.workers:
                    found, saved = out / f"p{w}.json", out / f"p{w}-provenance.json"
                    row = measure(f"partitioned, {w} worker(s)", bundle,
                                  ["--partition", args.partition, "--workers", str(w), "--findings-file", str(saved)],
                                  found, cpus(w))
                    row.update(_phases(saved))
                    print(json.dumps({"phases": row["run"], **_phases(saved)}), flush=True)
                    if not args.skip_plain:
                        row["same_findings_as_unpartitioned"] = found.read_bytes() == plain.read_bytes()
                    if w != args.workers[0]:
                        row["same_findings_as_first"] = found.read_bytes() == (out / f"p{args.workers[0]}.json").read_bytes()
                    runs.append({"trades": args.at, "round": r, "workers": w, **row})
            if 1 in args.workers and len(set(args.workers)) > 1:
                report["speedup"] = _speedup(runs, args.at, args.workers)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "runs"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
