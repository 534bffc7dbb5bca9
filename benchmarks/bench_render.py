"""What `gap --render` costs: `simmatch gap hopper --src bullet --dst dart` (3 scenarios x 1000 steps,
report with plots) with and without --render, in the same run, interleaved, each a fresh process.

    python benchmarks/bench_render.py [--repeats 3] [--model hopper] [--markdown]

Wall time and CPU time (user + system of the command and its children: the engines' child process,
the renderer's process, ffmpeg) per variant, median over the repeats, and their ratio. The CPU ratio
is the one to read on a shared machine (other jobs stretch wall time, not CPU time).
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
import time
from pathlib import Path


def run_once(model: str, render: bool, out: Path) -> tuple[float, float, str]:
    """(wall s, CPU s, renderer name or '') of one `simmatch gap` run in a fresh process."""
    cmd = [sys.executable, "-m", "simmatch.cli.app", "gap", model, "--src", "bullet", "--dst", "dart",
           "--out", str(out), "-q"] + (["--render"] if render else [])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    renderer = ""
    if render:
        renderer = json.loads((out / "gap.json").read_text())["notes"]["render"]["renderer"]
    return wall, cpu, renderer


def markdown(model: str, repeats: int, plain: list[tuple[float, float]], render: list[tuple[float, float]],
             renderer: str, machine: str) -> str:
    pw, pc = statistics.median(w for w, _ in plain), statistics.median(c for _, c in plain)
    rw, rc = statistics.median(w for w, _ in render), statistics.median(c for _, c in render)
    return "\n".join([
        f"Measured with `python benchmarks/bench_render.py --repeats {repeats}` (`simmatch gap {model} --src bullet "
        f"--dst dart`, 3 scenarios x 1000 steps, report and plots, each run a fresh process, interleaved, median of "
        f"{repeats}; renderer {renderer}; {machine}):", "",
        "| run | wall s | CPU s |", "|---|---|---|",
        f"| `gap` | {pw:.1f} | {pc:.1f} |",
        f"| `gap --render` | {rw:.1f} | {rc:.1f} |",
        f"| ratio | {rw / pw:.2f}x | {rc / pc:.2f}x |"])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--model", default="hopper")
    ap.add_argument("--markdown", action="store_true", help="Print only the README text.")
    args = ap.parse_args(argv)
    machine = f"{os.cpu_count()}-core machine, load average {os.getloadavg()[0]:.1f} at the start"
    plain, render = [], []
    renderer = ""
    with tempfile.TemporaryDirectory(prefix="simmatch-bench-render-") as tmp:
        for i in range(args.repeats):
            w, c, _ = run_once(args.model, False, Path(tmp) / f"plain{i}")
            plain.append((w, c))
            w, c, renderer = run_once(args.model, True, Path(tmp) / f"render{i}")
            render.append((w, c))
            if not args.markdown:
                print(f"repeat {i + 1}: gap {plain[-1][0]:.1f} s wall / {plain[-1][1]:.1f} s CPU; "
                      f"gap --render {w:.1f} s wall / {c:.1f} s CPU ({renderer})", flush=True)
    print(markdown(args.model, args.repeats, plain, render, renderer, machine))


if __name__ == "__main__":
    main()
