"""The ground-truth metric, shared by `gap` and the learner.

Per-step weighted L2 distance between two canonical states: positions (m and rad) weighted 1,
linear velocities 1, angular velocities 0.1 (configurable). Orientation of a floating root enters
as the rotation angle vector between the two root frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from .model import RobotModel, State


@dataclass(frozen=True)
class MetricWeights:
    position: float = 1.0
    linear_velocity: float = 1.0
    angular_velocity: float = 0.1


def component_names(model: RobotModel) -> list[str]:
    """Names of the error components, in the order `state_error` returns them."""
    names = []
    if model.floating:
        names += [f"root_pos_{a}" for a in "xyz"] + [f"root_rot_{a}" for a in "xyz"]
    names += [f"q[{n}]" for n in model.joint_names]
    if model.floating:
        names += [f"root_vel_{a}" for a in "xyz"] + [f"root_angvel_{a}" for a in "xyz"]
    names += [f"dq[{n}]" for n in model.joint_names]
    return names


def component_weights(model: RobotModel, w: MetricWeights = MetricWeights()) -> np.ndarray:
    """Weight of each error component (same order as `component_names`)."""
    weights: list[float] = []
    if model.floating:
        weights += [w.position] * 6
    weights += [w.position] * model.dof
    if model.floating:
        weights += [w.linear_velocity] * 3 + [w.angular_velocity] * 3
    weights += [w.linear_velocity if j.type == "prismatic" else w.angular_velocity for j in model.dof_joints]
    out = np.array(weights, dtype=float)
    # a joint that moves no mass has no defined motion (M(q) is singular there): weight 0
    from .kinematics import massless_subtree_joints

    idle = set(massless_subtree_joints(model))
    if idle:
        off = 6 if model.floating else 0
        for i, n in enumerate(model.joint_names):
            if n in idle:
                out[off + i] = 0.0
                out[len(out) - model.dof + i] = 0.0
    return out


def state_error(model: RobotModel, a: State, b: State) -> np.ndarray:
    """Signed, unweighted component errors b - a (see `component_names`)."""
    parts = []
    if model.floating:
        rot = (Rotation.from_quat(a.root_quat).inv() * Rotation.from_quat(b.root_quat)).as_rotvec()
        parts += [np.asarray(b.root_pos) - a.root_pos, rot]
    parts.append(np.asarray(b.q) - a.q)
    if model.floating:
        parts += [np.asarray(b.root_lin_vel) - a.root_lin_vel, np.asarray(b.root_ang_vel) - a.root_ang_vel]
    parts.append(np.asarray(b.dq) - a.dq)
    return np.concatenate(parts)


def gt_error(model: RobotModel, a: State, b: State, w: MetricWeights = MetricWeights()) -> float:
    """Weighted L2 ground-truth error between two states."""
    return float(np.linalg.norm(component_weights(model, w) * state_error(model, a, b)))


def trajectory_errors(model: RobotModel, traj_a: list[State], traj_b: list[State],
                      w: MetricWeights = MetricWeights()) -> tuple[np.ndarray, np.ndarray]:
    """Per-step GT error (T,) and per-step weighted absolute component errors (T, C)."""
    if len(traj_a) != len(traj_b):
        raise ValueError(f"trajectories differ in length: {len(traj_a)} vs {len(traj_b)}")
    weights = component_weights(model, w)
    comp = np.array([np.abs(weights * state_error(model, a, b)) for a, b in zip(traj_a, traj_b)])
    if comp.size == 0:  # no steps, or a model with nothing that moves (welded, 0 DoF): error 0
        return np.zeros(len(traj_a)), comp.reshape(len(traj_a), len(weights))
    return np.linalg.norm(comp, axis=1), comp


def divergence_step(errors: np.ndarray, threshold: float) -> int | None:
    """First step index whose error exceeds `threshold`, None when it never does."""
    idx = np.nonzero(np.asarray(errors) > threshold)[0]
    return int(idx[0]) if idx.size else None


def component_values(model: RobotModel, s: State) -> np.ndarray:
    """State values in `component_names` order (root orientation as a rotation vector), for plots
    of src against dst."""
    parts = []
    if model.floating:
        parts += [np.asarray(s.root_pos, float), Rotation.from_quat(s.root_quat).as_rotvec()]
    parts.append(np.asarray(s.q, float))
    if model.floating:
        parts += [np.asarray(s.root_lin_vel, float), np.asarray(s.root_ang_vel, float)]
    parts.append(np.asarray(s.dq, float))
    return np.concatenate(parts)


def contact_comparison(links: list[str], on_a: np.ndarray, on_b: np.ndarray, force_a: np.ndarray,
                       force_b: np.ndarray, pen_a: np.ndarray,
                       pen_b: np.ndarray) -> dict[str, dict[str, Any]]:
    """Per link, over steps (arrays (T, L)): fraction of steps in contact in a and in b, fraction
    where they disagree (on in one, off in the other), first contact step in each, mean |normal
    force difference| (N), mean normal force in each, and the deepest penetration in each (m)."""

    def first(x: np.ndarray) -> int | None:
        return int(np.argmax(x)) if x.any() else None

    out: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(links):
        a, b = np.asarray(on_a[:, i], bool), np.asarray(on_b[:, i], bool)
        fa, fb = np.asarray(force_a[:, i], float), np.asarray(force_b[:, i], float)
        out[name] = {
            "contact_fraction": [float(a.mean()), float(b.mean())],
            "onoff_mismatch": float(np.mean(a != b)),
            "first_contact_step": [first(a), first(b)],
            "normal_force_mean": [float(fa.mean()), float(fb.mean())],
            "normal_force_mae": float(np.mean(np.abs(fa - fb))),
            "penetration_max": [float(np.max(pen_a[:, i], initial=0.0)), float(np.max(pen_b[:, i], initial=0.0))],
        }
    return out


def force_comparison(names: list[str], a: np.ndarray | None,
                     b: np.ndarray | None) -> dict[str, dict[str, Any]] | None:
    """Per named column of two (T, n) force histories: mean |a|, mean |b|, mean |a - b|, max |a - b|.
    A side that was not measured (None) or has no step (T = 0: an episode measured until step 0)
    gives None values, never NaN."""
    if a is None and b is None:
        return None
    out = {}
    for i, name in enumerate(names):
        ca = None if a is None or len(a) == 0 else np.asarray(a[:, i], float)
        cb = None if b is None or len(b) == 0 else np.asarray(b[:, i], float)
        diff = None if ca is None or cb is None else np.abs(ca - cb)
        out[name] = {
            "mean_abs": [None if ca is None else float(np.mean(np.abs(ca))),
                         None if cb is None else float(np.mean(np.abs(cb)))],
            "mae": None if diff is None else float(np.mean(diff)),
            "max_abs_diff": None if diff is None else float(np.max(diff, initial=0.0)),
        }
    return out


CONTACT_AGGREGATE = {
    "first_contact_step": "earliest over episodes, per engine (each a step within its own episode)",
    "contact_fraction": "over all measured steps of all episodes",
    "onoff_mismatch": "over all measured steps of all episodes",
    "normal_force_mean": "over all measured steps of all episodes",
    "normal_force_mae": "over all measured steps of all episodes",
    "penetration_max": "deepest in any episode",
}


def contact_comparison_episodes(links: list[str], episodes: list[tuple[np.ndarray, ...]]) -> dict[str, dict[str, Any]]:
    """`contact_comparison` of several episodes, each given as (on_a, on_b, force_a, force_b, pen_a,
    pen_b) arrays (T_e, L): per link the figures over all episodes (as `CONTACT_AGGREGATE` says: the
    first contact step is the earliest episode's, a step within that episode; the rest over all
    steps) and under `per_episode` each episode's own."""
    per = [contact_comparison(links, *ep) for ep in episodes]
    pooled = contact_comparison(links, *(np.concatenate([ep[k] for ep in episodes]) for k in range(6)))
    for name in links:
        firsts = [p[name]["first_contact_step"] for p in per]
        pooled[name]["first_contact_step"] = [
            min((f[side] for f in firsts if f[side] is not None), default=None) for side in (0, 1)]
        pooled[name]["per_episode"] = [p[name] for p in per]
    return pooled
