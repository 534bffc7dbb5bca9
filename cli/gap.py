"""`simmatch gap`: measure and explain the dynamic sim-to-sim gap between two engines."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from simmatch.errors import SimmatchError, UsageError
from simmatch.gap.config import GapConfig
from simmatch.isolation import run_isolated

from .generate import RunOptions, command

if TYPE_CHECKING:  # for annotations only: rich.progress and the gap run are imported when used
    from rich.progress import Progress

    from simmatch.gap.run import GapResult, ProgressFactory


def stdout_console(pipe_width: int = 1000, **kw: Any) -> Console:
    """The console for a command's tables: a terminal's own width, and in a pipe or a file (where rich
    would assume 80 columns and wrap or cut the tables) $COLUMNS or `pipe_width`."""
    if sys.stdout.isatty():
        return Console(**kw)
    try:
        width = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        width = 0
    return Console(width=width if width > 0 else pipe_width, **kw)


def _progress_factory(console: Console, enabled: bool) -> tuple[ProgressFactory | None, Progress | None]:
    """A transient rich progress bar on stderr (only on a terminal)."""
    if not enabled or not console.is_terminal:
        return None, None
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    progress = Progress(TextColumn("[bold]gap[/]"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                        TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True)

    def factory(total: int) -> Callable[[int], None]:
        task = progress.add_task("gap", total=total)
        progress.start()
        return lambda n: progress.advance(task, n)

    return factory, progress


def _run(opts: GapConfig, show_progress: bool) -> GapResult:
    """run_gap with its progress bar, in the isolated child."""
    from simmatch.gap.run import run_gap

    factory, progress = _progress_factory(Console(stderr=True), show_progress)
    try:
        return run_gap(opts, factory)
    finally:
        if progress is not None:
            progress.stop()


@contextmanager
def _stdout_to_stderr(active: bool) -> Iterator[None]:
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


def run(opts: GapConfig, ro: RunOptions) -> None:
    """How fast and where two engines drift apart under identical inputs, and which mismatch is to blame."""
    from simmatch.gap.explain import KNOBS
    from simmatch.gap.report import owned, print_summary, safe_name, to_json, write_report
    from simmatch.gap.scenarios import parse_scenario
    from simmatch.outputs import check_out_dir, model_label
    from simmatch.variants import parse_target

    from . import options

    # every option is checked before any work (no model loaded, no engine started, nothing written);
    # the ranges were checked from the config's fields (options.check_config)
    options.model_arg(opts.model)
    src, dst, load, explain = opts.src, opts.dst, opts.load, opts.explain
    parse_target(src)
    parse_target(dst)
    for s in opts.scenarios + ((opts.explain_scenario,) if explain and opts.explain_scenario else ()):
        parse_scenario(s, horizon=opts.horizon, episodes=opts.episodes, torque_scale=opts.torque_scale,
                       noise=opts.noise, seed=opts.seed)
    steps = opts.horizon * opts.episodes * (len(opts.scenarios) + (len(KNOBS) + 1 if explain else 0))
    if not ro.no_limit and steps > options.GAP_STEPS_MAX:
        raise UsageError(f"--horizon {opts.horizon} x --episodes {opts.episodes} x {len(opts.scenarios)} "
                         f"scenario(s){' with --explain re-runs' if explain else ''} = {steps} steps: at most "
                         f"{options.GAP_STEPS_MAX} (more takes minutes to hours; {options.LIFT})")
    from simmatch.registry import load_model

    # bad or huge models: before any engine
    options.engine_model_size(load_model(opts.model, base=opts.base, base_pose=opts.base_pose), ro.no_limit)
    if opts.render and ro.no_report:
        raise UsageError("--render draws into the report folder: it cannot go with --no-report")
    folder = None if ro.no_report else (
        ro.out or Path("reports") / safe_name(f"gap_{model_label(opts.model)}_{src}_{dst}_{load}"))
    if folder is not None:
        check_out_dir(folder, owned)  # before any computation: a rejected run leaves nothing behind
    err = Console(stderr=True)
    # The engines run in a child process: a segfault in an engine's C++ becomes one line and exit 2.
    outcome = run_isolated(_run, opts, not ro.quiet)
    if not outcome.ok:
        if outcome.detail:  # a bug, not a user or engine error: exit 70 with the traceback in a file
            from .app import internal_error

            raise internal_error(f"gap {src} -> {dst}: {outcome.error}", outcome.detail)
        raise SimmatchError(f"gap {src} -> {dst}: {outcome.error}" if outcome.crashed else outcome.error)
    result = outcome.value
    with _stdout_to_stderr(ro.json):
        if folder is not None:
            write_report(result, folder, plots=not ro.no_plots)
    rendered = result.notes.get("render")
    if rendered:
        Console(stderr=ro.json).print(f"render: {folder}/render/ ({len(rendered['videos'])} videos, renderer "
                                      f"{rendered['renderer']})", highlight=False)
    if ro.json:
        sys.stdout.write(to_json(result) + "\n")
        if folder is not None:
            err.print(f"report: {folder}", highlight=False)
        return
    console = stdout_console()
    print_summary(result, console)
    if folder is not None:
        console.print(f"report: {folder}", highlight=False)


gap = command(GapConfig, run, run=("out", "json", "quiet", "no_report", "no_plots", "no_limit"), help={
    "out": "Report folder (default reports/gap_MODEL_SRC_DST_LOAD; a URDF path: MODEL = STEM-HASH).",
    "no_limit": "Lift the caps that keep a run bounded: total steps (horizon x episodes x scenarios, + "
                "re-runs with --explain) <= 30000, models of <= 1000 links.",
})
