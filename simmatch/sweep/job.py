"""The job a sweep runs for each model (`check_model`, in its own process), and the sweep's row for
a model, made from what the job returned or from how it failed (`make_row`)."""

from __future__ import annotations

import json
import shlex
from typing import Any

from ..compare.config import CheckConfig
from ..isolation import Outcome
from .inputs import ModelSpec

# results of a model: checked (then 'clean' or 'findings' by --fail-on), or why it has no report
RESULTS = ("clean", "findings", "rejected", "timeout", "crashed", "internal-error")
FAILING_RESULTS = ("findings", "rejected", "timeout", "crashed", "internal-error")
SEVERITIES = ("error", "warning", "info")


def check_model(cfg: CheckConfig, jobs: int = 1) -> dict[str, Any]:
    """`simmatch check` of one model (`cfg`), with its engines `jobs` at a time: the files
    `check --out` writes, as text ({'check.json': ..., 'check.md': ...}), and `timing` (seconds).
    Raises SimmatchError (one line) for a model that cannot be read or is over the engines' size cap."""
    from ..cli import options
    from ..compare.report import to_json, to_markdown
    from ..registry import load_model

    if cfg.engines:
        options.engine_model_size(load_model(cfg.model, base=cfg.base, base_pose=cfg.base_pose))
    result = cfg.run(jobs=jobs)
    return {"files": {"check.json": to_json(result), "check.md": to_markdown(result)}, "timing": result.timing}


def _line(text: str) -> str:
    return " ".join((text.strip().splitlines() or [""])[0].split())


def base_row(spec: ModelSpec) -> dict[str, Any]:
    """The row fields that come from the input alone."""
    return {"id": spec.id, "model": spec.path, "sha256": spec.sha256, "format": spec.format, "args": shlex.join(spec.args),
            "origin": spec.origin, "config": spec.config.record(), "result": "", "message": "",
            "base": None, "dof": None, "links": None, "counts": dict.fromkeys(SEVERITIES, 0),
            "by_load": {}, "sources": {}, "causes": {}, "files": []}


def make_row(spec: ModelSpec, outcome: Outcome) -> tuple[dict[str, Any], dict[str, str]]:
    """(row, files of the model's report folder) for the outcome of `check_model(spec.config)`.

    The row holds only what the input decides (no time, no host): `result` is 'checked' (turned into
    'clean' or 'findings' by `with_fail_on`), 'rejected' (bad input: the one-line error), 'timeout',
    'crashed' (a signal) or 'internal-error' (a bug: its traceback in error.txt)."""
    row = base_row(spec)
    files: dict[str, str] = {}
    if outcome.ok:
        files = dict(outcome.value["files"])
        report = json.loads(files["check.json"])
        row.update(result="checked", base=report["model"]["base"], dof=report["model"]["dof"],
                   links=report["model"]["links"])
        by_load: dict[str, dict[str, int]] = {}
        causes: dict[str, int] = {}
        for f in report["findings"]:
            by_load.setdefault(f["load"], dict.fromkeys(SEVERITIES, 0))[f["severity"]] += 1
            row["counts"][f["severity"]] += 1
            if f["severity"] != "info":
                causes[f["cause"]] = causes.get(f["cause"], 0) + 1
        row["by_load"] = dict(sorted(by_load.items()))
        row["causes"] = dict(sorted(causes.items(), key=lambda kv: (-kv[1], kv[0])))
        for src in report["summary"]["sources"]:
            if src["engine"] == "model":
                continue
            key = f"{src['engine']}/{src['load']}"
            row["sources"][key] = (src["status"] if src["status"] in ("failed", "crashed")
                                   else {"error": src.get("error", 0), "warning": src.get("warning", 0)})
        worst = next((f for f in report["findings"] if f["severity"] != "info"), None)
        if worst is not None:
            rel = f", rel {worst['rel_error']:.3g}" if isinstance(worst.get("rel_error"), (int, float)) else ""
            row["message"] = (f"{worst['severity']}: {worst['engine']}/{worst['load']} {worst['category']}."
                              f"{worst['quantity']} of {worst['subject']}{rel} [{worst['cause']}]")
    elif outcome.crashed:
        row["result"] = "timeout" if outcome.error.startswith("timed out") else "crashed"
        row["message"] = _line(outcome.error)
    elif outcome.detail:
        row["result"] = "internal-error"
        row["message"] = _line(outcome.error)
        files = {"error.txt": f"{outcome.error}\n\n{outcome.detail}"}
    else:
        row["result"] = "rejected"
        row["message"] = _line(outcome.error)
    row["files"] = sorted(files)
    return row, files


def reaches_fail_on(row: dict[str, Any], fail_on: str) -> bool:
    """Whether a checked model has a finding at or above `fail_on` ([LOAD:]SEVERITY, as check's)."""
    from ..findings import parse_fail_on, reaches

    load, severity = parse_fail_on(fail_on)
    return any(n and reaches(sev, severity)
               for ld, counts in row["by_load"].items() if load is None or ld == load
               for sev, n in counts.items())


def with_fail_on(row: dict[str, Any], fail_on: str) -> dict[str, Any]:
    """The row with 'checked' turned into 'clean' or 'findings' and `fails` set: True when the
    model reached `fail_on`, or has no report at all (rejected, timeout, crashed, internal error)."""
    out = dict(row)
    if row["result"] == "checked":
        out["result"] = "findings" if reaches_fail_on(row, fail_on) else "clean"
    out["fails"] = out["result"] in FAILING_RESULTS
    return out
