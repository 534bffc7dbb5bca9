"""Regression fixtures: what `simmatch check` and `simmatch gap` report on every shipped model, in a
normalized form, so that a redesign (issue 11) can be held to "the same findings, numbers and reports
as before, modulo field renames" (`tests/test_regression_reports.py`).

What it runs (RUNS below; every run through the command line, `simmatch.cli.app.main`, into a temporary
report folder, then check.json / gap.json normalized by `normalize`):

- `simmatch check MODEL --random-q 20 --seed 0` for hopper, hopper-box, pendulum, double-pendulum and
  laikago: all three engines, both loads (native and matched). laikago with the default `--base auto`
  (its chassis has mass: a floating base), as the README's `simmatch check laikago --random-q 100` uses it.
- `simmatch gap` (default scenarios drop, sine, random; seed 0; short horizons to keep it fast):
  hopper bullet->dart, bullet->mujoco and mujoco->dart (matched, 300 steps); hopper bullet->dart
  `--load native` (200 steps); hopper bullet->dart `-s drop --explain` (150 steps); double-pendulum
  dart->mujoco (fixed base, joint-limit forces in both; 300 steps); laikago bullet->mujoco `-s drop`
  (floating base; 150 steps).
- marked slow (the test runs them with `-m slow`), the README's commands at full length: check hopper
  and laikago with `--random-q 100`, gap hopper bullet->dart 1000 steps, and with `-s drop --explain`.

Normalized (`normalize_check`, `normalize_gap`): what legitimately varies between machines and
checkouts is left out (file paths, engine versions) and so is prose (a finding's `detail` and `fix`,
gap's metric definitions, the reasons in its unsupported notes and --explain); what the reports say is
kept: the exit code; for check the model summary (less its path), config, tolerances, floors, the
summary (counts, pairwise differences, the per-engine status lines) and every finding (engine, load,
category, quantity, subject, severity, cause, expected, actual, abs_error, rel_error, tolerance,
extra), sorted by (engine, load, category, quantity, subject); for gap the options, config,
components, unsupported notes (what and where), every summary number per scenario (GT open-loop
mean/max/final, one-step mean/max, divergence, unstable, worst DoF, per-DoF errors, contact figures,
joint-limit and root forces), the per-step GT curves sampled every PER_STEP_EVERY steps, and the
--explain ranking with its shares (knob ids and titles). Floats are rounded to 12 significant
digits. Keys keep the names they have in check.json / gap.json, so a renamed field is one entry in
the test's RENAMES.

The command lines are built in one place each, `check_argv` and `gap_argv`: when the CLI grammar
changes (`gap --model hopper` -> `gap hopper`), those two functions change and nothing else.

The fixtures in this folder were made at commit bb1738c (main before the redesign) with pybullet
3.2.7, dartpy 6.20, mujoco 4.0.0, on x86_64 (two runs gave byte-identical fixtures, in this process and
as separate `simmatch` processes); regenerate them (only on purpose: a regenerated fixture is a new
baseline, say so in the commit) with

    .venv/bin/python tests/data/regression/make_fixtures.py            # every run
    .venv/bin/python tests/data/regression/make_fixtures.py check-hopper gap-hopper-bullet-dart

and `--verify` to compare fresh runs with the fixtures byte for byte instead of writing (the test
compares floats to a tolerance).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURE_COMMIT = "bb1738c"
PER_STEP_EVERY = 25  # gap's per-step GT curves: every 25th step (0, 25, 50, ...) and the last one
DIGITS = 12  # significant digits of the floats written to a fixture


@dataclass(frozen=True)
class Run:
    """One command whose report is a fixture. `name` is the fixture's file stem."""

    name: str
    command: str  # "check" or "gap"
    model: str
    # check
    random_q: int = 20
    seed: int = 0
    base: str | None = None  # None: the command's default (auto)
    # gap
    src: str = ""
    dst: str = ""
    load: str = "matched"
    scenarios: tuple[str, ...] = ()  # empty: the command's default (drop, sine, random)
    horizon: int = 0
    explain: bool = False
    slow: bool = False  # a longer variant, run only with -m slow
    extra_args: tuple[str, ...] = field(default=())

    @property
    def fixture(self) -> Path:
        return HERE / f"{self.name}.json"


SHIPPED = ("hopper", "hopper-box", "pendulum", "double-pendulum", "laikago")

RUNS: tuple[Run, ...] = (
    *(Run(f"check-{m}", "check", m) for m in SHIPPED),
    Run("gap-hopper-bullet-dart", "gap", "hopper", src="bullet", dst="dart", horizon=300),
    Run("gap-hopper-bullet-mujoco", "gap", "hopper", src="bullet", dst="mujoco", horizon=300),
    Run("gap-hopper-mujoco-dart", "gap", "hopper", src="mujoco", dst="dart", horizon=300),
    Run("gap-hopper-bullet-dart-native", "gap", "hopper", src="bullet", dst="dart", load="native", horizon=200),
    Run("gap-hopper-bullet-dart-explain", "gap", "hopper", src="bullet", dst="dart", scenarios=("drop",),
        horizon=150, explain=True),
    Run("gap-double-pendulum-dart-mujoco", "gap", "double-pendulum", src="dart", dst="mujoco", horizon=300),
    Run("gap-laikago-bullet-mujoco", "gap", "laikago", src="bullet", dst="mujoco", scenarios=("drop",),
        horizon=150),
    # the README's own commands at full length (-m slow)
    Run("slow-check-hopper-q100", "check", "hopper", random_q=100, slow=True),
    Run("slow-check-laikago-q100", "check", "laikago", random_q=100, slow=True),
    Run("slow-gap-hopper-bullet-dart-h1000", "gap", "hopper", src="bullet", dst="dart", horizon=1000, slow=True),
    Run("slow-gap-hopper-bullet-dart-explain-h1000", "gap", "hopper", src="bullet", dst="dart", scenarios=("drop",),
        horizon=1000, explain=True, slow=True),
)


# ---------------------------------------------------------------- the command lines (one place each)

def check_argv(run: Run, out: Path) -> list[str]:
    """`simmatch check` for `run`, its report into `out`."""
    argv = ["check", run.model, "--random-q", str(run.random_q), "--seed", str(run.seed)]
    if run.base is not None:
        argv += ["--base", run.base]
    return [*argv, *run.extra_args, "--out", str(out)]


def gap_argv(run: Run, out: Path) -> list[str]:
    """`simmatch gap MODEL` for `run` (the one grammar of issue 11; bb1738c spelled it `--model MODEL`, which
    still works as a hidden alias), its report into `out` (no plots, no progress bar)."""
    argv = ["gap", run.model, "--src", run.src, "--dst", run.dst, "--load", run.load,
            "--horizon", str(run.horizon), "--seed", str(run.seed)]
    for s in run.scenarios:
        argv += ["-s", s]
    if run.explain:
        argv.append("--explain")
    return [*argv, *run.extra_args, "--no-plots", "-q", "--out", str(out)]


ARGV = {"check": check_argv, "gap": gap_argv}
REPORT = {"check": "check.json", "gap": "gap.json"}


def run_command(run: Run, out: Path) -> tuple[int, dict]:
    """Run `run` through the CLI (in this process, as tests/test_check_cli.py does), report into
    `out`; returns (exit code, the report's JSON). Terminal output is discarded."""
    from simmatch.cli.app import main

    with contextlib.redirect_stdout(io.StringIO()):
        rc = main(ARGV[run.command](run, out))
    path = out / REPORT[run.command]
    if not path.exists():
        raise RuntimeError(f"{run.name}: exit code {rc} and no {path.name} written by {ARGV[run.command](run, out)}")
    return rc, json.loads(path.read_text())


# ---------------------------------------------------------------- normalization (one place)

def _round(x):
    """Floats to DIGITS significant digits, recursively; everything else as it is."""
    if isinstance(x, float):
        return float(f"{x:.{DIGITS}g}") if math.isfinite(x) else x
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_round(v) for v in x]
    return x


FINDING_FIELDS = ("engine", "load", "category", "quantity", "subject", "severity", "cause", "expected", "actual",
                  "abs_error", "rel_error", "tolerance", "extra")
FINDING_KEY = ("engine", "load", "category", "quantity", "subject")


def finding_key(f: dict) -> tuple:
    """What names a finding (no two findings of one report share it on the shipped models)."""
    return tuple(str(f.get(k)) for k in FINDING_KEY)


def finding_label(f: dict) -> str:
    """`bullet/native inertia.inertia foot`: a finding's name in a failure message."""
    e, l, c, q, s = finding_key(f)
    return f"{e}/{l} {c}.{q} {s}"


def normalize_check(raw: dict, rc: int) -> dict:
    """check.json without what varies (paths, versions, prose); findings sorted by FINDING_KEY."""
    model = {k: v for k, v in raw["model"].items() if k != "source"}
    findings = [{k: f.get(k) for k in FINDING_FIELDS} for f in raw["findings"]]
    findings.sort(key=lambda f: (finding_key(f), json.dumps(f, sort_keys=True)))
    return _round({
        "command": "check",
        "exit_code": rc,
        "model": model,
        "config": raw["config"],
        "tolerances": raw["tolerances"],
        "floors": raw["floors"],
        "summary": raw["summary"],
        "findings": findings,
    })


def _sampled(curve: list) -> list:
    idx = list(range(0, len(curve), PER_STEP_EVERY))
    if curve and idx[-1] != len(curve) - 1:
        idx.append(len(curve) - 1)
    return [curve[i] for i in idx]


def normalize_gap(raw: dict, rc: int) -> dict:
    """gap.json without what varies (prose: definitions, the reasons in notes and --explain); per-step
    curves sampled every PER_STEP_EVERY."""
    scenarios = {}
    for name, s in raw["scenarios"].items():
        s = dict(s)
        if "per_step" in s:
            s["per_step"] = {k: _sampled(v) for k, v in s["per_step"].items()}
        scenarios[name] = s
    notes = {k: v for k, v in (raw.get("notes") or {}).items() if k != "definitions"}
    if "unsupported" in notes:  # 'implicit_damping (thigh_joint): PyBullet applies ...': what, not why
        notes["unsupported"] = {e: [n.split(":", 1)[0] for n in ns] for e, ns in notes["unsupported"].items()}
    explain = raw.get("explain")
    if explain:  # the ranking and its shares; the prose ('measure', each 'reason') left out
        explain = {k: v for k, v in explain.items() if k != "measure"}
        explain["not_applicable"] = [{k: v for k, v in n.items() if k != "reason"}
                                     for n in explain.get("not_applicable", [])]
    return _round({
        "command": "gap",
        "exit_code": rc,
        **{k: raw[k] for k in ("model", "src", "dst", "load", "options", "config", "components")},
        "notes": notes,
        "scenarios": scenarios,
        "explain": explain,
    })


NORMALIZE = {"check": normalize_check, "gap": normalize_gap}


def normalize(run: Run, raw: dict, rc: int) -> dict:
    return NORMALIZE[run.command](raw, rc)


LINE = 400  # a value whose JSON is at most this long is written on one line


def dumps(fixture: dict) -> str:
    """A fixture as written: JSON with sorted keys; a value whose JSON fits in LINE characters (a
    finding, a 3x3 inertia, a scenario's contact figures) on one line, so a diff names what changed;
    newline at the end."""
    return _dumps(fixture, "") + "\n"


def _dumps(x, indent: str) -> str:
    flat = json.dumps(x, sort_keys=True, allow_nan=False)
    if len(flat) <= LINE or not isinstance(x, (dict, list)) or not x:
        return flat
    inner = indent + " "
    if isinstance(x, dict):
        items = [f"{inner}{json.dumps(k)}: {_dumps(x[k], inner)}" for k in sorted(x)]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    return "[\n" + ",\n".join(inner + _dumps(v, inner) for v in x) + "\n" + indent + "]"


def produce(run: Run, out: Path | None = None) -> dict:
    """Run `run` (its report into the folder `out`, by default a temporary one) and return its
    normalized report."""
    if out is not None:
        rc, raw = run_command(run, out)
        return normalize(run, raw, rc)
    with tempfile.TemporaryDirectory(prefix=f"simmatch-regress-{run.name}-") as d:
        rc, raw = run_command(run, Path(d) / "report")
    return normalize(run, raw, rc)


def main(argv: list[str]) -> int:
    verify = "--verify" in argv
    names = [a for a in argv if not a.startswith("--")]
    unknown = set(names) - {r.name for r in RUNS}
    if unknown:
        print(f"unknown run(s): {', '.join(sorted(unknown))}; known: {', '.join(r.name for r in RUNS)}",
              file=sys.stderr)
        return 2
    bad = 0
    for run in RUNS:
        if names and run.name not in names:
            continue
        text = dumps(produce(run))
        if verify:
            same = run.fixture.exists() and run.fixture.read_text() == text
            bad += not same
            print(f"{run.name}: {'identical' if same else 'DIFFERS'}")
        else:
            tmp = run.fixture.with_name(f".{run.fixture.name}.tmp{os.getpid()}")
            tmp.write_text(text)
            tmp.replace(run.fixture)
            print(f"{run.fixture.relative_to(HERE.parents[2])}: {len(text)} bytes")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
