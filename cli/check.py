"""`simmatch check MODEL`: find, size and explain every discrepancy of a model across PyBullet,
DART and MuJoCo (and, with --reference, against a reference model).

Exit codes: 0 nothing reaches --fail-on, 1 something does, 2 bad input (raised as SimmatchError
and turned into one line by `app.main`)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def check(
    model: str = typer.Argument(..., help="Model name (hopper, hopper-box, pendulum, double-pendulum, laikago) "
                                          "or URDF path."),
    random_q: int = typer.Option(20, "--random-q", "-n", help="Random configurations (and random states) to "
                                                               "compare at, besides q = 0."),
    engines: str = typer.Option("bullet,dart,mujoco", "--engines", "-e",
                                help="Comma list of bullet, dart, mujoco; 'none' to check only the model "
                                     "(with --reference)."),
    load: str = typer.Option("both", "--load", help="native (each engine's URDF importer), matched "
                                                    "(simmatch's faithful build) or both."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random samples: same seed, same report."),
    tol: list[str] | None = typer.Option(None, "--tol", help="Tolerance override NAME=VALUE, repeatable "
                                                                "(e.g. --tol inertia_rel=1e-3)."),
    fail_on: str = typer.Option("error", "--fail-on", help="Exit 1 when a finding of this severity or worse "
                                                           "exists: error or warning; LOAD:SEVERITY counts one "
                                                           "load mode only (matched:error: do the matched "
                                                           "builds agree?)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout and nothing else."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Report folder for check.json and check.md "
                                                                 "(default reports/check_MODEL; a "
                                                                 "URDF path: check_STEM-HASH)."),
    no_report: bool = typer.Option(False, "--no-report", help="Do not write the report folder."),
    base: str = typer.Option("auto", "--base", help="fixed | floating | auto (auto: a massless root link is "
                                                    "the world)."),
    base_pose: str | None = typer.Option(None, "--base-pose", help="Where a fixed base is mounted: 'x y z roll "
                                         "pitch yaw' (m, rad; URDF rpy), e.g. '0 0 1 0 1.5708 0' on a wall."),
    reference: str | None = typer.Option(None, "--reference", "-r",
                                            help="Also hold the model against this reference model (a URDF "
                                                 "converted or edited from it)."),
    no_limit: bool = typer.Option(False, "--no-limit", help="Lift the caps that keep a run bounded: "
                                                            "--random-q <= 2000, models of <= 1000 links in the "
                                                            "engines."),
):
    """Compare the model's structure, kinematics, inertia, joints, contact and dynamics across engines."""
    from rich.console import Console

    from simmatch.compare.run import parse_engines, parse_load, run_check
    from simmatch.findings import Tolerances, parse_fail_on
    from simmatch.outputs import check_out_dir, model_label
    from simmatch.compare.report import owned, print_summary, to_json, write_reports

    from simmatch.cli import options

    # every option is checked before any work (no model loaded, no engine started, nothing written)
    parse_fail_on(fail_on)
    options.model_arg(model)
    options.model_arg(reference, "--reference")
    options.base(base)
    options.random_q(random_q, no_limit)
    options.seed(seed)
    tolerances = Tolerances().with_overrides(tol)
    names = parse_engines(options.engine_list(engines))
    parse_load(load)
    if names:  # the model is read here first to bound the engines' work before they start
        from simmatch.registry import load_model

        options.engine_model_size(load_model(model, base=base, base_pose=base_pose), no_limit)
    folder = out or Path("reports") / f"check_{model_label(model)}"
    if not no_report:
        check_out_dir(folder, owned)  # before any computation: a rejected run leaves nothing behind
    result = run_check(model, engines=names, load=load, random_q=random_q, seed=seed, tol=tolerances, base=base,
                       base_pose=base_pose,
                       reference=reference)
    if not no_report:
        json_path, md_path = write_reports(result, folder)
    if json_out:
        sys.stdout.write(to_json(result))
        sys.stdout.flush()
    else:
        console = Console() if sys.stdout.isatty() else Console(width=160)
        print_summary(result, console)
        if not no_report:
            console.print(f"report: {json_path} , {md_path}", highlight=False)
    code = 1 if result.failing(fail_on) else 0
    raise typer.Exit(code)
