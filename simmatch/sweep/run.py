"""The sweep driver: check every model in its own process (locally or on Ray), write each model's
report folder as its result arrives, keep the table current, resume where a killed sweep stopped.

Output folder (`--out DIR`):

    DIR/sweep.json  sweep.csv  sweep.html      the table (rewritten whole as results arrive)
    DIR/models/<id>/row.json check.json check.md manifest.json   one folder per model (error.txt
                                                for an internal error), written whole when its result
                                                arrives (simmatch.outputs.report_folder)

A model has a result when its folder holds a row.json made with the same check options; a restarted
sweep runs only the others. sweep.json holds nothing that changes from run to run except the
`timings` field (seconds, hosts, the runner): same inputs and seed, same sweep.json otherwise.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..compare.config import CheckConfig
from ..errors import UsageError
from ..outputs import _TMP_RE, check_out_dir, report_folder, sweep_stale, write_text
from . import report
from .inputs import ModelSpec, Skipped
from .job import base_row, check_model, make_row, with_fail_on
from .pool import Task, TaskResult, ray_connect, run_tasks

TABLE_FILES = ("sweep.json", "sweep.csv", "sweep.html")
MODEL_FILES = ("row.json", "check.json", "check.md", "check.html", "error.txt")
_ID_RE = re.compile(r"^[A-Za-z0-9_.-]+-[0-9a-f]{8}$")


def owned(name: str, extra: tuple[str, ...] = ()) -> bool:
    """Whether an entry of a sweep folder is the sweep's, or one of `extra` (files a caller keeps
    beside them); a folder holding others is refused."""
    return name in (*TABLE_FILES, "models", *extra) or bool(_TMP_RE.match(name))


@dataclass
class SweepResult:
    """The sweep's document (what sweep.json holds), how many models ran now and how many had a
    result already, and the output folder."""

    doc: dict[str, Any]
    ran: int
    reused: int
    out: Path
    written: list[Path] = field(default_factory=list)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return list(self.doc["rows"])

    @property
    def failing(self) -> int:
        return int(self.doc["summary"]["failing"])


def check_out(out: Path, extra_owned: tuple[str, ...] = ()) -> None:
    """`--out` checked before anything runs: a folder (existing or to be created) holding nothing but
    a sweep's files (and `extra_owned`). UsageError (one line) otherwise."""
    check_out_dir(out, None)
    if out.is_dir():
        foreign = sorted(e.name for e in out.iterdir() if not owned(e.name, extra_owned))
        if foreign:
            more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
            raise UsageError(f"--out {out}: holds {foreign[0]!r}{more}, which simmatch sweep did not write; "
                             "give a new folder or a sweep's earlier output folder (to resume it)")
        models = out / "models"
        if models.exists() and not models.is_dir():
            raise UsageError(f"--out {out}: models is not a folder")


def earlier_row(out: Path, spec: ModelSpec) -> dict[str, Any] | None:
    """The row a previous sweep left for `spec` in `out`, when it was made with the same check
    options and its folder is whole; else None (the model runs)."""
    try:
        row = json.loads((out / "models" / spec.id / "row.json").read_text())
    except (OSError, ValueError):
        return None
    expected = json.loads(report.to_json(base_row(spec)))  # as JSON holds it (tuples are lists there)
    if not isinstance(row, dict) or any(row.get(k) != expected[k] for k in ("config", "model", "args", "sha256")):
        return None
    if any(not (out / "models" / spec.id / name).is_file() for name in row.get("files", [])):
        return None
    return row


def _model_owned(name: str) -> bool:
    return name in MODEL_FILES


def write_model(out: Path, row: dict[str, Any], files: dict[str, str], timing: dict[str, Any]) -> None:
    """The model's folder models/<id>/, written whole (row.json last in its manifest)."""
    with report_folder(out / "models" / row["id"], "sweep", _model_owned) as tmp:
        for name, text in files.items():
            write_text(tmp / name, text)
        write_text(tmp / "row.json", report.to_json({**row, "timing": timing}))


def _document(specs: list[ModelSpec], skipped: list[Skipped], rows: dict[str, dict[str, Any]],
              timings: dict[str, dict[str, Any]], defaults: CheckConfig, fail_on: str,
              runner: dict[str, Any]) -> dict[str, Any]:
    done = [with_fail_on(rows[s.id], fail_on) for s in specs if s.id in rows]
    pending = len(specs) - len(done)
    check = {k: v for k, v in defaults.record().items() if k != "model"}
    return {
        "sweep": {"written_by": f"simmatch {__version__}", "fail_on": fail_on, "check": check,
                  "models": len(specs), "complete": pending == 0},
        "summary": report.summarise(done, len(skipped), pending),
        "rows": done,
        "skipped": [{"path": k.path, "reason": k.reason} for k in skipped],
        "timings": {"runner": runner, "models": {s.id: timings[s.id] for s in specs if s.id in timings}},
    }


def run_sweep(specs: list[ModelSpec], out: Path, *, defaults: CheckConfig | None = None,
              skipped: list[Skipped] | None = None, workers: int = 1, ray: str | None = None,
              timeout: float = 900.0, fail_on: str = "error", engine_jobs: int = 1,
              on_start: Callable[[int, int], None] | None = None,
              on_result: Callable[[dict[str, Any]], None] | None = None,
              rewrite_every: float = 2.0, extra_owned: tuple[str, ...] = ()) -> SweepResult:
    """Check every model of `specs` (each `check_model` in its own process: `workers` at a time here,
    or as Ray tasks on the cluster at `ray`), write its folder under `out`/models as its result
    arrives, and the tables (sweep.json, .csv, .html) every `rewrite_every` seconds and at the end.

    Models with a result in `out` from an earlier sweep with the same options are not run again.
    `on_start(to_run, reused)` is called once before the first task, `on_result(row)` for each
    result. `extra_owned`: file names a caller keeps in `out` beside the sweep's. Raises UsageError for
    a bad `out` or `fail_on`, an unreachable Ray cluster (before anything runs). On an interrupt
    the running tasks are killed and the tables written for the models done (`complete` false)."""
    from ..findings import parse_fail_on

    parse_fail_on(fail_on)
    skipped = skipped or []
    defaults = defaults or CheckConfig(model="")
    out = Path(out)
    check_out(out, extra_owned)
    if ray:  # connected before anything is written: an unreachable cluster is one line, nothing created
        ray_connect(ray, workers)
    (out / "models").mkdir(parents=True, exist_ok=True)
    sweep_stale(out)
    sweep_stale(out / "models")
    rows: dict[str, dict[str, Any]] = {}
    timings: dict[str, dict[str, Any]] = {}
    by_id = {s.id: s for s in specs}
    for s in specs:
        row = earlier_row(out, s)
        if row is not None:
            timings[s.id] = dict(row.pop("timing", {}) or {}, reused=True)
            rows[s.id] = row
    reused = len(rows)
    todo = [s for s in specs if s.id not in rows]
    runner: dict[str, Any] = {"kind": "ray" if ray else "local", "address": ray, "workers": None if ray else workers,
              "ran": len(todo), "reused": reused}
    t0 = time.perf_counter()
    if on_start is not None:
        on_start(len(todo), reused)

    def doc() -> dict[str, Any]:
        runner["wall_s"] = round(time.perf_counter() - t0, 3)
        return _document(specs, skipped, rows, timings, defaults, fail_on, runner)

    written: list[Path] = []
    last = time.monotonic()
    tasks: Iterator[TaskResult] = run_tasks((Task(s.id, check_model, (s.config, engine_jobs), timeout) for s in todo),
                                            workers, ray)
    try:
        for res in tasks:
            spec = by_id[res.key]
            row, files = make_row(spec, res.outcome)
            timing: dict[str, Any] = {"wall_s": round(res.seconds, 3), "host": res.host}
            if res.cpu_s is not None:
                timing["cpu_s"] = round(res.cpu_s, 3)
            if res.outcome.ok:
                timing["check"] = {k: round(v, 4) for k, v in res.outcome.value["timing"].items()
                                   if isinstance(v, float)}
            write_model(out, row, files, timing)
            rows[spec.id], timings[spec.id] = row, timing
            if on_result is not None:
                on_result(with_fail_on(row, fail_on))
            if time.monotonic() - last >= rewrite_every:
                written = report.write_tables(out, doc())
                last = time.monotonic()
    finally:
        close = getattr(tasks, "close", None)
        if close is not None:
            close()  # kills or cancels what is still running
        final = doc()
        written = report.write_tables(out, final)
    return SweepResult(final, len(todo), reused, out, written)
