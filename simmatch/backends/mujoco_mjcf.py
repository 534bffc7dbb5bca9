"""MuJoCo's native load of an MJCF: `mujoco.MjModel.from_xml_path(file)`, as users call it.

The compiled model is the one `simmatch.mjcf` maps to the canonical model, so the mapping back is
exact: a canonical link that is a MuJoCo body is that body's frame moved to the anchor of its last
joint (`mjcf.link_offset`), a virtual link (between the joints of a multi-joint body) is placed from
its parent body by the canonical joints; a canonical joint is the MuJoCo joint of the same name, its
q is MuJoCo's qpos minus `qpos0` (the joint's `ref`). The file's own world geoms, contact
parameters, armature, springs and integrator stay as MuJoCo holds them; SimConfig's time step,
gravity and solver iterations are set on top (as for a native URDF load).
"""

from __future__ import annotations

import os
from typing import Any

import mujoco
import numpy as np

from ..config import SimConfig
from ..errors import EngineFailure
from ..mjcf import link_offset
from ..model import RobotModel
from .base import Unsupported
from .mujoco_build import BuildPlan, LinkPlacement


def _shift(offset: np.ndarray) -> np.ndarray:
    T = np.eye(4)
    T[:3, 3] = offset
    return T


def _named(path: str, pose: Any = None) -> Any:
    """The compiled model; unnamed bodies and joints get the names `simmatch.mjcf` gives them
    ('body<id>', 'joint<id>': through MjSpec, which compiles the same file), so that every canonical
    name is found in it. `pose` (a Pose, the fixed base's mount): everything in the world body is
    placed at it (`mujoco_build.mount_native`)."""
    try:
        mj = mujoco.MjModel.from_xml_path(path)
    except Exception as e:  # MuJoCo raises ValueError with its compiler message
        raise EngineFailure("mujoco", "native", " ".join(str(e).split())) from None
    if pose is not None:  # the same file through MjSpec (its parser), the world body's contents mounted
        from .mujoco_build import mount_native

        spec = mujoco.MjSpec.from_file(path)
        mount_native(spec, pose)
        try:
            mj = spec.compile()
        except Exception as e:
            raise EngineFailure("mujoco", "native", " ".join(str(e).split())) from None
    unnamed = any(not mujoco.mj_id2name(mj, mujoco.mjtObj.mjOBJ_BODY, b) for b in range(1, mj.nbody)) or any(
        not mujoco.mj_id2name(mj, mujoco.mjtObj.mjOBJ_JOINT, j) for j in range(mj.njnt))
    if not unnamed:
        return mj
    spec = mujoco.MjSpec.from_file(path)
    if pose is not None:
        from .mujoco_build import mount_native

        mount_native(spec, pose)
    bodies = [b for b in spec.bodies if b is not spec.worldbody]
    for k, body in enumerate(bodies, start=1):
        if not body.name:
            body.name = f"body{k}"
    for k, joint in enumerate(spec.joints):
        if not joint.name:
            joint.name = f"joint{k}"
    try:
        return spec.compile()
    except Exception as e:
        raise EngineFailure("mujoco", "native", " ".join(str(e).split())) from None


def load_native(model: RobotModel, cfg: SimConfig) -> tuple[Any, BuildPlan, np.ndarray, dict[str, str], list[str]]:
    """MuJoCo's own load of the MJCF `model.source`: (MjModel, the plan mapping canonical links
    onto its bodies, qref (dof,) = qpos0 of each canonical coordinate (rad or m), link -> MuJoCo body
    whose COM is the link's, notes). EngineFailure when MuJoCo refuses the file or holds a joint the
    canonical coordinates cannot set (a ball joint: a quaternion)."""
    path = os.fspath(model.source)
    mj = _named(path, model.base_pose if model.posed else None)
    mj.opt.timestep = cfg.dt
    mj.opt.gravity[:] = cfg.gravity
    mj.opt.iterations = int(cfg.solver_iterations)
    notes: list[str] = []
    for i in range(mj.njnt):
        if mj.jnt_type[i] == mujoco.mjtJoint.mjJNT_BALL:
            name = mujoco.mj_id2name(mj, mujoco.mjtObj.mjOBJ_JOINT, i)
            raise EngineFailure("mujoco", "native", f"ball joint {name!r}: MuJoCo holds its position as a quaternion "
                                "(4 numbers, 3 velocities); simmatch does not map it onto its three canonical Euler "
                                "coordinates", cause="mujoco_spherical_ball_joint", subject=name)
    body_id = {mujoco.mj_id2name(mj, mujoco.mjtObj.mjOBJ_BODY, b) or "world": b for b in range(mj.nbody)}
    placements: dict[str, LinkPlacement] = {}
    com_body: dict[str, str] = {}
    stack: list[tuple[str, str, list[tuple[np.ndarray, Any]]]] = [(model.root, "world", [])]
    while stack:
        link, holder, steps = stack.pop()
        b = body_id.get(link)
        if b is not None:
            off = link_offset(mj, b) if b > 0 else np.zeros(3)
            own = [(_shift(off), None)] if np.any(off != 0.0) else []
            placements[link] = LinkPlacement(link, own)
            com_body[link] = link
            holder, steps = link, own
        else:  # a virtual link between the joints of one body, placed from its parent body
            placements[link] = LinkPlacement(holder, list(steps))
        for j in reversed(model.child_joints(link)):
            stack.append((j.child, holder, steps + [(j.origin.matrix, j if j.movable else None)]))
    qref = np.zeros(model.dof)
    for k, j in enumerate(model.dof_joints):
        i = mujoco.mj_name2id(mj, mujoco.mjtObj.mjOBJ_JOINT, j.name)
        if i < 0:
            raise EngineFailure("mujoco", "native", f"joint {j.name!r} missing from MuJoCo's compiled model",
                                subject=j.name)
        qref[k] = float(mj.qpos0[int(mj.jnt_qposadr[i])])
    if np.any(qref != 0.0):
        notes.append("joint ref: canonical q = MuJoCo qpos - qpos0 (" + ", ".join(
            f"{j.name} {r:g}" for j, r in zip(model.dof_joints, qref) if r != 0.0) + ")")
    has_free = any(mj.jnt_type[i] == mujoco.mjtJoint.mjJNT_FREE for i in range(mj.njnt))
    joint_D = {j.name: np.eye(4) for j in model.dof_joints}
    joint_origin = {j.name: j.origin for j in model.dof_joints}
    plan = BuildPlan(placements, {}, joint_D, joint_origin, [], "free" if has_free else "welded")
    return mj, plan, qref, com_body, notes


def native_unsupported(model: RobotModel, mj: Any) -> list[Unsupported]:
    """What the native load holds that the canonical comparison does not model, as MuJoCo holds it."""
    out = []
    if any(j.limited for j in model.dof_joints) or any(mj.geom_contype | mj.geom_conaffinity):
        out.append(Unsupported("hard_limits", "*", "joint limits and contacts are soft constraints in MuJoCo"))
    for g in range(mj.ngeom):
        if mj.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH:
            bn = mujoco.mj_id2name(mj, mujoco.mjtObj.mjOBJ_BODY, mj.geom_bodyid[g]) or f"body{mj.geom_bodyid[g]}"
            out.append(Unsupported("mesh_convex_hull", bn, "MuJoCo collides the convex hull of the mesh"))
    return out
