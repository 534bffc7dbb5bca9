"""`simmatch check MODEL`: find, size and explain every discrepancy of a model across PyBullet,
DART and MuJoCo (and, with --reference, against a reference model). Its options are
`simmatch.compare.config.CheckConfig` (recorded in check.json) plus the run options below.

Exit codes: 0 nothing reaches --fail-on, 1 something does, 2 bad input (raised as SimmatchError
and turned into one line by `app.main`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from simmatch.compare.config import CheckConfig
from simmatch.errors import UsageError

from .generate import RunOptions, command


def run(cfg: CheckConfig, ro: RunOptions) -> None:
    """Compare the model's structure, kinematics, inertia, joints, contact and dynamics across engines."""
    from simmatch.compare.report import owned, print_summary, to_json, write_reports
    from simmatch.findings import Tolerances, parse_fail_on
    from simmatch.outputs import check_out_dir, model_label

    from . import options
    from .gap import stdout_console

    # every option is checked before any work (no model loaded, no engine started, nothing written)
    parse_fail_on(ro.fail_on)
    options.model_arg(cfg.model)
    options.model_arg(cfg.reference, "--reference")
    options.random_q(cfg.random_q, ro.no_limit)
    Tolerances().with_overrides(cfg.tol)
    if cfg.engines:  # the model is read here first to bound the engines' work before they start
        from simmatch.registry import load_model

        options.engine_model_size(load_model(cfg.model, base=cfg.base, base_pose=cfg.base_pose), ro.no_limit)
    folder = ro.out or Path("reports") / f"check_{model_label(cfg.model)}"
    if cfg.render and ro.no_report:
        raise UsageError("--render draws into the report folder: it cannot go with --no-report")
    if not ro.no_report:
        check_out_dir(folder, owned)  # before any computation: a rejected run leaves nothing behind
    result = cfg.run()
    result.options["render"] = cfg.render  # check.json records the config as given (run_check draws nothing)
    rendered: dict[str, Any] = {}
    if not ro.no_report:
        extra = None
        if cfg.render:
            from simmatch.render.shapes import render_check

            def extra(tmp: Path) -> None:
                rendered.update(render_check(result, tmp / "render"))

        json_path, md_path = write_reports(result, folder, extra=extra)
    if rendered:
        typer.echo(f"render: {folder / 'render' / rendered['file']} (renderer {rendered['renderer']})",
                   err=ro.json)
    if ro.json:
        sys.stdout.write(to_json(result))
        sys.stdout.flush()
    else:
        console = stdout_console(160)
        print_summary(result, console)
        if not ro.no_report:
            console.print(f"report: {json_path} , {md_path} , {md_path.with_suffix('.html')}", highlight=False)
    raise typer.Exit(1 if result.failing(ro.fail_on) else 0)


check = command(CheckConfig, run, run=("out", "json", "no_report", "no_limit", "fail_on"), help={
    "out": "Report folder for check.json and check.md (default reports/check_MODEL; a URDF path: "
           "check_STEM-HASH).",
    "no_limit": "Lift the caps that keep a run bounded: --random-q <= 2000, models of <= 1000 links in the "
                "engines.",
})
