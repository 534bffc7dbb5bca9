"""How `simmatch check` scales with the number of links: N-joint serial chains (revolute joints,
boxes, alternating axes), N = 16, 32, 64, 128, 250 by default.

    python benchmarks/bench_chain.py [--n 16,32,64,128,250] [--random-q 20] [--engines bullet,dart,mujoco] [--markdown]

For each N: wall time of the command as a user runs it (a fresh `simmatch check` process), and the
in-process breakdown of `run_check` (load, numpy reference, engines, compare, and per engine x load
mode its start-up and sample work).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def chain_urdf(n: int, fixed_every: int = 0) -> str:
    """URDF text of an n-joint serial chain hanging from a massless `world` link 0.1 m * n + 5 m above
    the floor (no pose reaches it): link i is a 0.04 x 0.04 x 0.1 m box of 0.5 kg (inertia of the
    box) hung 0.1 m below link i-1 by a revolute joint about x, y, z in turn (limits +-2 rad,
    effort 50 N m). `fixed_every` > 0 makes every k-th joint fixed."""
    axes = ("1 0 0", "0 1 0", "0 0 1")
    m, a, b, c = 0.5, 0.04, 0.04, 0.1
    ixx, iyy, izz = m * (b * b + c * c) / 12, m * (a * a + c * c) / 12, m * (a * a + b * b) / 12
    top = 0.1 * n + 5.0
    parts = ['<?xml version="1.0"?>', f'<robot name="chain{n}">', '  <link name="world"/>']
    prev = "world"
    for i in range(n):
        parts.append(
            f'  <link name="l{i}"><inertial><origin xyz="0 0 -0.05"/><mass value="{m}"/>'
            f'<inertia ixx="{ixx:.9g}" ixy="0" ixz="0" iyy="{iyy:.9g}" iyz="0" izz="{izz:.9g}"/></inertial>'
            f'<collision><origin xyz="0 0 -0.05"/><geometry><box size="{a} {b} {c}"/></geometry></collision></link>')
        jtype = "fixed" if fixed_every and (i + 1) % fixed_every == 0 else "revolute"
        z = f"{top:g}" if i == 0 else "-0.1"
        limit = '<limit lower="-2" upper="2" effort="50" velocity="10"/>' if jtype == "revolute" else ""
        parts.append(f'  <joint name="j{i}" type="{jtype}"><parent link="{prev}"/><child link="l{i}"/>'
                     f'<origin xyz="0 0 {z}"/><axis xyz="{axes[i % 3]}"/>{limit}</joint>')
        prev = f"l{i}"
    parts.append("</robot>")
    return "\n".join(parts) + "\n"


def write_chain(folder: Path, n: int, fixed_every: int = 0) -> Path:
    p = Path(folder) / f"chain{n}.urdf"
    p.write_text(chain_urdf(n, fixed_every))
    return p


def markdown(rows: list[dict], random_q: int) -> str:
    """The README sentence this benchmark backs (README block `speed_chain`); rows: {n, wall, and for the
    largest N reference, engines, compare}."""
    walls = [f"{r['wall']:.1f} s at {r['n']}" for r in rows]
    walls[0] += " joints"
    walls[-1] = f"**{walls[-1]}**"
    text = ", ".join(walls[:-1]) + " and " + walls[-1] if len(walls) > 1 else walls[0]
    last = rows[-1]
    inproc = (f" (in process at {last['n']}: reference {last['reference']:.2f} s, engines {last['engines']:.2f} s, "
              f"compare {last['compare']:.2f} s)" if "reference" in last else "")
    return (f"Scale with the number of links (`python benchmarks/bench_chain.py`: N-joint serial chains of boxes, "
            f"`check --random-q {random_q}`, all engines, same run): wall {text}{inproc}.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", default="16,32,64,128,250")
    ap.add_argument("--random-q", type=int, default=20)
    ap.add_argument("--engines", default="bullet,dart,mujoco")
    ap.add_argument("--no-breakdown", action="store_true", help="Only the CLI wall time.")
    ap.add_argument("--markdown", action="store_true", help="Print only the README sentence (block speed_chain).")
    args = ap.parse_args()
    sizes = [int(x) for x in args.n.split(",")]
    from simmatch.compare.run import parse_engines, run_check

    if not args.markdown:
        print(f"{'N':>4} {'wall (s)':>9}  breakdown (in-process run_check, s)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = write_chain(Path(tmp), n)
            t = time.perf_counter()
            p = subprocess.run([sys.executable, "-m", "simmatch.cli.app", "check", str(path), "--random-q",
                                str(args.random_q), "--engines", args.engines, "--no-report"],
                               capture_output=True, text=True)
            wall = time.perf_counter() - t
            if p.returncode not in (0, 1):
                raise SystemExit(f"check of chain{n} failed ({p.returncode}): {p.stderr[-2000:]}")
            line = f"{n:>4} {wall:>9.2f}"
            rows.append({"n": n, "wall": wall})
            if not args.no_breakdown and (not args.markdown or n == sizes[-1]):
                tm = run_check(str(path), engines=parse_engines(args.engines), random_q=args.random_q).timing
                rows[-1].update(reference=tm["reference"], engines=tm["engines"], compare=tm["compare"])
                line += (f"  total {tm['total']:.2f} = load {tm['load_model']:.2f} + reference "
                         f"{tm['reference']:.2f} + engines {tm['engines']:.2f} + compare {tm['compare']:.2f}; ")
                parts = []
                for k, v in tm["per_source"].items():
                    work = v.get("kinematics", 0.0) + v.get("dynamics", 0.0)
                    parts.append(f"{k} {v.get('wall', 0.0):.2f} (samples {work:.2f})")
                line += ", ".join(parts)
            if not args.markdown:
                print(line, flush=True)
    if args.markdown:
        print(markdown(rows, args.random_q))


if __name__ == "__main__":
    main()
