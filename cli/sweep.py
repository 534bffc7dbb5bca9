"""`simmatch sweep PATH...`: `check` every model of a collection, each in its own process, locally
(`--workers N`) or on a Ray cluster (`--ray ADDRESS`), into one table: the terminal, sweep.json,
sweep.csv, sweep.html, and a report folder per model (`simmatch.sweep`).

Exit codes: 0 no model reaches --fail-on, 1 some model does or has no report (rejected, timeout,
crashed, internal error), 2 bad input (a missing path, a bad list line or option, an --out folder
holding other files, --ray without Ray installed), nothing run or written."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simmatch.compare.config import CheckConfig
from simmatch.fields import cli_of

from .generate import RunOptions


def _help(name: str, cls: type[Any] = CheckConfig) -> str:
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    c = cli_of(f)
    assert c is not None
    return c.help


_H = {name: _help(name) for name in ("random_q", "engines", "load", "seed", "tol", "base", "base_pose")}
_H["fail_on"] = _help("fail_on", RunOptions)
_H["random_q"] = _H["random_q"].replace(" unless --no-limit", "")  # a sweep keeps check's caps


def _defaults(random_q: int | None, engines: str | None, load: str | None, seed: int | None,
              tol: list[str] | None, base: str | None, base_pose: str | None) -> CheckConfig:
    """The check options every model gets (a list line overrides them), parsed and range-checked as
    `simmatch check` parses its own."""
    from simmatch.sweep.inputs import parse_options

    args: list[str] = []
    for flag, value in (("--random-q", random_q), ("--engines", engines), ("--load", load), ("--seed", seed),
                        ("--base", base), ("--base-pose", base_pose)):
        if value is not None:
            args += [flag, str(value)]
    for t in tol or []:
        args += ["--tol", t]
    cfg = parse_options(args, CheckConfig(model="MODEL"), "simmatch sweep")
    return cfg


def sweep(
    paths: list[str] = typer.Argument(..., metavar="PATH...", help="Folders (searched for .urdf and MJCF .xml), "
                                      "model files, or text files listing one model per line with its check "
                                      "options ('arm.urdf --base fixed --random-q 5'; # comments)."),
    out: Path = typer.Option(Path("reports/sweep"), "--out", "-o", help="Output folder: sweep.json, sweep.csv, "
                             "sweep.html and models/<id>/ (check.json, check.md); the same folder again resumes."),
    workers: int | None = typer.Option(None, "--workers", "-j", help="Models checked at a time on this machine "
                                       "(default: all cores); with --ray, the CPUs of a local Ray instance."),
    ray: str | None = typer.Option(None, "--ray", help="Run the checks as Ray tasks: a cluster address "
                                   "(ray://host:10001), 'auto' (the cluster this machine is part of) or 'local' "
                                   "(start one here). Needs pip install 'simmatch\\[ray]'."),
    timeout: float = typer.Option(900.0, "--timeout", help="Seconds one model may take before it is killed "
                                  "(its result: timeout)."),
    fail_on: str = typer.Option("error", "--fail-on", help=_H["fail_on"]),
    random_q: int | None = typer.Option(None, "--random-q", "-n", help=_H["random_q"] + " Default 20."),
    engines: str | None = typer.Option(None, "--engines", "-e", help=_H["engines"]),
    load: str | None = typer.Option(None, "--load", help=_H["load"] + " Default both."),
    seed: int | None = typer.Option(None, "--seed", help=_H["seed"] + " Default 0."),
    tol: list[str] | None = typer.Option(None, "--tol", help=_H["tol"]),
    base: str | None = typer.Option(None, "--base", help=_H["base"] + " Default auto."),
    base_pose: str | None = typer.Option(None, "--base-pose", help=_H["base_pose"]),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no table; the summary only."),
) -> None:
    """Check every model of a collection (each in its own process; locally or on Ray) into one table."""
    from simmatch.errors import UsageError
    from simmatch.findings import parse_fail_on
    from simmatch.sweep import default_workers, discover, run_sweep
    from simmatch.sweep.pool import ray_module
    from simmatch.sweep.run import check_out

    from .gap import stdout_console

    # every option is checked before any work: nothing is run or written for a bad one
    parse_fail_on(fail_on)
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers}: give at least 1")
    if not timeout > 0:
        raise UsageError(f"--timeout {timeout:g}: give a positive number of seconds")
    if ray is not None:
        if not ray.strip():
            raise UsageError("--ray '': give a cluster address, 'auto' or 'local'")
        ray_module()
    defaults = _defaults(random_q, engines, load, seed, tol, base, base_pose)
    check_out(out)
    specs, skipped = discover(paths, defaults, exclude=out)
    n_workers = workers or default_workers()

    err = Console(stderr=True)
    progress = None
    task_id = None
    if not quiet:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        progress = Progress(TextColumn("[bold]sweep[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            TextColumn("{task.description}"), console=err, transient=True)

    def on_start(to_run: int, reused: int) -> None:
        nonlocal task_id
        where = f"Ray ({ray})" if ray else f"{n_workers} local workers"
        line = f"{len(specs)} models" + (f" ({len(skipped)} XML files skipped)" if skipped else "")
        if reused:
            line += f"; {reused} have a result from an earlier run, {to_run} to check"
        err.print(escape(f"{line}; {where}"), highlight=False)
        if progress is not None:
            progress.start()
            task_id = progress.add_task("", total=to_run)

    def on_result(row: dict[str, Any]) -> None:
        if progress is not None and task_id is not None:
            progress.update(task_id, advance=1, description=escape(f"{row['result']}: {Path(row['model']).name}"))

    try:
        result = run_sweep(specs, out, defaults=defaults, skipped=skipped, workers=n_workers, ray=ray,
                           timeout=timeout, fail_on=fail_on, on_start=on_start, on_result=on_result)
    finally:
        if progress is not None:
            progress.stop()
    console = stdout_console(200)
    if not quiet:
        print_table(result.doc, console)
    print_summary(result.doc, console, out)
    raise typer.Exit(1 if result.failing else 0)


def _cell(v: Any) -> str:
    from simmatch.sweep.report import source_cell

    cell = source_cell(v)
    if cell == "agrees":
        return "[green]ok[/]"
    if " error" in cell:
        return f"[yellow]{cell.split()[0]} err[/]"
    return f"[red]{escape(cell)}[/]" if cell else ""


RESULT_STYLE = {"clean": "green", "findings": "yellow", "rejected": "red", "timeout": "bold red",
                "crashed": "bold red", "internal-error": "bold red"}


def print_table(doc: dict[str, Any], console: Console) -> None:
    """One row per model: result, error and warning counts, each engine/load, the worst finding."""
    from simmatch.sweep.report import SOURCES

    table = Table(title="simmatch sweep", show_lines=False)
    table.add_column("model", overflow="fold")
    table.add_column("result")
    table.add_column("err", justify="right")
    table.add_column("warn", justify="right")
    for src in SOURCES:
        table.add_column(src.replace("/", "\n"))
    table.add_column("worst finding / message", overflow="fold")
    for r in doc["rows"]:
        p = Path(r["model"])
        checked = r["result"] in ("clean", "findings")
        table.add_row(escape(f"{p.parent.name}/{p.name}" + (f" {r['args']}" if r["args"] else "")),
                      f"[{RESULT_STYLE.get(r['result'], 'white')}]{r['result']}[/]",
                      str(r["counts"]["error"]) if checked else "", str(r["counts"]["warning"]) if checked else "",
                      *(_cell(r["sources"].get(s)) for s in SOURCES), escape(r["message"][:160]))
    console.print(table)


def print_summary(doc: dict[str, Any], console: Console, out: Path, max_causes: int = 12) -> None:
    """Counts by result, the causes across the collection, the verdict and where the files are."""
    from simmatch.sweep.report import cause_line

    s = doc["summary"]
    counts = ", ".join(f"{n} {r}" for r, n in s["results"].items() if n)
    line = f"{s['models']} models: {counts}"
    if s["skipped"]:
        line += f"; {s['skipped']} XML files skipped (not robot descriptions)"
    if s["pending"]:
        line += f"; {s['pending']} not run yet (incomplete)"
    console.print(escape(line), highlight=False)
    if s["checked"]:
        console.print(f"matched builds without error: {s['matched_agree']} of {s['checked']} checked models",
                      highlight=False)
    if s["causes"]:
        console.print("causes across the collection (models with an error or warning of that cause):")
        for c in s["causes"][:max_causes]:
            console.print(f"  {escape(cause_line(c))}", highlight=False, soft_wrap=True)
        if len(s["causes"]) > max_causes:
            console.print(f"  ... {len(s['causes']) - max_causes} more in sweep.html")
    fail_on = doc["sweep"]["fail_on"]
    if s["failing"]:
        console.print(f"[red]{s['failing']} of {s['models']} models reach --fail-on {escape(fail_on)} or have no "
                      "report[/]", highlight=False)
    else:
        console.print(f"[green]no model reaches --fail-on {escape(fail_on)}[/]", highlight=False)
    console.print(escape(f"written: {out / 'sweep.html'} , {out / 'sweep.json'} , {out / 'sweep.csv'} ; "
                         f"one folder per model in {out / 'models'}"), highlight=False)
