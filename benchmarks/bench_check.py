"""How long `simmatch check MODEL --random-q N` takes, and how much of it is engine start-up.

    python benchmarks/bench_check.py [--model hopper] [--random-q 100] [--repeat 3] [--markdown]

1. The command itself, as a user runs it (a fresh process: Python, simmatch and engine imports,
   report writing), wall time, median of --repeat runs.
2. The same check in-process, broken down: model loading and the numpy reference, the engine phase
   (six isolated child processes, two at a time), comparing. For every engine x load mode: its
   start-up (fork, engine import, model build, readback: everything before the first sample) and
   its sample work (frames and COMs at N+1 q, dynamics at N states).
"""

from __future__ import annotations

import argparse
import os
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


def machine() -> str:
    """How loaded the machine was when a benchmark started (its figures depend on it)."""
    return f"{os.cpu_count()}-core machine, load average {os.getloadavg()[0]:.1f} at the start"


def summary(walls: list[float], t: dict) -> dict:
    """The figures the README states, from the CLI wall times and the median in-process breakdown."""
    startup = work = 0.0
    for s in t["per_source"].values():
        w = s.get("kinematics", 0.0) + s.get("dynamics", 0.0)
        startup += s["wall"] - w
        work += w
    wall = statistics.median(walls)
    return {"wall": wall, "repeat": len(walls), "reference": t["reference"], "engines": t["engines"],
            "compare": t["compare"], "startup": startup, "engine_time": startup + work,
            "python": wall - t["total"]}


def markdown(s: dict, model: str, n: int, machine: str, date: str) -> str:
    """The README sentence this benchmark backs (README block `speed_check`)."""
    return (f"Speed (`python benchmarks/bench_check.py`, {machine}, {date}): `simmatch check {model} --random-q {n}` "
            f"takes **{s['wall']:.2f} s wall** (median of {s['repeat']}, fresh process, reports written). In "
            f"process: numpy reference {s['reference']:.2f} s, engines {s['engines']:.2f} s (six engine x load "
            f"processes, two at a time; start-up is {s['startup']:.2f} s of their {s['engine_time']:.2f} s), compare "
            f"{s['compare']:.2f} s; Python and simmatch start-up about {s['python']:.1f} s.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="hopper")
    ap.add_argument("--random-q", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--markdown", action="store_true", help="Print only the README sentence (block speed_check).")
    args = ap.parse_args()

    where = machine()
    walls = cli_wall(args.model, args.random_q, args.repeat)
    t = breakdown(args.model, args.random_q, args.repeat)
    if args.markdown:
        import time
        print(markdown(summary(walls, t), args.model, args.random_q, where, time.strftime("%Y-%m-%d", time.gmtime())))
        return
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
