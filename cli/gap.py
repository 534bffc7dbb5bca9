"""`simmatch gap`: measure and explain the dynamic sim-to-sim gap between two engines."""

from __future__ import annotations

import math
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console

from simmatch.errors import SimmatchError, UsageError
from simmatch.isolation import run_isolated


def _weights(text: str):
    from simmatch.metrics import MetricWeights

    try:
        vals = [float(x) for x in text.split(",")]
    except ValueError:
        raise UsageError(f"--weights {text!r}: expected three numbers POS,LIN,ANG") from None
    if len(vals) != 3 or not all(math.isfinite(v) and 0 <= v <= 1e6 for v in vals) or not any(vals):
        raise UsageError(f"--weights {text!r}: expected three numbers POS,LIN,ANG in [0, 1e6], not all zero")
    return MetricWeights(*vals)


def stdout_console() -> Console:
    """The console for a command's tables: a terminal's own width, and in a pipe or a file (where rich
    would assume 80 columns and wrap or cut the tables) $COLUMNS or wide enough for any row."""
    if sys.stdout.isatty():
        return Console()
    try:
        width = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        width = 0
    return Console(width=width if width > 0 else 1000)


def _progress_factory(console: Console, enabled: bool):
    """A transient rich progress bar on stderr (only on a terminal)."""
    if not enabled or not console.is_terminal:
        return None, None
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    progress = Progress(TextColumn("[bold]gap[/]"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                        TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True)

    def factory(total: int):
        task = progress.add_task("gap", total=total)
        progress.start()
        return lambda n: progress.advance(task, n)

    return factory, progress


def _run(opts, show_progress: bool):
    """run_gap with its progress bar, in the isolated child."""
    from simmatch.gap.run import run_gap

    factory, progress = _progress_factory(Console(stderr=True), show_progress)
    try:
        return run_gap(opts, factory)
    finally:
        if progress is not None:
            progress.stop()


@contextmanager
def _stdout_to_stderr(active: bool):
    """Engines print from C straight to file descriptor 1 (PyBullet on a link without <inertial>, DART's
    loader): with --json, stdout must carry the JSON only, so fd 1 points at stderr meanwhile."""
    if not active:
        yield
        return
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real file descriptor (e.g. captured): nothing to protect
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def gap(
    src: str = typer.Option("bullet", "--src", help="Source engine: bullet, dart or mujoco (a variant "
                            "ENGINE:VARIANT also works)."),
    dst: str = typer.Option("dart", "--dst", help="Target: an engine or a variant, e.g. bullet:soft-floor, "
                            "bullet:heavy-head=2, bullet:low-power=thigh_joint."),
    model: str = typer.Option("hopper", "--model", "-m", help="Shipped model name or URDF path."),
    base: str = typer.Option("auto", "--base", help="fixed | floating | auto (auto: a massless root link is "
                             "the world)."),
    base_pose: str | None = typer.Option(None, "--base-pose", help="Where a fixed base is mounted: 'x y z roll "
                                         "pitch yaw' (m, rad; URDF rpy), e.g. '0 0 1 0 1.5708 0' on a wall."),
    load: str = typer.Option("matched", "--load", help="matched (physically identical builds) or native (each "
                             "engine's own URDF import: the naive end-to-end gap; a failing import exits 2)."),
    scenario: list[str] | None = typer.Option(None, "--scenario", "-s", help="drop, sine, random, "
                                                 "replay=FILE (.npz 'torques' / .csv), policy=FILE (torch). "
                                                 "Repeat for several; default: drop, sine, random."),
    horizon: int = typer.Option(1000, "--horizon", help="Steps per episode."),
    episodes: int = typer.Option(1, "--episodes", help="Episodes per scenario."),
    torque_scale: float | None = typer.Option(None, "--torque-scale", help="sine/random: amplitude as a "
                                                 "fraction of the effort limit (default 0.5); replay/policy: "
                                                 "multiplier (default 1)."),
    noise: float = typer.Option(0.0, "--noise", help="Std of Gaussian noise on the initial q and dq."),
    seed: int = typer.Option(0, "--seed", help="Seed: the same seed gives the same numbers."),
    threshold: float = typer.Option(0.1, "--threshold", help="GT-metric value that counts as divergence."),
    weights: str = typer.Option("1,1,0.1", "--weights", help="GT metric weights POS,LIN_VEL,ANG_VEL."),
    dt: float = typer.Option(1.0 / 500.0, "--dt", help="Time step (s)."),
    solver_iterations: int = typer.Option(50, "--solver-iterations", help="Constraint solver iterations."),
    explain: bool = typer.Option(False, "--explain", help="Re-run with each known mismatch removed/aligned "
                                 "and rank them by the share of the gap they explain."),
    explain_scenario: str | None = typer.Option(None, "--explain-scenario", help="Scenario for --explain "
                                                   "(default: the first one)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON only on stdout."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Report folder (default "
                                       "reports/gap_MODEL_SRC_DST_LOAD; a URDF path: MODEL = STEM-HASH)."),
    no_report: bool = typer.Option(False, "--no-report", help="Do not write the report folder."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Report without PNG plots."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    no_limit: bool = typer.Option(False, "--no-limit", help="Lift the caps that keep a run bounded: total "
                                  "steps (horizon x episodes x scenarios, + re-runs with --explain) <= 30000, "
                                  "models of <= 1000 links."),
):
    """How fast and where two engines drift apart under identical inputs, and which mismatch is to blame."""
    from simmatch.gap import GapOptions
    from simmatch.outputs import check_out_dir, model_label
    from simmatch.gap.report import owned, print_summary, safe_name, to_json, write_report
    from simmatch.gap.scenarios import BUILTIN

    from simmatch.cli import options
    from simmatch.gap.explain import KNOBS
    from simmatch.gap.scenarios import parse_scenario
    from simmatch.variants import parse_target

    # every option is checked before any work (no model loaded, no engine started, nothing written)
    options.integer(horizon, "--horizon", 1)
    options.integer(episodes, "--episodes", 1)
    options.choice(load, "--load", ("matched", "native"))
    options.model_arg(model, "--model")
    options.base(base)
    options.number(dt, "--dt", minimum=1e-6, maximum=0.1)
    options.integer(solver_iterations, "--solver-iterations", 1, 100_000)
    options.number(torque_scale, "--torque-scale", minimum=0.0, maximum=100.0)
    options.number(noise, "--noise", minimum=0.0, maximum=10.0)
    options.number(threshold, "--threshold", positive=True, maximum=1e6)
    options.seed(seed)
    metric_weights = _weights(weights)
    parse_target(src)
    parse_target(dst)
    names = tuple(scenario or BUILTIN)
    for s in names + ((explain_scenario,) if explain and explain_scenario else ()):
        parse_scenario(s, horizon=horizon, episodes=episodes, torque_scale=torque_scale, noise=noise, seed=seed)
    steps = horizon * episodes * (len(names) + (len(KNOBS) + 1 if explain else 0))
    if not no_limit and steps > options.GAP_STEPS_MAX:
        raise UsageError(f"--horizon {horizon} x --episodes {episodes} x {len(names)} scenario(s)"
                         f"{' with --explain re-runs' if explain else ''} = {steps} steps: at most "
                         f"{options.GAP_STEPS_MAX} (more takes minutes to hours; {options.LIFT})")
    from simmatch.registry import load_model

    options.engine_model_size(load_model(model, base=base, base_pose=base_pose), no_limit)  # bad or huge models: before any engine
    opts = GapOptions(src=src, dst=dst, model=model, base=base, base_pose=base_pose, load=load,
                      scenarios=names,
                      horizon=horizon, episodes=episodes, torque_scale=torque_scale, noise=noise, seed=seed,
                      threshold=threshold, weights=metric_weights, dt=dt, solver_iterations=solver_iterations,
                      explain=explain, explain_scenario=explain_scenario)
    folder = None if no_report else (
        out or Path("reports") / safe_name(f"gap_{model_label(model)}_{src}_{dst}_{load}"))
    if folder is not None:
        check_out_dir(folder, owned)  # before any computation: a rejected run leaves nothing behind
    err = Console(stderr=True)
    # The engines run in a child process: a segfault in an engine's C++ becomes one line and exit 2.
    outcome = run_isolated(_run, opts, not quiet)
    if not outcome.ok:
        if outcome.detail:  # a bug, not a user or engine error: exit 70 with the traceback in a file
            from simmatch.cli.app import internal_error

            raise internal_error(f"gap {src} -> {dst}: {outcome.error}", outcome.detail)
        raise SimmatchError(f"gap {src} -> {dst}: {outcome.error}" if outcome.crashed else outcome.error)
    result = outcome.value
    with _stdout_to_stderr(json_out):
        if folder is not None:
            write_report(result, folder, plots=not no_plots)
    if json_out:
        sys.stdout.write(to_json(result) + "\n")
        if folder is not None:
            err.print(f"report: {folder}", highlight=False)
        return
    console = stdout_console()
    print_summary(result, console)
    if folder is not None:
        console.print(f"report: {folder}", highlight=False)
