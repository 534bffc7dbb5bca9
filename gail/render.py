"""`learn-dyn --render`: one held-out target trajectory replayed from its first state under its own
actions in the raw source and in the learned hybrid, drawn overlaid (`simmatch.render.overlay`):
the target solid, the raw source and the learned hybrid as translucent ghosts (blue, green), the
caption holding each one's GT error against the target at that control step. Written into the run
folder as `render/heldout.mp4` (real time, one frame per control step) and
`render/heldout_divergence.png` (the control step where the raw source is furthest from the target).
It runs after scoring on freshly rebuilt simulators, so it changes no score.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from simmatch.errors import PhysicsDiverged
from simmatch.metrics import gt_error
from simmatch.model import RobotModel, State

from .dataset import Dataset, Trajectory
from .features import to_state
from .scoring import Corrector
from .sim import HybridSim

FOLDER, NAME = "render", "heldout"
CONTROL_FPS = 50.0  # frames/s at most: one frame per control step at the default 50 Hz


def replay(sim: HybridSim, tr: Trajectory, corrector: Corrector | None, seed: int) -> list[State]:
    """The canonical states of `sim` from tr.states[0] under tr.actions (corrections from `corrector`,
    None: the raw source), rebuilt first; a simulator that blows up stops there (shorter list)."""
    model = sim.model
    rng = np.random.default_rng(seed)
    sim.rebuild()
    if corrector is not None:
        corrector.reset(rng)
    s = np.asarray(tr.states[0], dtype=float)
    sim.reset_to(s)
    out = [to_state(model, s)]
    for a in tr.actions:
        u = None if corrector is None else corrector(sim.obs(s, a), rng)
        try:
            s = sim.step(None, a, u)
        except PhysicsDiverged:
            break
        out.append(to_state(model, s))
    return out


def _errors(model: RobotModel, target: list[State], other: list[State]) -> np.ndarray:
    e = np.full(len(target), np.nan)
    for k, (a, b) in enumerate(zip(target, other)):
        e[k] = gt_error(model, a, b)
    return e


def render_heldout(model: RobotModel, held: Dataset, raw_sim: HybridSim, learned: HybridSim,
                   generator: Corrector, labels: tuple[str, str], folder: Path, seed: int) -> dict[str, Any]:
    """Draw the longest held-out trajectory (the first of equal length) overlaid into `folder`
    (`labels`: target and source names). Returns what scores.json records under `render`."""
    from simmatch.render.overlay import Track, VideoJob, render_videos

    k = max(range(len(held.trajectories)), key=lambda i: (len(held.trajectories[i]), -i))
    tr = held.trajectories[k]
    target = [to_state(model, s) for s in tr.states]
    raw = replay(raw_sim, tr, None, seed)
    hybrid = replay(learned, tr, generator, seed)
    n = min(len(target), len(raw), len(hybrid))
    dst, src = labels
    job = VideoJob(name=NAME, title=f"{model.name}: held-out trajectory {k}", dt=learned.dt,
                   solid=Track(f"target {dst}", target[:n]),
                   ghosts=[Track(f"raw {src}", raw[:n], _errors(model, target[:n], raw[:n])),
                           Track("learned hybrid", hybrid[:n], _errors(model, target[:n], hybrid[:n]))],
                   still=None, max_fps=CONTROL_FPS)
    info = render_videos(model, [job], Path(folder))
    for v in info["videos"]:
        v["video"], v["still"] = f"{FOLDER}/{v['video']}", f"{FOLDER}/{v['still']}"
    info["trajectory"] = k
    return info
