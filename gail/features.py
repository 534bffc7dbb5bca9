"""State vectors as the learner sees them: canonical `State.as_vector()` plus the few indices that
need special handling (height for placeholders, horizontal position made relative)."""

from __future__ import annotations

import numpy as np

from simmatch.model import Joint, RobotModel, State


def state_size(model: RobotModel) -> int:
    return len(State.zeros(model).as_vector())


def to_vec(state: State) -> np.ndarray:
    return state.as_vector().astype(float)


def to_state(model: RobotModel, v: np.ndarray) -> State:
    v = np.asarray(v, dtype=float)
    n = model.dof
    if not model.floating:
        return State(v[:n].copy(), v[n:2 * n].copy())
    pos, quat, q = v[0:3], v[3:7], v[7:7 + n]
    lin, ang, dq = v[7 + n:10 + n], v[10 + n:13 + n], v[13 + n:13 + 2 * n]
    return State(q.copy(), dq.copy(), pos.copy(), quat.copy(), lin.copy(), ang.copy())


def _slide_axis(model: RobotModel, axis: int) -> int | None:
    """Index in q of the first prismatic joint along world axis `axis` (planar roots)."""
    for i, j in enumerate(model.dof_joints):
        if j.type == "prismatic" and abs(abs(j.axis[axis]) - 1.0) < 1e-9:
            return i
    return None


def height_index(model: RobotModel) -> int:
    """Index of the root height in the state vector (placeholder states set it to 1)."""
    if model.floating:
        return 2
    i = _slide_axis(model, 2)
    return 0 if i is None else i


def horizontal_indices(model: RobotModel) -> list[int]:
    """Indices of the horizontal root position (translation-invariant: the learner sees it relative)."""
    if model.floating:
        return [0, 1]
    return [i for i in (_slide_axis(model, 0), _slide_axis(model, 1)) if i is not None]


def placeholder_state(model: RobotModel) -> np.ndarray:
    """The notes' convention for a state that does not exist: height 1, everything else 0."""
    v = np.zeros(state_size(model))
    v[height_index(model)] = 1.0
    return v


def generator_obs(model: RobotModel, s: np.ndarray, a: np.ndarray) -> np.ndarray:
    """What the generator sees: the state without its absolute horizontal position, and the action; for
    a legged robot (gail/laikago.py) the notes' observation `legged_obs` and the action."""
    from .laikago import legged_obs, legged_spec

    if legged_spec(model) is not None:  # the notes' observation: height, rpy, base velocities, q, dq
        return np.concatenate([legged_obs(model, s), a])
    keep = np.ones(len(s), bool)
    keep[horizontal_indices(model)] = False
    return np.concatenate([np.asarray(s)[keep], a])


def actuated_indices(model: RobotModel) -> list[int]:
    """Joints with an effort limit > 0: the behaviour actions drive these, normalised to [-1, 1]."""
    return [i for i, j in enumerate(model.dof_joints) if j.limit is not None and (j.limit.effort or 0) > 0]


def _effort(joint: Joint) -> float:
    assert joint.limit is not None and joint.limit.effort is not None  # an actuated joint
    return joint.limit.effort


def torques(model: RobotModel, a: np.ndarray) -> np.ndarray:
    """Normalised action (n_actuated,) in [-1, 1] -> joint torques (dof,)."""
    idx = actuated_indices(model)
    tau = np.zeros(model.dof)
    eff = np.array([_effort(model.dof_joints[i]) for i in idx])
    tau[idx] = np.clip(a, -1.0, 1.0) * eff
    return tau
