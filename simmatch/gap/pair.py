"""One source/target pair under one scenario: the three rollouts behind every gap number.

For every episode, three rollouts on fresh backends (so that no engine carries hidden state such as
contact caches from one episode to the next): src free, dst free (open-loop error) and dst reset to
src's state before every step (one-step error). Errors use the shared GT metric
(`simmatch.metrics`). `run.py` (the `gap` command) and `explain.py` (its --explain) both build on
this module; neither imports the other's caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backends.base import Backend
from ..config import SimConfig
from ..errors import EngineFailure
from ..metrics import MetricWeights, divergence_step, trajectory_errors
from ..model import RobotModel, State
from ..variants import make_target
from .physical import EnergyCheck
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
    unstable: dict[str, Any] = field(default_factory=dict)  # {'src'|'dst'|'one_step': step} for engines that blew up
    # where measuring stopped before the end (an engine blew up): {'step': last open-loop state measured,
    # 'one_step': last one-step state measured, 'reason': ...}; None when every step was measured
    measured_until: dict[str, Any] | None = None


@dataclass
class ScenarioResult:
    label: str
    spec: ScenarioSpec
    episodes: list[EpisodeResult]
    summary: dict[str, Any] = field(default_factory=dict)



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
    """All episodes of one scenario: src free, dst free, dst one-step. Errors stop at the last
    physically meaningful state (`EpisodeResult.measured_until`)."""
    out = []
    check = EnergyCheck(model, config.gravity)
    dt = config.dt * substeps
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
        # compare where both ran, and only up to the last physically meaningful state of each
        # (`physical`: an engine's blow-up may stay finite, or announce itself only steps later)
        ua = check.first_unphysical(a.states, a.applied, dt)
        ub = check.first_unphysical(b.states, b.applied, dt)
        uc = check.first_unphysical_step(a.states, c, a.applied, dt) if one_step else None
        open_last = min([len(b.states) - 1] + [u - 1 for u in (ua, ub) if u is not None])
        step_last = min([len(c) - 1] + [u - 1 for u in (ua, uc) if u is not None])
        open_err, open_comp = trajectory_errors(model, a.states[:open_last + 1], b.states[:open_last + 1], weights)
        step_err, step_comp = trajectory_errors(model, a.states[:step_last + 1], c[:step_last + 1], weights)
        unstable = {k: v for k, v in (("src", a.unstable_at), ("dst", b.unstable_at),
                                      ("one_step", len(c) - 1 if len(c) < len(a.states) else None)) if v is not None}
        div = divergence_step(open_err, threshold)
        if open_last < T and (div is None or open_last < div):  # an engine blew up before the threshold
            div = open_last
        reasons = _cut_reasons(a, b, ua, ub, uc, unstable.get("one_step"), dst_label=_label(dst_spec))
        measured = None
        if reasons:
            measured = {"step": open_last, "one_step": step_last, "reason": "; ".join(reasons)}
        out.append(EpisodeResult(e, a, b, c, open_err, open_comp, step_err, step_comp, div, unstable, measured))
    return out




def _label(spec: str) -> str:
    from ..variants import parse_target

    return parse_target(spec).label


def _cut_reasons(a: Recording, b: Recording, ua: int | None, ub: int | None, uc: int | None,
                 one_step_failed: int | None, dst_label: str) -> list[str]:
    """Why measuring stopped early, one phrase per engine event, in step order."""
    events = []
    for who, rec, u in (("src", a, ua), ("dst", b, ub)):
        if u is not None:
            events.append((u, f"{who} ({rec.engine}) holds energy no torque supplied from step {u} (blown up)"))
        if rec.unstable_at is not None:
            why = rec.unstable_message or "non-finite state"
            events.append((rec.unstable_at + 1, f"{who} ({rec.engine}) failed at step {rec.unstable_at + 1}: {why}"))
    if uc is not None:
        events.append((uc, f"one-step ({dst_label}) holds energy no torque supplied at step {uc} (blown up)"))
    if one_step_failed is not None:
        events.append((one_step_failed + 1, f"one-step ({dst_label}) failed at step {one_step_failed + 1}"))
    return [text for _, text in sorted(events, key=lambda x: x[0])]
