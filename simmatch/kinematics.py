"""Forward kinematics computed from the RobotModel alone (numpy/scipy), the reference every engine
is held against."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from scipy.spatial.transform import Rotation

from .model import Joint, RobotModel, State


def joint_motion(joint: Joint, q: float) -> np.ndarray:
    """(4, 4) transform of a joint's motion at position q, in the joint frame."""
    T = np.eye(4)
    if joint.type in ("revolute", "continuous"):
        T[:3, :3] = _rotvec_matrix(joint.axis, q)
    elif joint.type == "prismatic":
        T[:3, 3] = np.asarray(joint.axis, dtype=float) * q
    return T


def _rotvec_matrix(axis: Iterable[float], q: float) -> np.ndarray:
    """(3, 3) rotation by the rotation vector axis * q (Rodrigues' formula; the same matrix as
    scipy's Rotation.from_rotvec(axis * q).as_matrix() to rounding, at a fraction of the cost)."""
    x, y, z = (float(a) * float(q) for a in axis)
    theta = math.sqrt(x * x + y * y + z * z)
    if theta < 1e-300:
        return np.eye(3)
    x, y, z = x / theta, y / theta, z / theta
    s, c = math.sin(theta), math.cos(theta)
    C = 1.0 - c
    return np.array([[c + x * x * C, x * y * C - z * s, x * z * C + y * s],
                     [y * x * C + z * s, c + y * y * C, y * z * C - x * s],
                     [z * x * C - y * s, z * y * C + x * s, c + z * z * C]])


def root_transform(state: State | None, model: RobotModel | None = None) -> np.ndarray:
    """(4, 4) world frame of the root link: the state's root pose (floating base), else the fixed
    base's mount pose `model.base_pose` (identity without a model)."""
    T = np.eye(4)
    if model is not None and not model.floating:
        T = model.base_pose.matrix
    if state is not None and state.floating:
        T[:3, :3] = Rotation.from_quat(state.root_quat).as_matrix()
        T[:3, 3] = state.root_pos
    return T


def link_frames(model: RobotModel, state: State | np.ndarray | None = None) -> dict[str, np.ndarray]:
    """World (4, 4) frame of every link. `state` may be a State or a q vector (root at identity for
    a floating base; a fixed base sits at `model.base_pose`)."""
    if state is None:
        q = np.zeros(model.dof)
        state = None
    elif isinstance(state, State):
        q = np.asarray(state.q, dtype=float)
    else:
        q = np.asarray(state, dtype=float)
        state = None
    if q.shape != (model.dof,):
        raise ValueError(f"q has shape {q.shape}, model {model.name} has {model.dof} DoF")
    index = {name: i for i, name in enumerate(model.joint_names)}
    frames = {model.root: root_transform(state, model)}
    for j in model.walk():
        T = frames[j.parent] @ j.origin.matrix
        if j.movable:
            T = T @ joint_motion(j, q[index[j.name]])
        frames[j.child] = T
    return frames


def link_coms(model: RobotModel, state: State | np.ndarray | None = None) -> dict[str, np.ndarray]:
    """World (3,) COM of every link that has an inertial (mass > 0)."""
    frames = link_frames(model, state)
    out = {}
    for link in model.links:
        if link.inertial is not None and link.inertial.mass > 0:
            out[link.name] = (frames[link.name] @ np.append(link.inertial.com, 1.0))[:3]
    return out


def joint_range(joint: Joint) -> tuple[float, float]:
    """Sampling range (rad or m) for a joint: its limits, or [-pi, pi] (revolute) / [-1, 1] m when
    unlimited. A revolute range wider than one turn (2 pi) is cut to the one-turn window nearest
    [-pi, pi] inside it: [-pi, pi] itself for a range that holds it (Gazebo's 'unlimited' idiom
    lower=-1e16 upper=1e16, which taken literally puts q at 1e15 rad, where doubles are 0.1 rad
    apart), [lower, lower + 2 pi] for a range that starts above -pi. Every angle a revolute joint
    can take is in such a window. The pitch of a floating or spherical joint's Euler coordinates stays 0.3 rad
    away from its singularity at +-pi/2."""
    if joint.group_type in ("floating", "spherical") and joint.name.endswith("[pitch]"):
        return -np.pi / 2 + 0.3, np.pi / 2 - 0.3
    lim = joint.limit
    if joint.limited and lim is not None and lim.lower is not None and lim.upper is not None:
        lo, hi = float(lim.lower), float(lim.upper)
        if joint.type in ("revolute", "continuous") and hi - lo > 2 * np.pi:
            lo = min(max(-np.pi, lo), hi - 2 * np.pi)
            hi = lo + 2 * np.pi
        return lo, hi
    return (-1.0, 1.0) if joint.type == "prismatic" else (-np.pi, np.pi)


def random_q(model: RobotModel, rng: np.random.Generator, margin: float = 0.0) -> np.ndarray:
    """Uniform random q within limits, shrunk by `margin` (a fraction of each range) at both ends."""
    lo, hi = np.array([joint_range(j) for j in model.dof_joints]).T.reshape(2, -1)
    span = hi - lo
    return rng.uniform(lo + margin * span, hi - margin * span)


def random_state(model: RobotModel, rng: np.random.Generator, vel_scale: float = 1.0,
                 margin: float = 0.05) -> State:
    """A random state within limits; for a floating base, a random root pose near the origin."""
    q = random_q(model, rng, margin)
    dq = rng.normal(0.0, vel_scale, model.dof)
    if not model.floating:
        return State(q, dq)
    quat = Rotation.from_rotvec(rng.normal(0, 0.3, 3)).as_quat()
    return State(q, dq, rng.normal(0, 0.2, 3) + np.array([0, 0, 1.0]), quat,
                 rng.normal(0, vel_scale, 3), rng.normal(0, vel_scale, 3))


def model_scales(model: RobotModel) -> tuple[float, float]:
    """(mass kg, length m): the model's total mass and its reach, the largest distance from the root
    frame of any link frame origin, COM or primitive collision shape's far side at q = 0 (at least
    1 mm). Natural units for absolute floors: m g L for gravity and bias forces, m L^2 for mass
    matrix entries and inertia tensors. A massless model gets 1 kg."""
    frames = link_frames(model)
    coms = link_coms(model)
    reach = 0.0
    for link in model.links:
        T = frames[link.name]
        reach = max(reach, float(np.linalg.norm(T[:3, 3])))
        if link.name in coms:
            reach = max(reach, float(np.linalg.norm(coms[link.name])))
        for g in link.collisions:
            if g.kind == "box" and g.size is not None:
                half = 0.5 * float(np.linalg.norm(g.size))
            elif g.kind in ("sphere", "cylinder", "capsule") and g.radius is not None:
                half = g.radius + 0.5 * (g.length or 0.0)
            else:
                continue
            centre = (T @ np.append(np.asarray(g.origin.xyz, float), 1.0))[:3]
            reach = max(reach, float(np.linalg.norm(centre)) + half)
    mass = model.total_mass
    return (mass if mass > 0 else 1.0), max(reach, 1e-3)


def massless_subtree_joints(model: RobotModel) -> list[str]:
    """Movable joints (canonical order) below which no link has mass: their rows and columns of
    the mass matrix are zero, so M(q) is singular and their acceleration is undefined. Computed
    once per model (the model is immutable; the GT metric asks on every state)."""
    cached = model.__dict__.get("_massless_subtree_joints")
    if cached is None:
        mass_below: dict[str, float] = {}
        for j in reversed(list(model.walk())):  # children before parents
            mass_below[j.child] = model.link(j.child).mass + sum(mass_below[c.child]
                                                                 for c in model.child_joints(j.child))
        cached = tuple(j.name for j in model.dof_joints if mass_below[j.child] <= 0)
        model.__dict__["_massless_subtree_joints"] = cached  # frozen dataclass: cache beside cached_property
    return list(cached)
