"""`simmatch sweep` over every robot and object URDF of the three public model packages, plus the
corpus's own bookkeeping: the measure of simmatch on real robots.

    python benchmarks/corpus_sweep.py [--out reports/corpus_sweep] [--workers 2] [--ray local|auto|ADDRESS]
                                      [--timeout 900] [--only SUBSTRING ...]
                                      [--packages pybullet_data,example-robot-data,icub-models]
    python benchmarks/corpus_sweep.py --write-list corpus.txt   # the corpus as a list for `simmatch sweep`
    python benchmarks/corpus_sweep.py --summarise reports/corpus_sweep/corpus.json   # re-print a summary

The corpus (`discover`):
- `pybullet_data` (comes with pybullet): every `*.urdf` except the 1000 procedurally generated
  objects under `random_urdfs/` (`--include-random-urdfs` adds them);
- `example-robot-data` (pip `example-robot-data`): every `*.urdf` under its `robots/` folder;
- `icub-models` (pip `icub-models`): every robot's `model.urdf`.
A package that is not installed is skipped with a line on stderr.

The checks are `simmatch sweep`'s library (`simmatch.sweep.run_sweep`: each file checked in its own
process group, `--workers` at a time or as Ray tasks with `--ray`, killed after `--timeout` seconds;
`--out` is a sweep folder, resumable, with sweep.html and a report folder per file), with the
arguments a user would pass: `--base fixed` for arms, hands and test
rigs whose root link has mass (their users weld them), `--base floating` for legged robots,
humanoids, aerial and mobile robots (the table `BASE_RULES` says which and why); everything else
`--base auto`. `package://` mesh URIs need no argument (simmatch resolves them against the URDF's
parent folders); the table says which files use them.

Output folder (default `reports/corpus_sweep/`, git-ignored): the sweep's own files (`sweep.html`,
`sweep.json`, `sweep.csv`, `models/<id>/`) and the corpus's: `corpus.json` (rows, summary, versions),
`corpus.csv` (one row per file), `corpus.md` (summary + table); the Markdown summary is also printed
on stdout, ready to paste. Per file: `result` is check's exit code (0 nothing reaches error, 1 errors
found, 2 rejected as bad input), `traceback` (an internal error: a Python exception in simmatch),
`timeout` or `crashed` (the check's process died from a signal); the error count per
engine and load mode (`failed`/`crashed` when the engine gave up); the number of findings whose
cause is `unknown`; error findings on matched builds that no catalogued engine behaviour explains;
wall time. For a rejected file (exit 2) or a traceback the script also asks whether PyBullet
(`loadURDF`) and Pinocchio (`buildModelFromUrdf`) load it, each in its own process; a rejection of a
file one of them loads is counted as wrong (`wrongly_rejected`) unless the file is malformed (XML, or
an attribute that is not the numbers URDF requires), or the element at fault is a geometry and only
Pinocchio (which never reads geometry) loads it.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import fnmatch
import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from simmatch.compare.config import CheckConfig
from simmatch.outputs import write_text
from simmatch.sweep import ModelSpec, check_model, make_row, run_in_process, run_sweep, with_fail_on
from simmatch.sweep.inputs import spec_for

PACKAGES = ("pybullet_data", "example-robot-data", "icub-models")
SOURCES = ("bullet/native", "bullet/matched", "dart/native", "dart/matched", "mujoco/native", "mujoco/matched")

# Causes that are not an engine behaviour: an error on a matched build with one of these is unexplained.
GENERIC_CAUSES = {"unknown", "engine_crash", "engine_failure", "unsupported"}

# (glob on "package/relative/path", base, why): the first match wins; no match means --base auto.
BASE_RULES: list[tuple[str, str, str]] = [
    # arms, hands and rigs whose root link has mass: users weld them (loadURDF(useFixedBase=True), ...)
    ("pybullet_data/franka_panda/*", "fixed", "arm"),
    ("pybullet_data/kuka_iiwa/model_free_base.urdf", "auto", "free-base variant of the arm"),
    ("pybullet_data/kuka_iiwa/*", "fixed", "arm"),
    ("pybullet_data/xarm/*", "fixed", "arm"),
    ("pybullet_data/TwoJointRobot_*", "fixed", "test arm"),
    ("pybullet_data/cartpole.urdf", "fixed", "rail on the ground"),
    ("pybullet_data/pendulum5.urdf", "fixed", "pendulum"),
    ("example-robot-data/talos_data/robots/talos_left_arm.urdf", "fixed", "arm"),
    ("example-robot-data/allegro_hand_description/*", "fixed", "hand"),
    ("example-robot-data/asr_twodof_description/*", "fixed", "arm"),
    ("example-robot-data/baxter_description/*", "fixed", "arms on a pedestal"),
    ("example-robot-data/double_pendulum_description/*", "fixed", "pendulum"),
    ("example-robot-data/finger_edu_description/*", "fixed", "finger rig"),
    ("example-robot-data/kinova_description/*", "fixed", "arm"),
    ("example-robot-data/panda_description/*", "fixed", "arm"),
    ("example-robot-data/so_arm_description/*", "fixed", "arm"),
    ("example-robot-data/ur_description/*", "fixed", "arm"),
    ("example-robot-data/xarm_description/*", "fixed", "arm"),
    ("example-robot-data/z1_description/*", "fixed", "arm"),
    ("icub-models/left_hand_mk3/*", "fixed", "hand"),
    ("icub-models/left_wrist_mk2/*", "fixed", "wrist rig"),
    # legged, humanoid, aerial and wheeled robots move their root
    ("pybullet_data/a1/*", "floating", "quadruped"),
    ("pybullet_data/aliengo/*", "floating", "quadruped"),
    ("pybullet_data/laikago/*", "floating", "quadruped"),
    ("pybullet_data/mini_cheetah/*", "floating", "quadruped"),
    ("pybullet_data/quadruped/*", "floating", "quadruped"),
    ("pybullet_data/humanoid/*", "floating", "humanoid"),
    ("pybullet_data/biped/*", "floating", "biped"),
    ("pybullet_data/husky/*", "floating", "wheeled robot"),
    ("pybullet_data/racecar/*", "floating", "wheeled robot"),
    ("pybullet_data/r2d2.urdf", "floating", "wheeled robot"),
    ("pybullet_data/bicycle/*", "floating", "bicycle"),
    ("example-robot-data/*", "floating", "legged, humanoid, aerial or mobile robot"),
    ("icub-models/*", "floating", "humanoid"),
]


@dataclass(frozen=True)
class CorpusFile:
    package: str
    rel: str            # path inside the package
    path: str           # absolute path
    base: str           # fixed | floating | auto
    base_why: str
    package_uri: bool   # the file uses package:// URIs

    @property
    def name(self) -> str:
        return f"{self.package}/{self.rel}"

    @property
    def args(self) -> list[str]:
        return [] if self.base == "auto" else ["--base", self.base]


def base_for(name: str) -> tuple[str, str]:
    for pattern, base, why in BASE_RULES:
        if fnmatch.fnmatchcase(name, pattern):
            return base, why
    return "auto", "object or scene: loaded as is"


def _package_files(package: str, include_random: bool) -> list[tuple[str, Path]]:
    """(path inside the package, absolute path) of every URDF of `package`; [] when not installed."""
    if package == "pybullet_data":
        try:
            import pybullet_data
        except ImportError:
            return []
        root = Path(pybullet_data.getDataPath())
        return [(p.relative_to(root).as_posix(), p) for p in sorted(root.rglob("*.urdf"))
                if include_random or "random_urdfs" not in p.relative_to(root).parts]
    if package == "example-robot-data":
        from importlib.metadata import PackageNotFoundError, distribution

        try:
            dist = distribution("example-robot-data")
        except PackageNotFoundError:
            return []
        out = []
        for f in dist.files or []:
            s = f.as_posix()
            if s.endswith(".urdf") and "/robots/" in s:
                out.append((s.split("/robots/", 1)[1], Path(dist.locate_file(f)).resolve()))
        return sorted(out)
    if package == "icub-models":
        try:
            import icub_models
        except ImportError:
            return []
        root = Path(icub_models.get_models_path())
        return [(f"{n}/model.urdf", root / n / "model.urdf") for n in sorted(icub_models.get_robot_names())
                if (root / n / "model.urdf").is_file()]
    raise ValueError(f"unknown package {package!r}; choose from {', '.join(PACKAGES)}")


def discover(packages=PACKAGES, include_random: bool = False, only: list[str] | None = None) -> list[CorpusFile]:
    """Every URDF of the installed corpus packages, with the --base a user would pass."""
    files = []
    for package in packages:
        found = _package_files(package, include_random)
        if not found:
            print(f"corpus_sweep: package {package} not installed (or has no URDF): skipped", file=sys.stderr)
        for rel, path in found:
            name = f"{package}/{rel}"
            if only and not any(s in name for s in only):
                continue
            base, why = base_for(name)
            text = Path(path).read_text(errors="replace")
            files.append(CorpusFile(package, rel, str(path), base, why, "package://" in text))
    return files


# -- running one file ----------------------------------------------------------------------------

def _run(cmd: list[str], timeout: float, cwd: str) -> tuple[int | None, str, str, float]:
    """(exit code or None on timeout, stdout, stderr, seconds); the whole process group is killed
    on timeout (check starts engine child processes)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err, time.perf_counter() - t0
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return None, out, err, time.perf_counter() - t0


_PROBE = r"""
import sys
path, base, what = sys.argv[1], sys.argv[2], sys.argv[3]
if what == "pybullet":
    import pybullet as p
    c = p.connect(p.DIRECT)
    body = p.loadURDF(path, useFixedBase=(base == "fixed"), physicsClientId=c)
    print("OK", p.getNumJoints(body, physicsClientId=c))
else:
    import pinocchio as pin
    m = pin.buildModelFromUrdf(path) if base != "floating" else pin.buildModelFromUrdf(path, pin.JointModelFreeFlyer())
    print("OK", m.nv)
"""


def probe_load(path: str, base: str, what: str, timeout: float = 120.0) -> str:
    """'yes' when `what` ('pybullet' or 'pinocchio') loads the file, else 'no: <reason>'."""
    with tempfile.TemporaryDirectory() as tmp:
        rc, out, err, _ = _run([sys.executable, "-c", _PROBE, path, base, what], timeout, tmp)
    if rc == 0 and "OK" in out:
        return "yes"
    if rc is None:
        return "no: timeout"
    lines = [ln for ln in err.strip().splitlines() if ln.strip() and "build time" not in ln]
    if rc == 1 and lines and "ModuleNotFoundError" in lines[-1]:
        return "not installed"
    return "no: " + (lines[-1][:160] if lines else f"exit {rc}")


def _first_error_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errs = [ln for ln in lines if ln.startswith("error:")]
    return errs[-1] if errs else (lines[-1] if lines else "")


def _exception_line(stderr: str) -> str:
    """The last line of the last traceback on stderr (`Type: message`)."""
    tail = stderr[stderr.rfind("Traceback (most recent call last)"):]
    last = ""
    for ln in tail.splitlines()[1:]:
        if ln and not ln.startswith(" ") and not ln.startswith("Traceback"):
            last = ln
    return last.strip()


def _allowed(cause: str, engine: str) -> bool:
    """A catalogued engine behaviour of `engine` (or a model-level cause), not a generic label."""
    from simmatch.causes import CATALOGUE

    c = CATALOGUE.get(cause)
    return c is not None and cause not in GENERIC_CAUSES and c.engine in (engine, "*")


def spec_of(cf: CorpusFile, random_q: int = 20) -> ModelSpec:
    """The sweep's spec of a corpus file: `check FILE --random-q N` plus the file's --base."""
    return spec_for(cf.path, cf.args, CheckConfig(model="", random_q=random_q), origin=cf.name)


def corpus_row(cf: CorpusFile, row: dict, files: dict[str, str], wall: float, probe: bool = True) -> dict:
    """The corpus's row of a file from the sweep's row (`simmatch.sweep.make_row`, results at
    --fail-on error) and the model's report files."""
    out = {"file": cf.name, "args": " ".join(cf.args), "base_why": cf.base_why,
           "package_uri": cf.package_uri, "exit_code": None, "result": "", "base": "", "dof": None,
           "unknown": 0, "matched_unexplained": 0, "wall_s": round(wall, 2), "message": "",
           "pybullet_loads": "", "pinocchio_loads": "", "path": cf.path}
    out.update(dict.fromkeys(SOURCES, ""))
    findings = []
    res = row["result"]
    if res in ("clean", "findings"):
        out["exit_code"] = out_code = 1 if res == "findings" else 0
        out["result"] = str(out_code)
        out["base"], out["dof"] = row["base"], row["dof"]
        for src, v in row["sources"].items():
            if src in SOURCES:
                out[src] = v if isinstance(v, str) else v["error"]
        report = json.loads(files["check.json"])
        for f in report["findings"]:
            unexplained = (f["load"] == "matched" and f["severity"] == "error"
                           and not _allowed(f["cause"], f["engine"]))
            out["unknown"] += f["cause"] == "unknown"
            out["matched_unexplained"] += unexplained
            if f["severity"] == "error" or f["cause"] in GENERIC_CAUSES - {"unsupported"} or unexplained:
                findings.append({k: f[k] for k in ("engine", "load", "severity", "category", "quantity",
                                                   "subject", "cause", "rel_error")}
                                | {"detail": (f.get("detail") or "").splitlines()[0][:300] if f.get("detail") else "",
                                   "unexplained": unexplained})
    elif res == "rejected":
        out["exit_code"], out["result"], out["message"] = 2, "2", f"error: {row['message']}"
    elif res == "internal-error":
        out["exit_code"], out["result"], out["message"] = 70, "traceback", row["message"]
    else:  # timeout, crashed
        out["result"], out["message"] = res, row["message"]
    if probe and out["result"] in ("2", "traceback", "timeout", "crashed"):
        out["pybullet_loads"] = probe_load(cf.path, cf.base, "pybullet")
        out["pinocchio_loads"] = probe_load(cf.path, cf.base, "pinocchio")
    out["findings"] = findings
    return out


def run_one(cf: CorpusFile, random_q: int = 20, timeout: float = 900.0, probe: bool = True) -> dict:
    """Check one file as the sweep does (`simmatch.sweep.check_model` in its own process group) and
    return its corpus row."""
    spec = spec_of(cf, random_q)
    t0 = time.perf_counter()
    outcome = run_in_process(check_model, (spec.config, 1), timeout)
    row, files = make_row(spec, outcome)
    return corpus_row(cf, with_fail_on(row, "error"), files, time.perf_counter() - t0, probe)


# -- summary -------------------------------------------------------------------------------------

def _norm(text: str) -> str:
    """A message with its file, names and numbers blanked, so that one kind groups together."""
    t = text.strip().splitlines()[0] if text.strip() else ""
    t = re.sub(r"^error:\s*", "", t)
    t = re.sub(r"(/[^\s:'\"]+)+\.(urdf|xml|stl|STL|dae|obj|DAE|OBJ)", "FILE", t)
    t = re.sub(r"\b(link|joint)\[[^\]]*\]", r"\1[*]", t)
    t = re.sub(r"'[^']*'", "'*'", t)
    t = re.sub(r"\"[^\"]*\"", '"*"', t)
    t = re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "#", t)
    t = re.sub(r"\[[#,\s.\-]*\]", "[#]", t)
    return t[:160]


def failure_kinds(rows: list[dict]) -> list[dict]:
    """Every way a file fails, grouped into kinds: kind, count (files), files, one example message.

    Kinds: rejected (exit 2, by message with names and numbers blanked), traceback (by exception
    line), timeout / signal / bad-json; engine failures and crashes (by engine and message, with the
    load modes it happened in); findings with cause `unknown` and matched-build errors with no
    catalogued engine behaviour, by the file's *signature* in each category: which quantities in which
    sources (one root cause gives one signature: e.g. PyBullet's tilted-root read-back is
    "dynamics bias_forces, forward_dynamics, gravity_torques in bullet/matched")."""
    groups: dict[str, dict] = {}

    def add(kind: str, file: str, example: str):
        g = groups.setdefault(kind, {"kind": kind, "files": [], "example": example})
        if file not in g["files"]:
            g["files"].append(file)

    for r in rows:
        res = r["result"]
        if res == "2":
            add(f"rejected (exit 2): {_norm(r['message'])}", r["file"], r["message"])
        elif res == "traceback":
            add(f"traceback: {_norm(r['message'])}", r["file"], r["message"])
        elif res in ("timeout", "bad-json") or res.startswith("signal"):
            add(res, r["file"], r["message"])
        failures: dict[tuple, set] = {}
        signatures: dict[tuple, tuple[set, set, str]] = {}
        for f in r.get("findings", []):
            src = f"{f['engine']}/{f['load']}"
            if f["cause"] in ("engine_failure", "engine_crash"):
                failures.setdefault((f["engine"], f["cause"], _norm(f["detail"]), f["detail"]), set()).add(f["load"])
                continue
            if f["cause"] == "unknown":
                key = ("cause unknown", f["category"])
            elif f["unexplained"]:
                key = (f"matched error with cause {f['cause']} (not an engine behaviour)", f["category"])
            else:
                continue
            quantities, sources, _ = signatures.setdefault(key, (set(), set(), f"{f['subject']}: {f['detail']}"))
            quantities.add(f["quantity"])
            sources.add(src)
        for (engine, cause, norm, detail), loads in failures.items():
            add(f"{engine} ({', '.join(sorted(loads))}) {cause}: {norm}", r["file"], detail)
        for (label, category), (quantities, sources, example) in signatures.items():
            add(f"{label}: {category} {', '.join(sorted(quantities))} in {', '.join(sorted(sources))}",
                r["file"], example)
    out = sorted(groups.values(), key=lambda g: (-len(g["files"]), g["kind"]))
    for g in out:
        g["count"] = len(g["files"])
    return out


# Rejections that are right even when PyBullet's lenient parser reads the file: malformed XML and
# attributes that are not the numbers URDF requires (re-parsing leniently would change the very thing
# being measured).
MALFORMED = ("malformed XML", "is not a number", "space-separated numbers", "has no <link>")


def wrongly_rejected(row: dict) -> bool:
    """Exit 2 on a file that PyBullet loads, or that Pinocchio loads when the element at fault is not a
    geometry (Pinocchio's model loader never reads geometry), unless the file is malformed."""
    if row["result"] != "2" or any(m in row["message"] for m in MALFORMED):
        return False
    if row["pybullet_loads"] == "yes":
        return True
    return row["pinocchio_loads"] == "yes" and "/geometry/" not in row["message"]


def summarise(rows: list[dict]) -> dict:
    results = Counter(r["result"] for r in rows)
    per_source = {}
    for s in SOURCES:
        vals = [r[s] for r in rows if r["result"] in ("0", "1")]
        per_source[s] = {"agrees": sum(v == 0 for v in vals), "errors": sum(isinstance(v, int) and v > 0 for v in vals),
                         "failed": sum(v == "failed" for v in vals), "crashed": sum(v == "crashed" for v in vals)}
    return {
        "files": len(rows),
        "results": dict(sorted(results.items())),
        "tracebacks": results.get("traceback", 0),
        "rejected_but_loadable": [r["file"] for r in rows if wrongly_rejected(r)],
        "files_with_unknown_cause": [r["file"] for r in rows if r["unknown"]],
        "files_with_unexplained_matched_errors": [r["file"] for r in rows if r["matched_unexplained"]],
        "per_source": per_source,
        "kinds": failure_kinds(rows),
        "wall_s_total": round(sum(r["wall_s"] for r in rows), 1),
    }


def markdown_summary(summary: dict, max_kinds: int = 40) -> str:
    s = summary
    lines = [f"Corpus: {s['files']} URDF files; `check FILE --random-q N` per file through `simmatch sweep` "
             f"({s['wall_s_total']:.0f} s of check time in all).", "",
             "| result | files |", "|---|---|"]
    names = {"0": "0 (nothing reaches error)", "1": "1 (errors found)", "2": "2 (rejected as bad input)"}
    lines += [f"| {names.get(k, k)} | {v} |" for k, v in s["results"].items()]
    lines += ["", f"- tracebacks: {s['tracebacks']}",
              f"- rejected (exit 2) although PyBullet or Pinocchio loads the file (malformed XML and numbers "
              f"excepted): {len(s['rejected_but_loadable'])}",
              f"- files with a finding whose cause is `unknown`: {len(s['files_with_unknown_cause'])}",
              f"- files with an `error` on a matched build that no catalogued engine behaviour explains: "
              f"{len(s['files_with_unexplained_matched_errors'])}", "",
              "| engine / load (files that loaded) | agrees | errors | failed | crashed |", "|---|---|---|---|---|"]
    for src, c in s["per_source"].items():
        lines.append(f"| {src} | {c['agrees']} | {c['errors']} | {c['failed']} | {c['crashed']} |")
    lines += ["", "| failure kind | files | examples |", "|---|---|---|"]
    for g in s["kinds"][:max_kinds]:
        ex = ", ".join(f"`{f}`" for f in g["files"][:3])
        lines.append(f"| {g['kind'].replace('|', '/')} | {g['count']} | {ex} |")
    if len(s["kinds"]) > max_kinds:
        lines.append(f"| ... {len(s['kinds']) - max_kinds} more kinds in sweep.md | | |")
    return "\n".join(lines) + "\n"


def markdown_table(rows: list[dict]) -> str:
    head = ["file", "args", "package://", "result", "base", "DoF", *SOURCES, "unknown", "matched unexplained",
            "wall s", "message", "PyBullet loads", "Pinocchio loads"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["file"], r["args"], "yes" if r["package_uri"] else "", r["result"], r["base"],
                 "" if r["dof"] is None else str(r["dof"]), *(str(r[s]) for s in SOURCES), str(r["unknown"]),
                 str(r["matched_unexplained"]), f"{r['wall_s']:.1f}", r["message"][:120], r["pybullet_loads"][:60],
                 r["pinocchio_loads"][:60]]
        lines.append("| " + " | ".join(c.replace("|", "/").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


CSV_FIELDS = ["file", "args", "base_why", "package_uri", "result", "exit_code", "base", "dof", *SOURCES, "unknown",
              "matched_unexplained", "wall_s", "message", "pybullet_loads", "pinocchio_loads", "path"]


CORPUS_FILES = ("corpus.json", "corpus.csv", "corpus.md")


def write_outputs(out: Path, rows: list[dict], summary: dict, meta: dict, stem: str = "sweep") -> None:
    """`stem`.json (rows, summary, meta), `stem`.csv (one row per file) and `stem`.md (summary and table)
    in `out`, each written whole."""
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / f"{stem}.json", json.dumps({"meta": meta, "summary": summary, "rows": rows}, indent=1,
                                                 sort_keys=True, allow_nan=False) + "\n")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    write_text(out / f"{stem}.csv", buf.getvalue())
    vers = ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items())
    head = "".join(f"- {k}: {v}\n" for k, v in meta.items() if k != "versions") + (f"- versions: {vers}\n" if vers else "")
    write_text(out / f"{stem}.md", "# simmatch corpus sweep\n\n" + head + "\n## Summary\n\n"
                  + markdown_summary(summary, max_kinds=10**6) + "\n## Files\n\n" + markdown_table(rows))


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in ("simmatch", "pybullet", "dartpy", "mujoco", "pin", "example-robot-data", "icub-models"):
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            out[p] = None
    return out


def sweep(files: list[CorpusFile], workers: int = 2, random_q: int = 20, timeout: float = 900.0,
          probe: bool = True, progress=None, out: Path | None = None, ray: str | None = None) -> list[dict]:
    """Check every file with `simmatch sweep`'s library (`workers` at a time, or on Ray), its sweep
    folder in `out` (resumed when it holds an earlier one; a temporary folder when None); the corpus
    rows in the order of `files`."""
    specs = [spec_of(cf, random_q) for cf in files]
    by_id = {s.id: cf for s, cf in zip(specs, files)}

    def on_result(row):
        if progress:
            progress(row)

    def rows_of(folder: Path) -> list[dict]:
        res = run_sweep(specs, folder, defaults=CheckConfig(model="", random_q=random_q), workers=workers, ray=ray,
                        timeout=timeout, fail_on="error", on_result=on_result, extra_owned=CORPUS_FILES)
        rows = []
        for row in res.rows:
            model = folder / "models" / row["id"]
            files_ = {n: (model / n).read_text() for n in row["files"] if n == "check.json"}
            wall = res.doc["timings"]["models"].get(row["id"], {}).get("wall_s", 0.0)
            rows.append(corpus_row(by_id[row["id"]], row, files_, wall, probe))
        return rows

    if out is not None:
        return rows_of(out)
    with tempfile.TemporaryDirectory(prefix="corpus_sweep_") as tmp:
        return rows_of(Path(tmp) / "sweep")


def write_list(files: list[CorpusFile], path: Path) -> None:
    """The corpus as a list file for `simmatch sweep PATH`: one file per line with its --base."""
    lines = ["# the corpus of benchmarks/corpus_sweep.py: simmatch sweep THIS_FILE --out DIR"]
    lines += [f"{shlex.join([cf.path, *cf.args])}  # {cf.name}: {cf.base_why}" for cf in files]
    write_text(path, "\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("reports/corpus_sweep"), help="output folder")
    ap.add_argument("--workers", type=int, default=2, help="files checked at a time")
    ap.add_argument("--ray", metavar="ADDRESS", help="run the checks as Ray tasks: local, auto or a cluster address")
    ap.add_argument("--write-list", type=Path, metavar="FILE",
                    help="write the corpus as a list file for `simmatch sweep FILE` (with each file's --base), run nothing")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per file before it is killed")
    ap.add_argument("--random-q", type=int, default=20)
    ap.add_argument("--packages", default=",".join(PACKAGES), help="comma list of " + ", ".join(PACKAGES))
    ap.add_argument("--only", action="append", help="keep files whose name contains this (repeatable)")
    ap.add_argument("--include-random-urdfs", action="store_true", help="add pybullet_data/random_urdfs (1000 files)")
    ap.add_argument("--no-probe", action="store_true", help="do not ask PyBullet/Pinocchio about rejected files")
    ap.add_argument("--list", action="store_true", help="list the files and the arguments they get, run nothing")
    ap.add_argument("--kinds", type=int, default=15, help="failure kinds in the printed summary (all in corpus.md)")
    ap.add_argument("--summarise", type=Path, metavar="CORPUS_JSON",
                    help="print the Markdown summary of an earlier corpus.json (recounted), run nothing")
    a = ap.parse_args(argv)
    if a.summarise:
        rows = json.loads(a.summarise.read_text())["rows"]
        sys.stdout.write(markdown_summary(summarise(rows), max_kinds=a.kinds))
        return 0
    packages = [p.strip() for p in a.packages.split(",") if p.strip()]
    for p in packages:
        if p not in PACKAGES:
            ap.error(f"--packages: unknown package {p!r}; choose from {', '.join(PACKAGES)}")
    files = discover(packages, a.include_random_urdfs, a.only)
    if a.write_list:
        write_list(files, a.write_list)
        print(f"written: {a.write_list} ({len(files)} files)", file=sys.stderr)
        return 0
    if a.list:
        for cf in files:
            print(f"{cf.name}\t{' '.join(cf.args) or '(auto)'}\t{cf.base_why}\t{'package://' if cf.package_uri else ''}")
        return 0
    if not files:
        print("corpus_sweep: no files to check", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    done = [0]

    def progress(row):  # a row of simmatch.sweep (its result names, before the corpus's bookkeeping)
        done[0] += 1
        print(f"[{done[0]}] {row['result']:>14} {row['model']} {row['message'][:100]}", file=sys.stderr, flush=True)

    rows = sweep(files, a.workers, a.random_q, a.timeout, not a.no_probe, progress, out=a.out, ray=a.ray)
    summary = summarise(rows)
    meta = {"versions": versions(), "random_q": a.random_q, "workers": None if a.ray else a.workers,
            "ray": a.ray, "timeout_s": a.timeout, "packages": packages, "wall_s": round(time.perf_counter() - t0, 1)}
    write_outputs(a.out, rows, summary, meta, stem="corpus")
    sys.stdout.write(markdown_summary(summary, max_kinds=a.kinds))
    print(f"written: {a.out}/sweep.html (the sweep's page), corpus.md, corpus.csv, corpus.json "
          f"({meta['wall_s']:.0f} s wall)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
