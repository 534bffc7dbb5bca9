"""Videos of trajectories overlaid in one scene: a solid robot and up to two translucent ghosts posed
from recorded canonical states, a caption with time, step and the current GT error of each ghost
against the solid robot, a camera that follows the root, and a PNG still of one chosen step.

Used by `gap --render` (src solid, dst ghost) and `learn-dyn --render` (held-out target solid, raw
source and learned hybrid as ghosts). `render_videos` picks the renderer (`select`) and draws every
video of one model with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..model import RobotModel, State
from .scene import GHOST_RGBAS, SOLID_RGBA, camera_setup, open_scene
from .select import render_with_fallback
from .video import caption, frame_steps, write_png, write_video

WIDTH, HEIGHT = 448, 336  # px: multiples of 16 (H.264 macro blocks)
GAP_FPS = 25.0  # frames/s at most for a recording of engine steps (gap: 500 Hz), in real time
WHITE, GREY, RED = (240, 240, 240), (170, 175, 185), (255, 110, 90)


def _rgb(rgba: tuple[float, ...]) -> tuple[int, int, int]:
    r, g, b = (min(255, int(round(255 * min(1.0, 0.25 + c)))) for c in rgba[:3])
    return r, g, b


@dataclass
class Track:
    """One recorded trajectory: `states` (T + 1 canonical states, one per recorded step) and, for a
    ghost, `errors` (T + 1,) its GT error against the solid track per step (NaN where not measured)."""

    label: str
    states: list[State]
    errors: np.ndarray | None = None


@dataclass
class VideoJob:
    """One video: `name` is the file stem (`<name>.mp4`, `<name>_divergence.png`), `dt` the seconds
    between recorded steps; `still` the step of the PNG still (None: the step of the largest error of
    the first ghost) and `still_why` what that step is; `threshold` the GT error shown in red above it."""

    name: str
    title: str
    dt: float
    solid: Track
    ghosts: list[Track] = field(default_factory=list)
    still: int | None = None
    still_why: str = "divergence"
    threshold: float | None = None
    max_fps: float = GAP_FPS


def _still_step(job: VideoJob, steps: int) -> tuple[int, str]:
    if job.still is not None:
        return min(job.still, steps), job.still_why
    if job.ghosts and job.ghosts[0].errors is not None:
        e = np.asarray(job.ghosts[0].errors[:steps + 1], dtype=float)
        if np.any(np.isfinite(e)):
            return int(np.nanargmax(e)), "largest error"
    return steps, "last step"


def _lines(job: VideoJob, k: int, steps: int, extra: str = "") -> list[list[tuple[str, tuple[int, int, int]]]]:
    head: list[tuple[str, tuple[int, int, int]]] = [(f"{job.title}   t = {k * job.dt:.2f} s   step {k}/{steps}", WHITE)]
    if extra:
        head.append((f"   {extra}", RED))
    legend: list[tuple[str, tuple[int, int, int]]] = [("solid ", GREY), (job.solid.label, _rgb(SOLID_RGBA))]
    errs: list[tuple[str, tuple[int, int, int]]] = []
    for tr, rgba in zip(job.ghosts, GHOST_RGBAS):
        legend += [("   ghost ", GREY), (tr.label, _rgb(rgba))]
        if tr.errors is not None and k < len(tr.errors):
            e = float(tr.errors[k])
            over = job.threshold is not None and math.isfinite(e) and e > job.threshold
            errs.append((f"GT error {tr.label}: {e:.3f}   " if math.isfinite(e) else
                         f"GT error {tr.label}: not measured   ", RED if over else WHITE))
    return [head, legend] + ([errs] if errs else [])


def draw_videos(renderer: str, model: RobotModel, jobs: list[VideoJob], out: Path, width: int = WIDTH,
                height: int = HEIGHT) -> list[dict[str, Any]]:
    """Draw every job into `out` (created) with `renderer`: `<name>.mp4` (or .gif) and
    `<name>_divergence.png`. Returns per job what was written. RendererUnavailable before anything
    is written when the renderer cannot start."""
    scene = open_scene(renderer, model, width, height)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    centre, _ = camera_setup(model)
    at_zero = scene.follow(State.zeros(model))
    written = []
    try:
        for job in jobs:
            steps = len(job.solid.states) - 1
            for tr in job.ghosts:
                steps = min(steps, len(tr.states) - 1)

            def shot(k: int, extra: str = "") -> np.ndarray:
                solid = job.solid.states[k]  # noqa: B023 (used within the iteration)
                ghosts = [(tr.states[k], rgba) for tr, rgba in zip(job.ghosts, GHOST_RGBAS)]  # noqa: B023
                pts = [scene.follow(solid)] + [scene.follow(s) for s, _ in ghosts]
                look = np.mean(pts, axis=0)
                # follow the root across the floor, not up and down; aim a little high so that the robot
                # sits below the caption bar (the top 15% of the frame)
                look[2] = z0 + 0.08 * scene.distance  # noqa: B023
                img = scene.frame(solid, ghosts, look)
                return caption(img, _lines(job, k, steps, extra))  # noqa: B023

            # the height the camera aims at: the q = 0 middle, moved with the root's starting height
            # (a floating base starts above the origin)
            z0 = centre[2] + float(scene.follow(job.solid.states[0])[2] - at_zero[2])
            ks, fps = frame_steps(steps, job.dt, job.max_fps)
            video = write_video(out / f"{job.name}.mp4", (shot(k) for k in ks), fps)
            sk, why = _still_step(job, steps)
            still = write_png(out / f"{job.name}_divergence.png", shot(sk, why))
            written.append({"video": video.name, "still": still.name, "frames": len(ks), "fps": fps,
                            "width": width, "height": height, "still_step": sk, "still_is": why})
    finally:
        scene.close()
    return written


def render_videos(model: RobotModel, jobs: list[VideoJob], out: Path, width: int = WIDTH,
                  height: int = HEIGHT) -> dict[str, Any]:
    """Draw `jobs` with the first renderer that works here (`select.render_with_fallback`).
    Returns {'renderer', 'skipped', 'videos'} for the report."""
    r = render_with_fallback(draw_videos, model, jobs, Path(out), width, height)
    return {"renderer": r.renderer, "skipped": r.skipped, "videos": r.value}
