"""`simmatch gap`: how fast and where two engines drift apart under identical inputs.

Runs every scenario of one src/dst pair (`pair.run_pair`), summarises each (`summarize`) and, with
--explain, ranks the known mismatches (`explain.explain`). Numbers depend only on the options: the
same options give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..config import SimConfig, config_origin
from ..metrics import CONTACT_AGGREGATE, component_names, contact_comparison_episodes, force_comparison
from ..model import RobotModel
from ..registry import load_model
from ..variants import parse_target
from .config import GapOptions
from .explain import KNOBS, explain
from .pair import EpisodeResult, ScenarioResult, build, run_pair
from .physical import DEFINITION as MEASURED_UNTIL
from .rollout import root_dofs
from .scenarios import Scenario, ScenarioSpec, parse_scenario

ProgressFactory = Callable[[int], Callable[[int], None]]


@dataclass
class GapResult:
    options: GapOptions
    model: RobotModel
    src_label: str
    dst_label: str
    config: SimConfig
    scenarios: list[ScenarioResult]
    components: list[str]
    notes: dict[str, Any] = field(default_factory=dict)
    explain: dict[str, Any] | None = None
    # where dt, gravity and the integrator came from (`config.config_origin`), for a model that declares
    # simulation options (an MJCF); None (and not in gap.json) otherwise
    config_origin: dict[str, str] | None = None

    def to_dict(self, per_step: bool = True) -> dict[str, Any]:
        o = self.options.record()
        return {
            "command": "gap",
            "model": self.model.name,
            "src": self.src_label,
            "dst": self.dst_label,
            "load": self.options.load,
            "options": o,
            "config": self.config.to_dict() if self.config_origin is None else {**self.config.to_dict(),
                                                                                 "origin": self.config_origin},
            "components": self.components,
            "notes": self.notes,
            "scenarios": {s.label: _scenario_dict(s, per_step) for s in self.scenarios},
            "explain": self.explain,
        }


def _scenario_dict(s: ScenarioResult, per_step: bool) -> dict[str, Any]:
    d = dict(s.summary)
    if not per_step:
        d = {k: v for k, v in d.items() if k != "per_step"}
    return d


def summarize(label: str, spec: ScenarioSpec, episodes: list[EpisodeResult], model: RobotModel,
              components: list[str], dt: float) -> dict[str, Any]:
    """Per-scenario numbers: GT mean/max (open-loop and one-step), divergence, per DoF, worst DoF,
    contacts, joint-limit and root forces."""
    # episodes may stop early where an engine blew up: pad per-step curves with NaN
    T = max(len(e.open_err) for e in episodes)

    def pad(x: np.ndarray, n: int) -> np.ndarray:
        return np.concatenate([x, np.full(n - len(x), np.nan)])

    open_err = np.stack([pad(e.open_err, T) for e in episodes])  # (E, T+1)
    Ts = max(len(e.step_err) for e in episodes)
    step_err = np.stack([pad(e.step_err[1:], Ts - 1) for e in episodes])
    open_comp = np.concatenate([e.open_comp for e in episodes])
    step_comp = np.concatenate([e.step_comp[1:] for e in episodes])
    per_dof_open = open_comp.mean(axis=0)
    per_dof_step = step_comp.mean(axis=0) if len(step_comp) else np.zeros(len(components))
    worst = int(np.argmax(per_dof_open)) if len(components) else None  # None: nothing moves (welded, 0 DoF)
    div = [e.divergence for e in episodes]
    diverged = [d for d in div if d is not None]
    first = min(diverged) if diverged else None
    d: dict[str, Any] = {
        "scenario": label,
        "steps": int(open_err.shape[1] - 1),
        "episodes": len(episodes),
        "gt_open_loop": {"mean": _nan(np.nanmean, open_err), "max": _nan(np.nanmax, open_err),
                         "final": float(np.mean([e.open_err[-1] for e in episodes]))},
        "gt_one_step": {"mean": _nan(np.nanmean, step_err), "max": _nan(np.nanmax, step_err)},
        "divergence": {"step": first, "time_s": None if first is None else first * dt,
                       "per_episode": div, "episodes_diverged": len(diverged)},
        "unstable": [e.unstable for e in episodes] if any(e.unstable for e in episodes) else None,
        "measured_until": ([e.measured_until for e in episodes] if any(e.measured_until for e in episodes)
                           else None),
        "worst_dof": None if worst is None else components[worst],
        "per_dof": {n: {"open_loop": float(per_dof_open[i]), "one_step": float(per_dof_step[i])}
                    for i, n in enumerate(components)},
    }
    a0, b0 = episodes[0].src, episodes[0].dst

    def cat(attr: str, side: str, per_step: bool = False) -> np.ndarray | None:
        """One history over all episodes, each cut to where both engines ran."""
        parts = [getattr(getattr(e, side), attr) for e in episodes]
        if parts[0] is None:
            return None
        return np.concatenate([x[:len(e.open_err) - per_step] for x, e in zip(parts, episodes)])

    if a0.in_contact is not None and b0.in_contact is not None:
        # per episode (a first contact step is a step of its own episode), then over all episodes
        d["contacts"] = contact_comparison_episodes(a0.links, [
            tuple(getattr(getattr(e, side), attr)[:len(e.open_err)]
                  for attr in ("in_contact", "normal_force", "penetration") for side in ("src", "dst"))
            for e in episodes])
        d["contact_aggregate"] = dict(CONTACT_AGGREGATE)
    limited = [i for i, j in enumerate(model.dof_joints) if j.limited]
    la, lb = cat("limit_forces", "src", True), cat("limit_forces", "dst", True)
    d["joint_limit_forces"] = force_comparison(
        [model.joint_names[i] for i in limited], None if la is None else la[:, limited],
        None if lb is None else lb[:, limited]) if limited else None
    roots = root_dofs(model)
    if roots and a0.root_forces is not None and b0.root_forces is not None:
        d["root_forces"] = force_comparison([model.joint_names[i] for i in roots], cat("root_forces", "src", True),
                                            cat("root_forces", "dst", True))
    else:
        d["root_forces"] = None
    d["per_step"] = {"gt_open_loop": _nanlist(open_err), "gt_one_step": [0.0] + _nanlist(step_err)}
    return d


def _nan(fn: Callable[[np.ndarray], Any], a: np.ndarray) -> float:
    """fn over the finite-or-NaN array, 0.0 when there is nothing to reduce."""
    if a.size == 0 or np.all(np.isnan(a)):
        return 0.0
    return float(fn(a))


def _nanlist(a: np.ndarray) -> list[float | None]:
    """Per-step mean over episodes; None where no episode got that far."""
    out: list[float | None] = []
    for col in a.T:
        ok = col[~np.isnan(col)]
        out.append(float(ok.mean()) if ok.size else None)
    return out


def run_gap(opts: GapOptions, progress_factory: ProgressFactory | None = None) -> GapResult:
    """Run every scenario (and --explain) for one src/dst pair. `progress_factory(total)` returns a
    callable advanced by steps done, or None."""
    opts.validate()
    model = load_model(opts.model, base=opts.base, base_pose=opts.base_pose)
    given = ("dt",) if opts.dt is not None else ()
    config = opts.config(model)
    opts = replace(opts, dt=config.dt)  # gap.json records the time step used (the model's, when not given)
    specs = opts.scenario_specs()
    scenarios = [Scenario(s, model, config.dt) for s in specs]
    components = component_names(model)
    total = sum(3 * sc.horizon * sc.spec.episodes for sc in scenarios)
    explain_sc = None
    if opts.explain:
        name = opts.explain_scenario or opts.scenarios[0]
        explain_sc = next((sc for sc in scenarios if opts.explain_scenario is None or sc.spec.name == name
                           or sc.spec.label == name), None)
        if explain_sc is None:
            explain_sc = Scenario(parse_scenario(name, horizon=opts.horizon, episodes=opts.episodes,
                                                 torque_scale=opts.torque_scale, noise=opts.noise,
                                                 seed=opts.seed), model, config.dt)
        total += 3 * explain_sc.horizon * explain_sc.spec.episodes * (len(KNOBS) + (explain_sc.spec not in specs))
    progress = progress_factory(total) if progress_factory else None
    results = []
    for sc in scenarios:
        eps = run_pair(opts.src, opts.dst, model, config, opts.load, sc, opts.weights, opts.threshold,
                       progress=progress)
        r = ScenarioResult(sc.spec.label, sc.spec, eps)
        r.summary = summarize(sc.spec.label, sc.spec, eps, model, components, config.dt)
        results.append(r)
    notes = _notes(opts, model, config)
    res = GapResult(opts, model, parse_target(opts.src).label, parse_target(opts.dst).label, config, results,
                    components, notes)
    if model.options is not None:  # where dt, gravity and the integrator came from (an MJCF's <option>)
        res.config_origin = config_origin(model, given)
    if explain_sc is not None:
        base = next((r for r in results if r.spec == explain_sc.spec), None)
        res.explain = explain(opts, model, config, explain_sc, base, progress)
    return res


def _notes(opts: GapOptions, model: RobotModel, config: SimConfig) -> dict[str, Any]:
    """What each engine could not represent, and what the root/limit force figures mean."""
    out: dict[str, dict[str, Any]] = {"unsupported": {}, "definitions": {
        "gt_metric": "weighted L2 of the state error: positions 1, linear velocities "
                     f"{opts.weights.linear_velocity}, angular velocities {opts.weights.angular_velocity}",
        "open_loop": "src and dst run free from the same initial state with the same commanded torques",
        "one_step": "dst reset to src's state before every step; error after that one step",
        "divergence": f"first step whose open-loop GT error exceeds {opts.threshold}",
        "measured_until": MEASURED_UNTIL,
        "episodes": "per-step figures (GT errors, per-DoF errors, contact fractions, forces) are taken over all "
                    "measured steps of all episodes; a first contact step is a step within its episode, the "
                    "earliest over episodes, each episode's own under contacts.LINK.per_episode",
        "root_forces": "generalized forces the engine's constraint solver put on the planar root DoFs, "
                       "M (dq' - dq)/dt + h - tau (N for prismatic, N m for revolute)",
        "joint_limit_forces": "generalized force of the joint-limit constraints per limited joint; null where "
                              "the engine does not report it (PyBullet)",
    }}
    for spec in (opts.src, opts.dst):
        with build(spec, model, config, opts.load) as b:
            out["unsupported"][parse_target(spec).label] = [f"{u.feature} ({u.subject}): {u.reason}"
                                                            for u in b.unsupported]
    return out


def with_options(opts: GapOptions, **kw: Any) -> GapOptions:
    return replace(opts, **kw)
