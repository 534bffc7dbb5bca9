"""Measure every result figure the README states, and write it into the README between markers.

    python benchmarks/readme_results.py --check              # exit 1 and a diff if README differs from a fresh run
    python benchmarks/readme_results.py --write              # regenerate the result blocks in place
    python benchmarks/readme_results.py --write --only gap_pendulums --only learn_dyn_bullet_dart
    python benchmarks/readme_results.py --write --speed      # also the speed blocks (bench_*.py --markdown)
    python benchmarks/readme_results.py --render             # re-render README from the stored numbers only
    python benchmarks/readme_results.py --list               # the blocks, what each runs, how long it took

A block of README text is delimited by `<!-- results:NAME -->` and `<!-- /results:NAME -->` (each on its
own line); only the text between a pair is ever replaced. Every result block is measured through the
command line a user runs (`simmatch gap ... --json`, `simmatch learn-dyn ...`, `simmatch
train-policy`), seeded, so a rerun on the same versions gives identical text. The measured numbers
(full precision) are kept in `benchmarks/readme_results.json` with the time each block took, so that
`--render` and the default test suite can check that the README says exactly what was measured.

Speed blocks (`speed_*`) are machine-dependent: `--speed` runs the benchmark script behind each one with
`--markdown` and inserts its output; they are not part of `--check`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
STORE = Path(__file__).resolve().parent / "readme_results.json"
BENCH = Path(__file__).resolve().parent

ENGINES = ("bullet", "dart", "mujoco")
PAIRS = [(a, b) for a in ENGINES for b in ENGINES if a != b]
NAMES = {"bullet": "PyBullet", "dart": "DART", "mujoco": "MuJoCo"}

OPEN = "<!-- results:{} -->"
CLOSE = "<!-- /results:{} -->"
MARKER = re.compile(r"^<!-- (/?)results:([A-Za-z0-9_]+) -->$")


# ---------------------------------------------------------------------------------------------------
# README blocks: parsing and replacing (pure text)
# ---------------------------------------------------------------------------------------------------

class BlockError(ValueError):
    """README markers that do not pair up."""


class InputError(ValueError):
    """Bad input (a --from-run folder that is not the block's run, a damaged file): `main` prints it in
    one line and exits 2, writing nothing."""


def parse_blocks(text: str) -> dict[str, str]:
    """{name: text between the markers} of README text; raises BlockError for a marker that is not
    closed, closed without being opened, closed out of order, nested or used twice."""
    blocks: dict[str, str] = {}
    open_name, start = None, 0
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = MARKER.match(line.strip())
        if not m:
            if "results:" in line and "<!--" in line:
                raise BlockError(f"line {i + 1}: malformed results marker {line.strip()!r}")
            continue
        closing, name = m.group(1) == "/", m.group(2)
        if not closing:
            if open_name is not None:
                raise BlockError(f"line {i + 1}: block {name!r} opened inside block {open_name!r}")
            if name in blocks:
                raise BlockError(f"line {i + 1}: block {name!r} appears twice")
            open_name, start = name, i + 1
        else:
            if open_name != name:
                raise BlockError(f"line {i + 1}: block {name!r} closed but {open_name!r} is open")
            blocks[name] = "\n".join(lines[start:i])
            open_name = None
    if open_name is not None:
        raise BlockError(f"block {open_name!r} is never closed")
    return blocks


def replace_block(text: str, name: str, body: str) -> str:
    """README text with the lines between NAME's markers replaced by `body` (no trailing newline)."""
    parse_blocks(text)  # well formed first
    lines = text.split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.strip() == OPEN.format(name))
    end = next(i for i, ln in enumerate(lines) if ln.strip() == CLOSE.format(name))
    return "\n".join(lines[:start + 1] + body.rstrip("\n").split("\n") + lines[end:])


# ---------------------------------------------------------------------------------------------------
# running the command line
# ---------------------------------------------------------------------------------------------------

def simmatch_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "simmatch"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "simmatch.cli.app"]


_MODEL_FLAG: dict[str, bool] = {}


def model_args(command: str, model: str) -> list[str]:
    """`--model M` where the command has that option, else M positional (the grammar `simmatch
    COMMAND MODEL` that issue 11 asks for)."""
    if command not in _MODEL_FLAG:
        p = subprocess.run(simmatch_cmd() + [command, "--help"], check=False, capture_output=True, text=True,
                           env={**os.environ, "COLUMNS": "200"})
        _MODEL_FLAG[command] = "--model" in p.stdout
    return ["--model", model] if _MODEL_FLAG[command] else [model]


def run_cli(args: list[str]) -> str:
    """stdout of `simmatch ARGS`; a non-zero exit other than 1 (findings) is an error with its stderr."""
    p = subprocess.run(simmatch_cmd() + args, check=False, capture_output=True, text=True,
                       env={**os.environ, "COLUMNS": "200"})
    if p.returncode not in (0, 1):
        raise RuntimeError(f"simmatch {' '.join(args)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    return p.stdout


def gap_json(src: str, dst: str, model: str = "hopper", scenarios=("drop",), extra: list[str] | None = None) -> dict:
    args = ["gap", *model_args("gap", model), "--src", src, "--dst", dst, "--json", "--no-report", "-q"]
    for s in scenarios:
        args += ["-s", s]
    return json.loads(run_cli(args + list(extra or [])))


def learn_dyn_run(args: list[str], tmp: Path, run: str) -> dict:
    """scores.json and config.json of one `simmatch learn-dyn ARGS` run in a fresh folder."""
    folder = tmp / run
    run_cli(["learn-dyn", *args, "--out", str(folder)])  # --out is the run folder itself
    return {"scores": json.loads((folder / "scores.json").read_text()),
            "config": json.loads((folder / "config.json").read_text())}


# ---------------------------------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------------------------------

def g3(x) -> str:
    return "-" if x is None else f"{x:.3g}"


def f3(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def sci(x: float) -> str:
    """1.2e-13 style for round-off-sized numbers, 1.7 / 0.012 from 1e-3 up."""
    if abs(x) >= 1e-3:
        return f"{x:.2g}"
    return f"{x:.1e}".replace("e-0", "e-")


def pair(a: str, b: str) -> str:
    return f"{a} -> {b}"


def listing(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def table(headers: list[str], rows: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
                     + ["| " + " | ".join(r) + " |" for r in rows])


# ---------------------------------------------------------------------------------------------------
# gap on the hopper: drop (six pairs), and the torque scenarios' divergence
# ---------------------------------------------------------------------------------------------------

HOPPER_HORIZON = 1000


def _scenario_digest(s: dict) -> dict:
    """What the README uses of one scenario of gap.json."""
    return {"gt_open_loop": s["gt_open_loop"], "gt_one_step": s["gt_one_step"],
            "divergence_step": s["divergence"]["step"], "divergence_s": s["divergence"]["time_s"],
            "unstable": s.get("unstable"), "worst_dof": s["worst_dof"],
            "contacts": {link: {k: v[k] for k in ("contact_fraction", "first_contact_step", "penetration_max")}
                         for link, v in (s.get("contacts") or {}).items()},
            "pre_contact_max": _pre_contact_max(s)}


def _pre_contact_max(s: dict) -> float | None:
    """Largest open-loop GT error before the first contact of either engine (None: no contact)."""
    firsts = [x for v in (s.get("contacts") or {}).values() for x in v["first_contact_step"] if x is not None]
    per = s.get("per_step", {}).get("gt_open_loop")
    if not firsts or not per:
        return None
    before = [x for x in per[:min(firsts)] if x is not None]
    return max(before) if before else None


def measure_gap_hopper() -> dict:
    runs = {}
    for src, dst in PAIRS:
        d = gap_json(src, dst, "hopper", ("drop", "sine", "random"), ["--horizon", str(HOPPER_HORIZON)])
        runs[pair(src, dst)] = {k: _scenario_digest(v) for k, v in d["scenarios"].items()}
        opts = d["options"]
    return {"model": "hopper", "horizon": opts["horizon"], "dt": opts["dt"], "seed": opts["seed"],
            "threshold": opts["threshold"], "load": opts["load"], "pairs": runs}


def _engine_contacts(m: dict, scenario: str) -> dict:
    """Per engine, per link: (contact fraction, first contact step, max penetration), read from the
    pairs where that engine is src (its free run is the same in every pair)."""
    out: dict[str, dict] = {}
    for key, sc in m["pairs"].items():
        src = key.split(" -> ")[0]
        for link, v in sc[scenario]["contacts"].items():
            out.setdefault(src, {})[link] = (v["contact_fraction"][0], v["first_contact_step"][0],
                                             v["penetration_max"][0])
    return out


def render_gap_hopper(m: dict) -> str:
    dt = m["dt"]
    lines = [(f"Measured on the hopper (matched builds, {m['horizon']} steps at dt 1/{round(1 / dt)}, seed "
             f"{m['seed']}), `drop`:"), ""]
    rows = []
    pairs = _ordered(m["pairs"], [pair(a, b) for a, b in PAIRS])
    for key, sc in pairs:
        s = sc["drop"]
        foot = s["contacts"]["foot"]
        div = "never" if s["divergence_step"] is None else f"{s['divergence_s']:.3f} s"
        rows.append([key, g3(s["gt_open_loop"]["mean"]), g3(s["gt_open_loop"]["max"]), g3(s["gt_one_step"]["mean"]),
                     div, s["worst_dof"] or "-",
                     "/".join("-" if x is None else str(x) for x in foot["first_contact_step"]),
                     "/".join(f"{1000 * x:.1f}" for x in foot["penetration_max"])])
    lines.append(table(["src -> dst", "GT mean", "GT max", "one-step mean", "divergence", "worst DoF",
                        "foot first contact", "foot max penetration (mm)"], rows))
    drops = [sc["drop"] for sc in m["pairs"].values()]
    firsts = [x for s in drops for x in s["contacts"]["foot"]["first_contact_step"] if x is not None]
    pre: dict[str, float] = {}  # per unordered pair
    for key, sc in pairs:
        if sc["drop"]["pre_contact_max"] is not None:
            k = "/".join(NAMES[e] for e in sorted(key.split(" -> "), key=ENGINES.index))
            pre[k] = max(pre.get(k, 0.0), sc["drop"]["pre_contact_max"])
    seconds = m["horizon"] * dt
    eng = _engine_contacts(m, "drop")
    stand, fell = [], []
    for e in ENGINES:
        others = {link: v for link, v in eng[e].items() if link != "foot" and v[0] > 0}
        if not others:
            stand.append(NAMES[e])
        else:
            link, v = min(others.items(), key=lambda kv: (kv[1][1] if kv[1][1] is not None else 10**9, kv[0]))
            fell.append(f"in {NAMES[e]} the {link} touches the floor at {v[1] * dt:.2f} s")
    pen = ", ".join(f"{NAMES[e]} {1000 * eng[e]['foot'][2]:.1f} mm" for e in ENGINES)
    text = (f"Before the foot lands (step {min(firsts)}) the engines agree (largest open-loop GT error: "
            + ", ".join(f"{k} {sci(v)}" for k, v in pre.items()) + "); they part on contact. ")
    if stand:
        verb = "keeps" if len(stand) == 1 else "keep"
        text += (f"{listing(stand)} {verb} the hopper standing on its foot for the whole run ({seconds:g} s, "
                 f"no other link touches the floor)")
        text += ("; " + "; ".join(fell) + "." if fell else ".")
    else:
        text += "; ".join(fell).capitalize() + "."
    text += f" The foot sinks at most {pen}."
    lines += ["", text]
    # torques: how soon each pair crosses the threshold
    per = []
    steps = []
    for key, sc in pairs:
        ds = [sc[s]["divergence_step"] for s in ("sine", "random")]
        steps += [d for d in ds if d is not None]
        per.append(f"{key} {'/'.join('never' if d is None else str(d) for d in ds)}")
    never = sum(1 for sc in m["pairs"].values() for s in ("sine", "random") if sc[s]["divergence_step"] is None)
    lines.append("")
    crossing = (f"every pair crosses the divergence threshold ({m['threshold']:g}) within {max(steps)} steps"
                if not never else f"{len(steps)} of {len(steps) + never} runs cross the divergence threshold "
                                  f"({m['threshold']:g}), within {max(steps) if steps else 0} steps")
    lines.append(f"With torques (sine, random, 0.5 of the effort limit) {crossing} (divergence step, sine/random: "
                 f"{'; '.join(per)}): the hopper starts at its thigh and leg upper limits, hard in PyBullet and "
                 f"DART, soft in MuJoCo.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# gap --explain on the hopper's drop, matched and native
# ---------------------------------------------------------------------------------------------------

EXPLAIN_PAIRS = (("bullet", "dart"), ("bullet", "mujoco"))


def _explain_digest(d: dict) -> dict:
    e = d["explain"]
    return {"base_gap": e["base_gap"], "base_gap_open_loop": e["base_gap_open_loop"],
            "ranking": [{k: r[k] for k in ("knob", "title", "explained", "explained_open_loop")} for r in e["ranking"]],
            "not_applicable": [{k: r[k] for k in ("knob", "title", "reason")} for r in e["not_applicable"]]}


def measure_gap_explain() -> dict:
    out = {"matched": {}, "native": {}}
    for src, dst in EXPLAIN_PAIRS:
        out["matched"][pair(src, dst)] = _explain_digest(
            gap_json(src, dst, "hopper", ("drop",), ["--explain", "--horizon", str(HOPPER_HORIZON)]))
    d = gap_json("bullet", "dart", "hopper", ("drop",), ["--explain", "--load", "native",
                                                         "--horizon", str(HOPPER_HORIZON)])
    out["native"][pair("bullet", "dart")] = _explain_digest(d)
    out["native_contacts"] = {link: v["contact_fraction"] for link, v in d["scenarios"]["drop"]["contacts"].items()}
    return out


def _pct(x: float) -> str:
    return f"{100 * x:+.1f}%"


def render_gap_explain(m: dict) -> str:
    cols = _ordered(m["matched"], [pair(a, b) for a, b in EXPLAIN_PAIRS])
    header = ["rank"]
    for key, e in cols:
        header += [f"{key} ({g3(e['base_gap'])} / {g3(e['base_gap_open_loop'])})", ""]
    n = max(len(e["ranking"]) for _, e in cols)
    rows = []
    for i in range(n):
        row = [str(i + 1)]
        for _, e in cols:
            if i < len(e["ranking"]):
                r = e["ranking"][i]
                row += [r["title"], f"{_pct(r['explained'])} / {_pct(r['explained_open_loop'])}"]
            else:
                row += ["", ""]
        rows.append(row)
    lines = [("`--explain`, `drop`, shares of the one-step / open-loop gap (in the header: the one-step / "
             "open-loop gap, mean GT error):"), "", table(header, rows)]
    (key, nat), = m["native"].items()
    top, *rest = sorted(nat["ranking"], key=lambda r: -max(r["explained"], r["explained_open_loop"]))
    others = max((max(abs(r["explained"]), abs(r["explained_open_loop"])) for r in rest), default=0.0)
    dst_touch = sorted(link for link, f in m["native_contacts"].items() if f[1] > 0)
    falls = ("nothing of the hopper touches DART's floor: its importer drops every capsule and the hopper falls "
             "through the floor" if not dst_touch else f"DART's floor is touched by {listing(dst_touch)}")
    lines += ["", (f"With `--load native`, {key} (open-loop gap {g3(nat['base_gap_open_loop'])}: {falls}), "
                  f"\"{top['title']}\" explains {100 * top['explained_open_loop']:.1f}% of the open-loop gap "
                  f"({100 * top['explained']:.1f}% of the one-step gap) and every other knob at most "
                  f"{100 * others:.1f}%.")]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# pendulum and double pendulum: the engines agree without contact
# ---------------------------------------------------------------------------------------------------

PENDULUMS = ("pendulum", "double-pendulum")
PEND_HORIZON, PEND_THRESHOLD = 500, 1e-6


def _ordered(d: dict, order) -> list[tuple]:
    """d's items in the given key order, other keys after it alphabetically (a stored measurement's
    keys come back sorted, a fresh one's in measuring order: the text must not depend on which)."""
    rank = {k: i for i, k in enumerate(order)}
    return sorted(d.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def _before(per_step: list, step: int | None) -> float:
    """Largest open-loop GT error before `step` (the whole run when None)."""
    xs = [x for x in (per_step if step is None else per_step[:step]) if x is not None]
    return max(xs) if xs else 0.0


def measure_gap_pendulums() -> dict:
    out = {}
    for model in PENDULUMS:
        for src, dst in PAIRS:
            d = gap_json(src, dst, model, ("sine", "random"),
                         ["--horizon", str(PEND_HORIZON), "--threshold", f"{PEND_THRESHOLD:g}"])
            for name, s in d["scenarios"].items():
                step = s["divergence"]["step"]
                limits = sorted(j for j, v in (s.get("joint_limit_forces") or {}).items()
                                if any(x for x in v["mean_abs"] if x))
                out.setdefault(model, {}).setdefault(name, {})[pair(src, dst)] = {
                    "gt_open_loop_max": s["gt_open_loop"]["max"], "gt_one_step_max": s["gt_one_step"]["max"],
                    "divergence_step": step, "before_divergence_max": _before(s["per_step"]["gt_open_loop"], step),
                    "joints_at_limit": limits,
                    "contact": any(any(v["contact_fraction"]) for v in (s.get("contacts") or {}).values())}
    return {"horizon": PEND_HORIZON, "threshold": PEND_THRESHOLD, "runs": out}


def render_gap_pendulums(m: dict) -> str:
    thr = f"{m['threshold']:g}"
    rows, calm, hit = [], [], []
    for model, scs in _ordered(m["runs"], PENDULUMS):
        for scen, pairs in _ordered(scs, ("sine", "random")):
            runs = [v for _, v in _ordered(pairs, [pair(a, b) for a, b in PAIRS])]
            limits = sorted({j for v in runs for j in v["joints_at_limit"]})
            steps = sorted(v["divergence_step"] for v in runs if v["divergence_step"] is not None)
            before = max(v["before_divergence_max"] for v in runs)
            one = max(v["gt_one_step_max"] for v in runs)
            div = (f"{len(steps)} of {len(runs)}, step {steps[0]}" + (f"-{steps[-1]}" if steps[-1] != steps[0] else "")
                   if steps else "none")
            rows.append([model, scen, ", ".join(limits) or "none", sci(before), div, sci(one)])
            (hit if limits or steps else calm).append((model, scen, limits, steps, before, one, len(runs)))
    any_contact = any(v["contact"] for scs in m["runs"].values() for p in scs.values() for v in p.values())
    lines = [(f"On the pendulum and double pendulum ({'with' if any_contact else 'no'} contact), {m['horizon']} steps "
             f"of sine and random torques (0.5 of the effort limit), all six engine pairs, divergence threshold "
             f"{thr} (largest value over the pairs):"), "",
             table(["model", "torques", "joint limit reached", "open-loop GT error before divergence",
                    f"pairs past {thr}", "one-step max"], rows), ""]
    text = ""
    if calm:
        worst = max(max(c[4], c[5]) for c in calm)
        text += (f"Where no joint reaches a limit ({listing([f'{c[0]} {c[1]}' for c in calm])}) every pair agrees to "
                 f"{sci(worst)} or better over the whole run, one step and open loop: integrator round-off.")
    for model, scen, limits, steps, before, one, n in hit:
        what = (f"{listing(limits)} into {'its' if len(limits) == 1 else 'their'} joint limit" if limits
                else "the engines apart")
        text += (f" The {scen} torques drive the {model}'s {what}: until then the pairs agree to {sci(before)}; "
                 + ("from there the engines' limit handling differs (hard in PyBullet and DART, soft in MuJoCo), "
                    if limits else "")
                 + (f"{len(steps)} of {n} pairs pass {thr} (step {steps[0]}"
                    + (f" to {steps[-1]}" if steps[-1] != steps[0] else "") + f") and the one-step error reaches "
                    f"{sci(one)}." if steps else f"no pair passes {thr}."))
    lines.append(text.strip())
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# an engine that blows up mid-run: laikago, sine torques
# ---------------------------------------------------------------------------------------------------

def measure_gap_laikago() -> dict:
    d = gap_json("bullet", "mujoco", "laikago", ("sine",), ["--horizon", str(HOPPER_HORIZON)])
    s = d["scenarios"]["sine"]
    return {"horizon": d["options"]["horizon"], "unstable": s.get("unstable"),
            "divergence_step": s["divergence"]["step"], "threshold": d["options"]["threshold"],
            "measured_until": s.get("measured_until"), "gt_max": s["gt_open_loop"]["max"]}


def render_gap_laikago(m: dict) -> str:
    blew = [u for u in (m["unstable"] or []) if u]
    if not blew:
        return (f"On laikago (floating base, matched builds, sine torques, {m['horizon']} steps, bullet -> mujoco) "
                f"neither engine blows up.")
    u = blew[0]
    where = []
    if "dst" in u or "src" in u:
        where.append(f"at step {u.get('dst', u.get('src'))} of its free run")
    if "one_step" in u:
        where.append(f"at step {u['one_step']} when reset to PyBullet's state before every step")
    div = ("" if m["divergence_step"] is None else
           f"; the pair has diverged (GT error past {m['threshold']:g}) at step {m['divergence_step']}")
    mu = [e for e in (m.get("measured_until") or []) if e]
    cut = ("" if not mu else
           f" Numbers stop at the last physically meaningful state: measured until step {mu[0]['step']} "
           f"(one-step until {mu[0]['one_step']}), GT max {g3(m['gt_max'])}.")
    return (f"On laikago (floating base, matched builds, sine torques, {m['horizon']} steps, bullet -> mujoco) MuJoCo "
            f"blows up {' and '.join(where)} (`unstable`){div}.{cut}")


# ---------------------------------------------------------------------------------------------------
# learn-dyn
# ---------------------------------------------------------------------------------------------------

METHODS = ("raw source", "learned hybrid", "random force", "domain randomisation", "sysid (constant, CMA-ES)")


def _ld_digest(r: dict) -> dict:
    s, c = r["scores"], r["config"]
    return {"methods": {k: {"one_step": v["one_step"]["mean"], "h10": v["h10"]["mean"]} for k, v in s["methods"].items()},
            "generator_outputs": {k: v["mean"] for k, v in s["generator_outputs"].items()},
            "selected_iteration": s["selected_generator"]["iteration"],
            "validation_one_step": s["selected_generator"].get("validation_one_step"),
            "iterations": c["pretrain_iters"] + c["gail_iters"], "pretrain_iters": c["pretrain_iters"],
            "gail_iters": c["gail_iters"], "horizon": c["horizon"],
            "backends": {k: {"raw": v["raw_source"]["mean"], "learned": v["learned_hybrid"]["mean"]}
                         for k, v in s["backends"].items()},
            "sysid": s.get("sysid", {}).get("values"),
            "refine": s.get("refine"), "wall_s": s.get("wall_s"), "learned_vs_sysid": s.get("learned_vs_sysid"),
            "emf": s.get("emf_torque_scale")}


# what each learn-dyn block passes to `simmatch learn-dyn` (config.json field -> value), for --from-run
LD_EXPECT = {
    "learn_dyn_known_answer": {"src": "bullet", "dst": "bullet:low-power", "policy": None, "seed": 0},
    "learn_dyn_adversarial_only": {"src": "bullet", "dst": "bullet:low-power", "policy": None, "seed": 0,
                                   "pretrain_iters": 0, "gail_iters": 100, "gail_lr": 1e-3, "disc_steps": 50},
    "learn_dyn_bullet_dart": {"src": "bullet", "dst": "dart", "policy": None, "seed": 0},
    "learn_dyn_refine": {"src": "bullet", "dst": "bullet:low-power", "seed": 0, "refine_steps": 20000},
    "learn_dyn_emf_hopper": {"src": "bullet", "dst": "bullet:emf", "policy": None, "seed": 0},
    "learn_dyn_emf_laikago": {"model": "laikago", "src": "bullet", "dst": "bullet:emf", "policy": None, "seed": 0,
                              "behavior": "trot", "substeps": 2, "trot_amp": 3.0},
    "learn_dyn_deform_floor": {"src": "bullet", "dst": "bullet:deform-floor", "policy": None, "seed": 0},
}
# fields of config.json that do not change a run's results (where it ran, how it was named)
LD_FREE = {"run", "env_workers", "render", "policy"}


def _run_json(folder: Path, name: str) -> dict:
    """FOLDER/NAME as a JSON object; InputError (one line naming the file) when it is missing or damaged."""
    path = folder / name
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file (not a finished learn-dyn run folder)") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise InputError(f"{path}: cannot be read as JSON ({type(e).__name__})") from None
    if not isinstance(d, dict):
        raise InputError(f"{path}: not a JSON object")
    return d


def from_run(name: str, folder: Path) -> dict:
    """The measurement of learn-dyn block NAME from a finished run folder (scores.json, config.json) of the
    same command, instead of running it again. Raises InputError (one line) when a file is missing or
    damaged, the folder's config differs from the block's arguments or the run is not the block's kind."""
    if not folder.is_dir():
        raise InputError(f"--from-run {name}={folder}: no such run folder")
    r = {"scores": _run_json(folder, "scores.json"), "config": _run_json(folder, "config.json")}
    for k, v in LD_EXPECT[name].items():
        if r["config"].get(k) != v:
            raise InputError(f"{folder}: config {k}={r['config'].get(k)!r}, block {name} runs {k}={v!r}")
    # every other field at today's default: a run made before a default changed is not the block's command
    from dataclasses import asdict

    from simmatch.gail.config import LearnDynConfig

    defaults = asdict(LearnDynConfig())
    for k, v in defaults.items():
        if k in LD_EXPECT[name] or k in LD_FREE or (name == "learn_dyn_refine" and k == "policy"):
            continue
        got = r["config"].get(k, LD_ADDED.get(k))
        if (list(got) if isinstance(got, (list, tuple)) else got) != (list(v) if isinstance(v, tuple) else v):
            raise InputError(f"{folder}: config {k}={got!r}, but the block's command runs the default "
                             f"{k}={v!r} (made with other defaults: run it again)")
    if (name == "learn_dyn_refine") != ("refine" in r["scores"]):
        raise InputError(f"{folder}: {'no' if name == 'learn_dyn_refine' else 'a'} refinement in scores.json")
    try:
        m = _ld_digest(r)
        render(name, m)  # its block can be made: a method missing or a value that is no number is refused here
    except KeyError as e:
        raise InputError(f"{folder / 'scores.json'}: not a learn-dyn run's scores (lacks {e})") from None
    except (TypeError, AttributeError, IndexError, ValueError, ZeroDivisionError) as e:
        raise InputError(f"{folder / 'scores.json'}: not a learn-dyn run's scores ({type(e).__name__}: {e})") \
            from None
    return m


def measure_ld_known_answer() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        return _ld_digest(learn_dyn_run(["--src", "bullet", "--dst", "bullet:low-power"], Path(tmp), "ka"))


ADV_ARGS = ["--pretrain-iters", "0", "--gail-iters", "100", "--gail-lr", "1e-3", "--disc-steps", "50"]


def measure_ld_adversarial() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        return _ld_digest(learn_dyn_run(["--src", "bullet", "--dst", "bullet:low-power", *ADV_ARGS], Path(tmp), "adv"))


def measure_ld_bullet_dart() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        return _ld_digest(learn_dyn_run(["--src", "bullet", "--dst", "dart"], Path(tmp), "bd"))


REFINE_STEPS = 20000


def measure_ld_refine() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "policy"  # train-policy's folder: policy.zip, policy.pt, config.json
        t0 = time.perf_counter()
        run_cli(["train-policy", "--steps", str(REFINE_STEPS), "--seed", "0", "--out", str(policy)])
        train_s = time.perf_counter() - t0
        out = _ld_digest(learn_dyn_run(["--src", "bullet", "--dst", "bullet:low-power", "--policy", str(policy),
                                        "--refine-steps", str(REFINE_STEPS)], Path(tmp), "refine"))
    out["train_policy_wall_s"] = train_s
    return out


STATE_ARGS = {
    "learn_dyn_emf_hopper": ["--src", "bullet", "--dst", "bullet:emf"],
    "learn_dyn_emf_laikago": ["laikago", "--src", "bullet", "--dst", "bullet:emf", "--behavior", "trot",
                              "--substeps", "2", "--trot-amp", "3"],
    "learn_dyn_deform_floor": ["--src", "bullet", "--dst", "bullet:deform-floor"],
}


def _ld_state(name: str) -> Callable[[], dict]:
    def measure() -> dict:
        with tempfile.TemporaryDirectory() as tmp:
            return _ld_digest(learn_dyn_run(STATE_ARGS[name], Path(tmp), name))
    return measure


def render_ld_state(name: str) -> Callable[[dict], str]:
    """A state-dependent target (emf, deform-floor): the methods table and the learned hybrid against the
    constant sysid fit (issue 13's bar: at least 30% lower held-out one-step and 10-step GT error)."""
    def render(m: dict) -> str:
        args = STATE_ARGS[name]
        target = args[args.index("--dst") + 1]
        model = args[0] if not args[0].startswith("--") else "hopper"
        vs = m.get("learned_vs_sysid") or {}
        one, hh = vs.get("one_step"), vs.get(f"h{m['horizon']}")
        verdict = ("meets the 30% bar on both" if one is not None and hh is not None and one >= 0.3 and hh >= 0.3
                   else "misses the bar of 30% on both")
        txt = [f"**{model}, {target}** (`simmatch learn-dyn {' '.join(STATE_ARGS[name])}`: defaults, seed 0; "
               f"selected generator: iteration {m['selected_iteration']} of {m['iterations']}, the {_stage(m)} stage):",
               "", _methods_table(m, target), ""]
        line = (f"Learned hybrid against the constant sysid fit (1 - learned / sysid): one-step "
                f"**{100 * one:.1f}%**, {m['horizon']}-step **{100 * hh:.1f}%**, which {verdict}"
                if one is not None and hh is not None else "No sysid comparison in scores.json")
        emf = m.get("emf")
        if emf:
            per = ", ".join(f"{j.replace('_joint', '')} {v['correlation']:.2f}" for j, v in emf["joints"].items()
                            if v.get("correlation") is not None)
            line += (f"; the learned torque scale against the true clip(1 - |dq|/{emf['omega0']:g}) over held-out "
                     f"states correlates **{emf['correlation']:.2f}** (pooled; per joint: {per}), mean absolute "
                     f"difference {emf['mean_abs_diff']:.3f} (`emf_torque_scale.png` in the run folder)")
        txt.append(line + ".")
        return "\n".join(txt)
    return render


def _methods_table(m: dict, target: str) -> str:
    rows = [[k, f3(m["methods"][k]["one_step"]), f3(m["methods"][k]["h10"])] for k in METHODS if k in m["methods"]]
    return table([f"method (held-out {target})", "one-step GT", f"{m['horizon']}-step GT"], rows)


def _reduction(m: dict) -> float:
    return 1 - m["methods"]["learned hybrid"]["one_step"] / m["methods"]["raw source"]["one_step"]


def _stage(m: dict) -> str:
    return "GT-pretraining" if m["selected_iteration"] <= m["pretrain_iters"] else "GAIL"


def _off_scales(go: dict, sysid: dict, learned: float) -> str:
    """The torque scales of the joints the target leaves alone that the generator does not hold at 1."""
    order = [f"torque_scale[{j}_joint]" for j in ("thigh", "leg", "foot")]  # down the leg
    off = [(k, v) for k, v in _ordered(go, order)
           if k.startswith("torque_scale[") and "thigh" not in k and abs(v - 1) >= 0.05]
    if not off:
        return ""
    names = listing([f"{k[len('torque_scale['):-1].replace('_joint', '')} torque scale of {v:.2f}" for k, v in off])
    fit = ", ".join(f"{k[len('torque_scale['):-1].replace('_joint', '')} {v:.2f}"
                    for k, v in _ordered(sysid, order) if k.startswith("torque_scale["))
    return (f" The generator settles at a {names} rather than 1.0, a local optimum of the one-step error that the "
            f"constant sysid fit also finds ({fit}), which is why the residual error is {learned:.2f} and not ~0.")


def render_ld_known_answer(m: dict) -> str:
    go, me = m["generator_outputs"], m["methods"]
    raw, learned = me["raw source"]["one_step"], me["learned hybrid"]["one_step"]
    sy = m["sysid"] or {}
    lines = [
        ("**Known answer** (`simmatch learn-dyn --src bullet --dst bullet:low-power`: defaults, seed 0; "
        "`pytest -m slow tests/test_gail_known_answer.py` runs it twice and asserts identical numbers): target "
        "`bullet:low-power` (thigh_joint torque x0.5), source bullet, `contact` space. The mean generator output "
        f"for the thigh torque scale over held-out states is **{go['torque_scale[thigh_joint]']:.3f}**, and the "
        f"held-out one-step GT error falls from **{raw:.3f} to {learned:.3f} ({-100 * _reduction(m):.1f}%)**. "
        f"The selected generator is iteration {m['selected_iteration']} of {m['iterations']} (the {_stage(m)} "
        f"stage; validation one-step GT {m['validation_one_step']:.3f}).{_off_scales(go, sy, learned)}"), "",
        _methods_table(m, "bullet:low-power"), ""]
    sys_ = me["sysid (constant, CMA-ES)"]
    one = "better" if sys_["one_step"] < learned else "worse"
    ol = "better" if sys_["h10"] < me["learned hybrid"]["h10"] else "worse"
    lines.append(f"Here the true gap *is* a constant: the constant sysid fit is {one} in one step "
                 f"({sys_['one_step']:.3f} vs {learned:.3f}) and {ol} open loop ({sys_['h10']:.3f} vs "
                 f"{me['learned hybrid']['h10']:.3f}) than the state-dependent generator.")
    return "\n".join(lines)


def render_ld_adversarial(m: dict) -> str:
    go = m["generator_outputs"]
    worse = [b for b, v in m["backends"].items() if v["learned"] > v["raw"]]
    if len(worse) == len(m["backends"]):
        against = ("Against the three plain backends this generator is, as it should be, worse than the raw source "
                   "(one-step GT, raw -> learned: " + ", ".join(
                       f"{b} {v['raw']:.3f} -> {v['learned']:.3f}" for b, v in _ordered(m["backends"], ENGINES))
                   + "): it learned a weak thigh that only the low-power target has.")
    else:
        against = ("Against the plain backends (one-step GT, raw -> learned: " + ", ".join(
            f"{b} {v['raw']:.3f} -> {v['learned']:.3f}" for b, v in _ordered(m["backends"], ENGINES)) + ").")
    return (f"The adversarial signal alone also finds it, more slowly: with no GT pretraining, {m['gail_iters']} GAIL "
            f"iterations (generator lr 1e-3, 50 discriminator updates per iteration; `simmatch learn-dyn --src bullet "
            f"--dst bullet:low-power {' '.join(ADV_ARGS)}`, `test_known_answer_adversarial_only`) end at a thigh "
            f"torque scale of **{go['torque_scale[thigh_joint]']:.3f}** and a held-out one-step error of "
            f"{m['methods']['learned hybrid']['one_step']:.3f} ({-100 * _reduction(m):.1f}%; selected iteration "
            f"{m['selected_iteration']} of {m['iterations']}). {against}")


def render_ld_bullet_dart(m: dict) -> str:
    me = m["methods"]
    stage = _stage(m)
    why = (": the GAIL stage did not lower the validation error on this budget" if stage == "GT-pretraining" else "")
    lines = [(f"**bullet -> dart** (`simmatch learn-dyn --src bullet --dst dart`, default budget; the selected "
             f"generator is iteration {m['selected_iteration']} of {m['iterations']}, from the {stage} stage{why}):"),
             "", _methods_table(m, "dart"), "",
             table(["data from", "raw source one-step GT", "learned hybrid one-step GT"],
                   [[b, f3(v["raw"]), f3(v["learned"])] for b, v in _ordered(m["backends"], ENGINES)]), ""]
    red = _reduction(m)
    fresh = 1 - m["backends"]["dart"]["learned"] / m["backends"]["dart"]["raw"]
    sysid = 1 - me["sysid (constant, CMA-ES)"]["one_step"] / me["raw source"]["one_step"]
    sysid_txt = "none (it is worse than the raw source)" if sysid <= 0 else f"{100 * sysid:.0f}%"
    mostly = "mostly not" if red < 0.5 else "mostly"
    lines.append(f"The bullet/DART gap on the hopper is {mostly} in the contact space (capsule contact in DART's ODE "
                 f"detector, joint damping integration): the learned hybrid removes {100 * red:.0f}% of the held-out "
                 f"one-step error ({100 * fresh:.0f}% on fresh DART data), the best constant correction "
                 f"{sysid_txt}. An honest result, not a tuned one.")
    return "\n".join(lines)


def render_ld_refine(m: dict) -> str:
    r = m["refine"]
    go, me = m["generator_outputs"], m["methods"]
    raw, learned = me["raw source"]["one_step"], me["learned hybrid"]["one_step"]
    sysid = me["sysid (constant, CMA-ES)"]["one_step"]
    cmp_ = "does better here" if sysid < learned else "does worse here"
    return (f"**Policy refinement** (the paper's second stage; seed 0: `simmatch train-policy --steps {REFINE_STEPS}` "
            f"then `simmatch learn-dyn --src bullet --dst bullet:low-power --policy POLICY_FOLDER --refine-steps "
            f"{REFINE_STEPS}`): return in the low-power target over 5 episodes, unrefined policy "
            f"**{r['unrefined']['return']:.1f}**, fine-tuned inside the learned hybrid (G fixed) "
            f"**{r['refined_in_hybrid']['return']:.1f}**, fine-tuned under domain randomisation over the same correction "
            f"space **{r['refined_domain_rand']['return']:.1f}**. With the policy's own (forward-hopping) data the "
            f"learned thigh torque scale is {go['torque_scale[thigh_joint]']:.3f} and the one-step error falls "
            f"{100 * _reduction(m):.0f}% ({raw:.3f} -> {learned:.3f}); the constant sysid fit {cmp_} ({sysid:.3f}). "
            f"The {REFINE_STEPS // 1000}k-step policy is weak (in the target its episodes last "
            f"{r['unrefined']['length']:.0f} control steps on average, unrefined), so these returns are small; longer "
            f"`train-policy` runs are the way to a meaningful stage two.")


# ---------------------------------------------------------------------------------------------------
# speed blocks: the benchmark scripts' own --markdown output
# ---------------------------------------------------------------------------------------------------

SPEED = {
    "speed_check": ["bench_check.py", "--markdown"],
    "speed_chain": ["bench_chain.py", "--markdown"],
    "speed_rollout": ["bench_rollout.py", "--repeats", "7", "--markdown"],
    "speed_hybrid": ["bench_hybrid.py", "--markdown"],
}


def run_speed(name: str) -> str:
    script, *args = SPEED[name]
    p = subprocess.run([sys.executable, str(BENCH / script), *args], check=False, capture_output=True, text=True,
                       cwd=ROOT)
    if p.returncode != 0:
        raise RuntimeError(f"{script} exited {p.returncode}:\n{p.stderr[-3000:]}")
    return p.stdout.strip("\n")


# the policy transfer studies (the paper's stage 2): benchmarks/transfer_study.py, hours of CPU; a block is
# normally taken from its study's finished --out folder (--from-run transfer_hopper=FOLDER)
@dataclass(frozen=True)
class TransferBlock:
    """One transfer block: the study's command and what its transfer.json must hold.

    policy: the shipped policy folder (policy.zip; relative to the repository), compared by sha256;
    args: the command's options besides --out and --quiet (they hold --policy POLICY); out: the --out folder
    the block's text names; expect: transfer.json's settings besides the policy (`transfer.settings_record`);
    ld: learn-dyn config fields of the study's runs that are not learn-dyn's defaults (the policy's own
    substeps); what: the block's words for the policy and its runs."""

    policy: str
    args: tuple[str, ...]
    out: str
    expect: dict
    ld: dict
    what: str


def _transfer_expect(model: str) -> dict:
    return {"model": model, "src": "bullet", "space": "contact", "refine_steps": 100000, "episodes": 5, "ensemble": 3,
            "max_steps": 500, "dr_bound": None, "learn_dyn": {}, "runs": None}


_BUDGET = ("--seeds", "0-2", "--refine-steps", "100000", "--episodes", "5", "--ensemble", "3")


def _laikago_block(targets: str, policy_words: str) -> TransferBlock:
    """A study of the shipped Laikago walker on `targets` (its own out folder, reports/transfer_laikago[_df]),
    the learn-dyn runs at the policy's 250 Hz (substeps 2)."""
    out = "reports/transfer_laikago" + ("" if targets == "bullet:emf" else "_df")
    return TransferBlock(
        "assets/policies/laikago_bullet",
        ("--policy", "assets/policies/laikago_bullet", "--model", "laikago", "--src", "bullet", "--targets", targets,
         *_BUDGET), out, _transfer_expect("laikago"), {"substeps": 2},
        f"{policy_words}, learn-dyn's defaults with the policy as behaviour at its 250 Hz (substeps 2)")


TRANSFER = {
    "transfer_hopper": TransferBlock(
        "assets/policies/hopper_bullet",
        ("--policy", "assets/policies/hopper_bullet", "--src", "bullet", "--targets", "bullet:emf,bullet:deform-floor",
         *_BUDGET), "reports/transfer_hopper", _transfer_expect("hopper"), {},
        "the shipped hopper policy, learn-dyn's defaults with the policy as behaviour"),
    "transfer_laikago": _laikago_block(
        "bullet:emf", "the shipped Laikago walking policy (train-policy --substeps 2 --gait balanced-trot: 250 Hz, a "
        "residual over the balanced trot)"),
    # deform-floor apart from emf: the finite-element slab costs ~10x the rigid floor per control step
    "transfer_laikago_df": _laikago_block("bullet:deform-floor", "the shipped Laikago walking policy (as above)"),
}
# learn-dyn fields added after runs were made, whose default is what those runs did
LD_ADDED = {"trot_amp": 1.0}


def transfer_from_run(name: str, folder: Path) -> dict:
    """The measurement of transfer block NAME from a study's --out folder (transfer.json and the learn-dyn
    runs it names); refused when the study's settings are not the block's command (the policy is compared
    by its sha256), a target it ran is not among the block's --targets, a learn-dyn run is not at today's defaults (but for the block's `ld`), a file is damaged
    or the block's policy is not shipped: InputError, one line."""
    _transfer_policy(name)
    path = folder / "transfer.json"
    if not path.is_file():
        raise InputError(f"{folder}: no transfer.json (the --out folder of benchmarks/transfer_study.py)")
    d = _run_json(folder, "transfer.json")
    missing = [k for k in ("settings", "targets", "seeds", "methods", "summary", "cells", "runs") if k not in d]
    if missing:
        raise InputError(f"{path}: not a transfer study's record (lacks {', '.join(missing)})")
    try:
        m = _transfer_digest(name, d, path)
        render_transfer(name)(m)  # its block can be made: a summary lacking a method's cells is refused here
    except InputError:
        raise
    except (KeyError, TypeError, AttributeError, IndexError, ValueError, ZeroDivisionError) as e:
        raise InputError(f"{path}: not a transfer study's record ({type(e).__name__}: {e})") from None
    return m


def _transfer_policy(name: str) -> Path:
    """The policy.zip of transfer block NAME; InputError (one line) when it is not in the repository."""
    zip_ = ROOT / TRANSFER[name].policy / "policy.zip"
    if not zip_.is_file():
        raise InputError(f"{TRANSFER[name].policy}/policy.zip: no such file (the policy of block {name}: ship it "
                         "before the block is measured or taken from a study)")
    return zip_


def _study_run(study: Path, recorded: str) -> Path | None:
    """The finished learn-dyn run (a folder holding scores.json) that a study at `study` recorded as
    `recorded`, or None. transfer_study.py records it as its own --out made it: relative to the folder the
    study ran in when --out was relative (reports/transfer_hopper/learn-dyn/DST/SPACE/seedK); looked up
    from here first, then as a path inside `study` (its tail after the study's own folder name)."""
    p = Path(recorded)
    tails = [] if p.is_absolute() else [study / Path(*p.parts[i:]) for i in range(1, len(p.parts))]
    for cand in (p, *tails):
        if (cand / "scores.json").is_file():
            return cand
    return None


def _transfer_digest(name: str, d: dict, path: Path) -> dict:
    """`transfer_from_run`'s measurement from transfer.json's object `d` (at `path`); InputError for a study
    that is not the block's command, KeyError/TypeError/... for a damaged record (`transfer_from_run`)."""
    from dataclasses import asdict

    from simmatch.gail.config import LearnDynConfig
    from simmatch.gail.transfer import file_sha256

    block = TRANSFER[name]
    st = d["settings"]
    if not isinstance(st, dict):
        raise TypeError("settings is not an object")
    for k, v in block.expect.items():
        if st.get(k) != v:
            raise InputError(f"{path}: settings {k}={st.get(k)!r}, block {name} runs {k}={v!r}")
    block_targets = block.args[block.args.index("--targets") + 1].split(",")
    if not isinstance(d["targets"], list) or not d["targets"] or any(t not in block_targets for t in d["targets"]):
        raise InputError(f"{path}: targets {d['targets']!r}, block {name} runs --targets {','.join(block_targets)}")
    if st.get("policy_sha256") != file_sha256(_transfer_policy(name)):
        raise InputError(f"{path}: its policy is not {block.policy}/policy.zip (sha256 differs)")
    # the study sets each run's model, source and space (and the policy's substeps: `ld`)
    defaults = {**asdict(LearnDynConfig()), **{k: block.expect[k] for k in ("model", "src", "space")}, **block.ld}
    runs = {}
    for key, r in d["runs"].items():
        cfg = r["config"]
        for k, v in defaults.items():
            if k in LD_FREE or k in ("dst", "seed", "policy"):
                continue
            got = cfg.get(k, LD_ADDED.get(k))
            if (list(got) if isinstance(got, (list, tuple)) else got) != (list(v) if isinstance(v, tuple) else v):
                what = "" if k in block.ld else "learn-dyn's default "
                raise InputError(f"{r['folder']}: config {k}={got!r}, but the study runs {what}"
                                 f"{k}={v!r} (made with other defaults: run it again)")
        run_dir = _study_run(path.parent, r["folder"])
        if run_dir is not None:
            sc = _run_json(run_dir, "scores.json").get("methods", {})
            try:
                runs[key] = {m: {"one_step": sc[m]["one_step"]["mean"], "h10": sc[m]["h10"]["mean"]}
                             for m in ("raw source", "learned hybrid", "sysid (constant, CMA-ES)") if m in sc}
            except (KeyError, TypeError) as e:
                raise InputError(f"{run_dir / 'scores.json'}: not a learn-dyn run's scores (lacks {e})") \
                    from None
    length: dict = {}
    for c in d["cells"].values():
        length.setdefault(c["target"], {}).setdefault(c["method"], []).append(c["length"])
    return {"targets": d["targets"], "seeds": d["seeds"], "methods": d["methods"], "summary": d["summary"],
            "length": {t: {m: sum(v) / len(v) for m, v in ms.items()} for t, ms in length.items()},
            "runs": runs, "complete": d.get("complete"),
            # every cell's time (the sysid cell's includes its learn-dyn run), over all the study's invocations
            "wall_s": sum(c.get("wall_s") or 0.0 for c in d["cells"].values())}


def measure_transfer(name: str) -> Callable[[], dict]:
    def measure() -> dict:
        _transfer_policy(name)
        with tempfile.TemporaryDirectory() as tmp:
            p = subprocess.run([sys.executable, str(BENCH / "transfer_study.py"), *TRANSFER[name].args, "--out",
                                str(Path(tmp) / "study"), "--quiet"], check=False, capture_output=True, text=True,
                               cwd=ROOT)
            if p.returncode != 0:
                raise RuntimeError(f"transfer_study.py exited {p.returncode}:\n{p.stderr[-3000:]}")
            return transfer_from_run(name, Path(tmp) / "study")
    return measure


def render_transfer(name: str) -> Callable[[dict], str]:
    def pm(s: dict, digits: int) -> str:
        if not s or s.get("mean") is None:
            return "-"
        return f"{s['mean']:.{digits}f}" + ("" if s.get("std") is None else f" ± {s['std']:.{digits}f}")

    def render(m: dict) -> str:
        from simmatch.gail.transfer import METHOD_TITLES

        methods = [k for k in METHOD_TITLES if k in m["methods"]]
        head = ["target", "seeds", *(METHOD_TITLES[k] for k in methods)]

        def n_seeds(t: str) -> str:
            return str(min(m["summary"][t][k]["return"]["n"] for k in methods))

        block = TRANSFER[name]
        out = [f"**Measured** (`python benchmarks/transfer_study.py {' '.join(block.args)} --out {block.out}`: "
               f"{block.what}, {block.expect['refine_steps']:,} PPO steps of fine-tuning per method; "
               f"{(m.get('wall_s') or 0) / 3600:.1f} h of its cells on this 2-core machine"
               + ("" if m.get("complete") else "; not every cell finished: the seeds column says how many") + "). "
               "Return in the target, mean ± sample std over seeds:", "",
               table(head, [[t, n_seeds(t), *(pm(m["summary"][t][k]["return"], 1) for k in methods)]
                            for t in m["targets"]]),
               "", "Forward distance in the target (m), mean ± sample std over seeds:", "",
               table(head, [[t, n_seeds(t), *(pm(m["summary"][t][k]["distance"], 2) for k in methods)]
                            for t in m["targets"]]),
               "", f"Episode length in the target (control steps, at most {block.expect['max_steps']}; shorter: it "
                   "fell), mean over seeds:", "",
               table(head, [[t, n_seeds(t), *(f"{m['length'][t][k]:.0f}" if k in m["length"].get(t, {}) else "-"
                                              for k in methods)] for t in m["targets"]])]
        if m["runs"]:
            rows = []
            for t in m["targets"]:
                rs = [r for k, r in m["runs"].items() if k.split("|")[0] == t]
                if not rs:
                    continue

                def mean(meth: str, h: str, rs=rs) -> str:
                    v = [r[meth][h] for r in rs if meth in r]
                    return f3(sum(v) / len(v)) if v else "-"
                rows.append([t, str(len(rs)), *(f"{mean(k, 'one_step')} / {mean(k, 'h10')}"
                                                for k in ("raw source", "sysid (constant, CMA-ES)", "learned hybrid"))])
            out += ["", "The learn-dyn runs behind the sysid and hybrid columns, on the policy's own held-out target "
                        "data (one-step / 10-step GT error, mean over seeds):", "",
                    table(["target", "runs", "raw source", "sysid (constant)", "learned hybrid"], rows)]
        return "\n".join(out)
    return render


# ---------------------------------------------------------------------------------------------------
# the registry of result blocks
# ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    name: str
    runs: str  # what it runs, for --list
    measure: Callable[[], dict]
    render: Callable[[dict], str]
    slow: bool = False  # a learning run (minutes)


BLOCKS = {b.name: b for b in (
    Block("gap_hopper_drop", "simmatch gap --model hopper -s drop -s sine -s random --json, six pairs",
          measure_gap_hopper, render_gap_hopper),
    Block("gap_pendulums", "simmatch gap --model pendulum|double-pendulum -s sine -s random --horizon 500 "
                           "--threshold 1e-6 --json, six pairs each", measure_gap_pendulums, render_gap_pendulums),
    Block("gap_explain_hopper_drop", "simmatch gap -s drop --explain --json: bullet->dart, bullet->mujoco, "
                                     "bullet->dart --load native", measure_gap_explain, render_gap_explain),
    Block("gap_laikago_blowup", "simmatch gap --model laikago -s sine --src bullet --dst mujoco --json",
          measure_gap_laikago, render_gap_laikago),
    Block("learn_dyn_known_answer", "simmatch learn-dyn --src bullet --dst bullet:low-power",
          measure_ld_known_answer, render_ld_known_answer, slow=True),
    Block("learn_dyn_adversarial_only", "simmatch learn-dyn --src bullet --dst bullet:low-power " + " ".join(ADV_ARGS),
          measure_ld_adversarial, render_ld_adversarial, slow=True),
    Block("learn_dyn_bullet_dart", "simmatch learn-dyn --src bullet --dst dart",
          measure_ld_bullet_dart, render_ld_bullet_dart, slow=True),
    Block("learn_dyn_refine", "simmatch train-policy; simmatch learn-dyn --src bullet --dst bullet:low-power "
                              "--policy P --refine-steps 20000", measure_ld_refine, render_ld_refine, slow=True),
    *(Block(n, "simmatch learn-dyn " + " ".join(a), _ld_state(n), render_ld_state(n), slow=True)
      for n, a in STATE_ARGS.items()),
    *(Block(n, "python benchmarks/transfer_study.py " + " ".join(t.args), measure_transfer(n), render_transfer(n),
            slow=True) for n, t in TRANSFER.items()),
)}


def all_names() -> list[str]:
    return list(BLOCKS) + list(SPEED)


def render(name: str, measurement: dict) -> str:
    """The exact README text of result block NAME for a measurement dict (pure: no engine runs)."""
    return BLOCKS[name].render(measurement)


def load_store() -> dict:
    """The measured numbers (STORE: {block: entry}), {} when there is none; InputError (one line naming the
    file) when it is not a JSON object."""
    if not STORE.exists():
        return {}
    try:
        d = json.loads(STORE.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise InputError(f"--store {STORE}: cannot be read as JSON ({type(e).__name__})") from None
    if not isinstance(d, dict):
        raise InputError(f"--store {STORE}: not a JSON object of blocks")
    return d


def update_store(entries: dict) -> None:
    """Merge {block: entry} into benchmarks/readme_results.json as it is on disk now (another run may have
    stored other blocks meanwhile), written whole (simmatch.outputs: temporary file + rename)."""
    from simmatch.outputs import write_text

    store = load_store()
    store.update(entries)
    write_text(STORE, json.dumps(store, indent=1, sort_keys=True) + "\n")


def write_readme(path: Path, text: str) -> None:
    """README text written whole (simmatch.outputs: temporary file + rename): a kill leaves the old one."""
    from simmatch.outputs import write_text

    write_text(path, text)


def measure(names: list[str], jobs: int, done: Callable[[str, dict], None] | None = None) -> dict:
    """{name: {"measurement": dict, "wall_s": float}} for the blocks that could be measured (a failure is
    printed and left out), `jobs` at a time; `done(name, entry)` is called as each block completes."""
    def one(name):
        t0 = time.perf_counter()
        try:
            m = BLOCKS[name].measure()
        except Exception as e:
            print(f"  {name}: FAILED: {e}", file=sys.stderr, flush=True)
            return name, None
        wall = time.perf_counter() - t0
        print(f"  {name}: measured in {wall:.0f} s", file=sys.stderr, flush=True)
        entry = {"measurement": m, "wall_s": round(wall, 1)}
        if done is not None:
            done(name, entry)
        return name, entry
    # the long blocks first, so that the short ones fill in beside them
    order = sorted(names, key=lambda n: not BLOCKS[n].slow)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return {n: e for n, e in pool.map(one, order) if e is not None}


def _versions() -> dict:
    """Engine and learner versions, and torch's CPU kernel level: the learn-dyn figures are identical run to
    run on one machine but depend on it (ATEN_CPU_CAPABILITY=default instead of AVX512 selects another
    generator in the known-answer run)."""
    out = {}
    try:
        p = subprocess.run([sys.executable, "-c", "import torch; print(torch.backends.cpu.get_cpu_capability())"],
                           check=False, capture_output=True, text=True)
        out["torch_cpu_capability"] = p.stdout.strip() or None
    except OSError:
        out["torch_cpu_capability"] = None
    for mod in ("pybullet", "dartpy", "mujoco", "torch", "stable_baselines3", "numpy"):
        try:
            from importlib.metadata import version
            out[mod] = version({"dartpy": "dartpy", "stable_baselines3": "stable-baselines3"}.get(mod, mod))
        except Exception:
            out[mod] = None
    return out


def _commit() -> str | None:
    p = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True, cwd=ROOT)
    return p.stdout.strip() or None


def main(argv=None) -> int:
    global STORE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="Measure and rewrite the blocks in README.md.")
    mode.add_argument("--check", action="store_true", help="Measure; exit 1 with a diff if README differs.")
    mode.add_argument("--render", action="store_true",
                      help="Rewrite the result blocks from benchmarks/readme_results.json (no measuring).")
    mode.add_argument("--list", action="store_true", help="The blocks, their commands and last times.")
    ap.add_argument("--only", action="append", default=[], metavar="NAME", help="Only this block (repeatable).")
    ap.add_argument("--speed", action="store_true", help="With --write: also the speed blocks (machine-dependent).")
    ap.add_argument("--fast", action="store_true", help="Leave out the learning runs (learn_dyn_*).")
    ap.add_argument("--jobs", type=int, default=2, help="Blocks measured at the same time (default 2).")
    ap.add_argument("--from-run", action="append", default=[], metavar="NAME=FOLDER",
                    help="Take learn-dyn block NAME from a finished run folder of the same command, or the transfer "
                         "block from the study's --out folder (no rerun).")
    ap.add_argument("--readme", type=Path, default=README)
    ap.add_argument("--store", type=Path, default=None,
                    help="Where the measured numbers are kept (default benchmarks/readme_results.json).")
    args = ap.parse_args(argv)
    STORE = args.store or STORE

    unknown = [n for n in args.only if n not in all_names()]
    if unknown:
        print(f"error: unknown block {', '.join(unknown)} (known: {', '.join(all_names())})", file=sys.stderr)
        return 2
    if args.from_run and (args.check or args.list or args.render):
        mode = "--check" if args.check else "--list" if args.list else "--render"
        print(f"error: --from-run rewrites README blocks from run folders; {mode} does not write: give one of them",
              file=sys.stderr)
        return 2
    try:
        store = load_store()
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.list:
        for b in BLOCKS.values():
            wall = store.get(b.name, {}).get("wall_s")
            print(f"{b.name:28} {'-' if wall is None else f'{wall:.0f} s':>8}  {b.runs}")
        for n, cmd in SPEED.items():
            print(f"{n:28} {'speed':>8}  python benchmarks/{' '.join(cmd)}")
        return 0
    if not args.readme.is_file():
        what = "a folder, not a file" if args.readme.is_dir() else "no such file"
        print(f"error: --readme {args.readme}: {what}", file=sys.stderr)
        return 2
    try:
        text = args.readme.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        print(f"error: --readme {args.readme}: cannot be read as UTF-8 text ({type(e).__name__})", file=sys.stderr)
        return 2
    try:
        blocks = parse_blocks(text)
    except BlockError as e:
        print(f"error: --readme {args.readme}: {e}", file=sys.stderr)
        return 2
    missing = [n for n in all_names() if n not in blocks]
    if missing:
        print(f"error: {args.readme}: no markers for {', '.join(missing)}", file=sys.stderr)
        return 2
    results = [n for n in (args.only or list(BLOCKS)) if n in BLOCKS and not (args.fast and BLOCKS[n].slow)]
    speeds = [n for n in (args.only or list(SPEED)) if n in SPEED] if (args.speed or
                                                                       any(n in SPEED for n in args.only)) else []
    if args.from_run:
        # every folder is read and checked before anything is written: a refused one leaves README and store
        taken = {}
        for item in args.from_run:
            name, _, folder = item.partition("=")
            if name not in LD_EXPECT and name not in TRANSFER:
                print(f"error: --from-run takes a learn-dyn or transfer block ({', '.join([*LD_EXPECT, *TRANSFER])}),"
                      f" not {name!r}", file=sys.stderr)
                return 2
            if not folder:
                print(f"error: --from-run {item}: give NAME=FOLDER (a finished run folder)", file=sys.stderr)
                return 2
            try:
                taken[name] = (folder, transfer_from_run(name, Path(folder)) if name in TRANSFER
                                else from_run(name, Path(folder)))
            except InputError as e:
                print(f"error: {e}", file=sys.stderr)
                return 2
            if name not in blocks:  # its markers are not in this README
                print(f"error: {args.readme}: no markers for {name} (add {OPEN.format(name)} and "
                      f"{CLOSE.format(name)} where its block goes)", file=sys.stderr)
                return 2
        new = text
        entries = {}
        for name, (folder, m) in taken.items():
            wall = m.get("wall_s")  # learn-dyn: {"total": ...}; the transfer study: its cells' seconds
            entries[name] = {"measurement": m, "wall_s": wall.get("total") if isinstance(wall, dict) else wall,
                             "from_run": folder,
                             "commit": _commit(), "date": time.strftime("%Y-%m-%d", time.gmtime()),
                             "versions": _versions()}
            new = replace_block(new, name, render(name, m))
        update_store(entries)
        write_readme(args.readme, new)
        print(f"README.md: {len(args.from_run)} blocks taken from run folders")
        return 0
    if args.render:
        absent = [n for n in results if n not in store]
        new = text
        for n in results:
            if n not in absent:
                new = replace_block(new, n, render(n, store[n]["measurement"]))
        if new != text:
            write_readme(args.readme, new)
        print(f"rendered {len(results) - len(absent)} blocks from {STORE.name}"
              + (f"; never measured: {', '.join(absent)}" if absent else ""))
        return 1 if absent else 0
    if args.check and speeds:
        print("note: speed blocks are not checked (machine-dependent)", file=sys.stderr)
        speeds = []
    t0 = time.perf_counter()
    meta = {"commit": _commit(), "date": time.strftime("%Y-%m-%d", time.gmtime()), "versions": _versions()}
    lock = threading.Lock()

    def keep(name: str, entry: dict) -> None:  # --write: every measured block is stored at once
        with lock:
            update_store({name: {**entry, **meta}})

    fresh = measure(results, args.jobs, keep if args.write else None)
    failed = [n for n in results if n not in fresh]
    text = args.readme.read_text(encoding="utf-8")  # as it is now: only the blocks measured here are replaced
    new = text
    for n in fresh:
        new = replace_block(new, n, render(n, fresh[n]["measurement"]))
    for n in speeds:
        ts = time.perf_counter()
        new = replace_block(new, n, run_speed(n))
        print(f"  {n}: measured in {time.perf_counter() - ts:.0f} s", file=sys.stderr, flush=True)
    print(f"{len(results) + len(speeds)} blocks in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    for n, e in fresh.items():
        print(f"  {n}: {e['wall_s']:.0f} s", file=sys.stderr)
    if args.check:
        if new == text and not failed:
            print("README.md: every checked block matches a fresh measurement")
            return 0
        sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True),
                                                   "README.md", "README.md (measured now)"))
        if failed:
            print(f"could not measure: {', '.join(failed)}")
        return 1
    if args.write:
        if new != text:
            write_readme(args.readme, new)
        print(f"README.md: {len(fresh) + len(speeds)} blocks written"
              + (f"; could not measure {', '.join(failed)}" if failed else ""))
        return 1 if failed else 0
    # neither: print the rendered blocks
    for n in fresh:
        print(f"{OPEN.format(n)}\n{render(n, fresh[n]['measurement'])}\n{CLOSE.format(n)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
