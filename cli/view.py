"""`simmatch view MODEL --engine bullet|mujoco|dart [--replay GAP_FOLDER/SCENARIO.npz]`: the robot in the
engine's own GUI, the build `check` and `gap` use, optionally replaying a gap run's recorded states
(`simmatch.view`). Writes nothing.

Exit codes: 0 the window was closed (or --seconds passed), 2 bad input, or no display / a GUI that
cannot open (one line saying what to do), 70 a bug."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from simmatch.view import ViewConfig

from .generate import RunOptions, command


def run(cfg: ViewConfig, ro: RunOptions) -> None:
    """Open the engine's own GUI on the model (PyBullet GUI, MuJoCo's passive viewer, DART's OSG viewer),
    replaying a gap scenario's recorded states with --replay."""
    from simmatch.registry import load_model
    from simmatch.view import ViewBug, display_problem, load_replay, view

    from . import options

    # every option and file is checked before any window opens
    options.model_arg(cfg.model)
    model = load_model(cfg.model, base=cfg.base, base_pose=cfg.base_pose)
    options.engine_model_size(model)
    replay = load_replay(cfg.replay, model, cfg.engine, cfg.side, cfg.episode) if cfg.replay is not None else None
    problem = display_problem(cfg.engine)
    if problem:
        from simmatch.view import ViewUnavailable

        raise ViewUnavailable(problem)
    err = Console(stderr=True, highlight=False, soft_wrap=True)  # one line each, whatever the width
    what = f"replaying {replay.label}" if replay is not None else "at its initial state"
    until = f"closes after {cfg.seconds:g} s" if cfg.seconds is not None else "close the window to end"
    err.print(escape(f"view: {model.name} ({cfg.load} build) in {cfg.engine}, {what}; {until}"))
    try:
        done = view(cfg, model, replay)
    except ViewBug as exc:
        from .app import internal_error

        raise internal_error(str(exc), exc.detail) from None
    err.print(escape(f"view: closed ({'by the window' if done['closed_by'] == 'window' else '--seconds'}) after "
                     f"{done['seconds']:g} s, {done['frames']} frames"))


view_cmd = command(ViewConfig, run, run=())
