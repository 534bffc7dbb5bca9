"""One source/target pair under one scenario: the three rollouts behind every gap number.

For every episode, three rollouts on fresh backends (so that no engine carries hidden state such as
contact caches from one episode to the next): src free, dst free (open-loop error) and dst reset to
src's state before every step (one-step error). Errors use the shared GT metric
(`simmatch.metrics`). `run.py` (the `gap` command) and `explain.py` (its --explain) both build on
this module; neither imports the other's caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..backends.base import Backend
from ..config import SimConfig
from ..errors import EngineFailure
from ..metrics import MetricWeights, divergence_step, trajectory_errors
from ..model import RobotModel, State
from ..variants import make_target
from .rollout import Recording, one_step_states, record_rollout
from .scenarios import Scenario, ScenarioSpec

Progress = Callable[[int], None]


@dataclass
class EpisodeResult:
    index: int
    src: Recording
    dst: Recording
    one_step: list[State]
    open_err: np.ndarray  # (T+1,) GT error per step
    open_comp: np.ndarray  # (T+1, C) weighted |error| per component
    step_err: np.ndarray  # (T'+1,) one-step GT error (0 at step 0)
    step_comp: np.ndarray
    divergence: int | None  # first step over the threshold, or where an engine blew up
    unstable: dict = field(default_factory=dict)  # {'src'|'dst'|'one_step': step} for engines that blew up


@dataclass
class ScenarioResult:
    label: str
    spec: ScenarioSpec
    episodes: list[EpisodeResult]
    summary: dict = field(default_factory=dict)



def build(spec: str, model: RobotModel, config: SimConfig, load: str) -> Backend:
    """A target backend; a native import that fails says so and how to go on."""
    try:
        return make_target(spec, model, config, load)
    except EngineFailure as exc:
        if load == "native":
            raise EngineFailure(exc.engine, "native",
                                f"{exc.message} -- the engine's own URDF import fails on this model, which is "
                                "the naive end-to-end gap; `simmatch check` explains it, `--load matched` "
                                "measures the physics gap") from None
        raise


def run_pair(src_spec: str, dst_spec: str, model: RobotModel, config: SimConfig, load: str, scenario: Scenario,
             weights: MetricWeights, threshold: float, *, substeps: int = 1, record: bool = True,
             one_step: bool = True, progress: Progress | None = None) -> list[EpisodeResult]:
    """All episodes of one scenario: src free, dst free, dst one-step."""
    out = []
    for e in range(scenario.spec.episodes):
        ep = scenario.episode(e)
        T = scenario.horizon
        with build(src_spec, model, config, load) as src:
            a = record_rollout(src, ep, T, record=record, substeps=substeps, progress=progress)
        if progress is not None and a.steps < T:
            progress(T - a.steps)  # dst runs only as far as src got
        with build(dst_spec, model, config, load) as dst:
            b = record_rollout(dst, ep, a.steps, record=record, substeps=substeps, torques=a.commanded,
                               progress=progress)
        if one_step:
            with build(dst_spec, model, config, load) as dst:
                c = one_step_states(dst, a, substeps, progress=progress)
            if progress is not None and a.steps < T:
                progress(T - a.steps)
        else:
            c = a.states
        n = len(b.states)  # compare where both ran
        open_err, open_comp = trajectory_errors(model, a.states[:n], b.states, weights)
        step_err, step_comp = trajectory_errors(model, a.states[:len(c)], c, weights)
        unstable = {k: v for k, v in (("src", a.unstable_at), ("dst", b.unstable_at),
                                      ("one_step", len(c) - 1 if len(c) < len(a.states) else None)) if v is not None}
        div = divergence_step(open_err, threshold)
        blew_up = [v for k, v in unstable.items() if k != "one_step"]
        if blew_up and (div is None or min(blew_up) < div):
            div = min(blew_up)
        out.append(EpisodeResult(e, a, b, c, open_err, open_comp, step_err, step_comp, div, unstable))
    return out


