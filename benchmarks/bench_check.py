"""How long `simmatch check MODEL --random-q N` takes, and how much of it is engine start-up.

    python benchmarks/bench_check.py [--model hopper] [--random-q 100] [--repeat 3]

1. The command itself, as a user runs it (a fresh process: Python, simmatch and engine imports,
   report writing), wall time, median of --repeat runs.
2. The same check in-process, broken down: model loading and the numpy reference, the engine phase
   (six isolated child processes, two at a time), comparing. For every engine x load mode: its
   start-up (fork, engine import, model build, readback: everything before the first sample) and
   its sample work (frames and COMs at N+1 q, dynamics at N states).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time


def cli_wall(model: str, n: int, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            p = subprocess.run([sys.executable, "-m", "simmatch.cli.app", "check", model, "--random-q", str(n),
                                "--out", tmp], capture_output=True, text=True)
            out.append(time.perf_counter() - t)
            if p.returncode not in (0, 1):
                raise SystemExit(f"check failed ({p.returncode}): {p.stderr[-2000:]}")
    return out


def breakdown(model: str, n: int, repeat: int) -> dict:
    from simmatch.compare.run import run_check

    runs = [run_check(model, random_q=n).timing for _ in range(repeat)]
    runs.sort(key=lambda t: t["total"])
    return runs[len(runs) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="hopper")
    ap.add_argument("--random-q", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    walls = cli_wall(args.model, args.random_q, args.repeat)
    t = breakdown(args.model, args.random_q, args.repeat)
    print(f"simmatch check {args.model} --random-q {args.random_q}: "
          f"{statistics.median(walls):.2f} s wall (median of {args.repeat}: "
          + ", ".join(f"{w:.2f}" for w in walls) + ")")
    print(f"in-process run_check: {t['total']:.2f} s = load model {t['load_model']:.3f} + numpy reference "
          f"{t['reference']:.3f} + engines {t['engines']:.2f} (parallel, 2 at a time) + compare {t['compare']:.3f}")
    startup_sum = work_sum = 0.0
    print(f"{'source':<16} {'wall':>7} {'start-up':>9} {'samples':>8}   (start-up = fork + import + build + readback)")
    for name, s in t["per_source"].items():
        work = s.get("kinematics", 0.0) + s.get("dynamics", 0.0)
        start = s["wall"] - work
        startup_sum += start
        work_sum += work
        print(f"{name:<16} {s['wall']:7.3f} {start:9.3f} {work:8.3f}")
    share = startup_sum / max(startup_sum + work_sum, 1e-9)
    print(f"engine start-up: {startup_sum:.2f} s of {startup_sum + work_sum:.2f} s of engine-process time "
          f"({100 * share:.0f}%); the rest of the {statistics.median(walls):.2f} s is Python and simmatch start-up "
          f"({statistics.median(walls) - t['total']:.2f} s) and the run above")


if __name__ == "__main__":
    main()
