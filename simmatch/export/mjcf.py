"""A RobotModel as MJCF, through MuJoCo's own `MjSpec`.

The spec is simmatch's *matched* MuJoCo build (`backends.mujoco_build.build_matched`: one body per
link at the link frame, massless link chains merged exactly into one body with several joints,
inertia from the model, robot geoms that collide with the floor and not with each other, the floor
as a world plane, timestep, gravity and solver iterations from SimConfig, a free joint for a
floating base, `<mimic>` as a joint equality), completed with what an export must keep and a
simulation build does not need:

- each joint's armature, stiffness and springref (canonical `spring_ref`: the exported joints have
  ref 0);
- a spherical joint (its three canonical coordinates in one body, nothing else moving that body
  before it) as one MuJoCo ball joint named after the URDF joint: what MJCF has for it;
- a floating base as a free joint; a `floating` URDF joint inside the tree (or from a fixed world
  link) as its six coordinates in one body, exactly (MuJoCo allows free joints only at the top, and
  a free joint would turn six joints of the model into a floating base);
- a control-limited motor (gear 1, ctrlrange +-effort) for each joint with an effort limit, which
  is how an MJCF states one (`simmatch.mjcf` reads it back as the effort limit);
- the links' visual shapes as geoms with contype = conaffinity = 0 (group 1);
- every body's inertia given as `fullinertia` (the link-frame tensor; MuJoCo's writer saves the
  principal form it compiles to).

The spec is compiled (MuJoCo refuses what it cannot hold) and written by `MjSpec.to_xml` with all
17 significant digits (MuJoCo's writer prints 6 unless told otherwise: 3.665191429 kg would come
back as 3.66519).
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
from collections.abc import Iterator
from typing import Any

import mujoco
import numpy as np

from ..config import SimConfig
from ..meshes import MeshProblem
from ..model import Joint, RobotModel
from . import Notes
from .names import FIXED_JOINT, MERGED_LINK, add_name

BALL_TOL = 1e-12  # a ball joint replaces three coordinates only where their frames coincide to this


@contextlib.contextmanager
def full_precision() -> Iterator[bool]:
    """MuJoCo's XML writer at 17 significant digits while inside (its default is 6); yields False
    when this MuJoCo build does not export the setter (the written numbers then have 6 digits, and
    the export's own check says how far the written file is from the model)."""
    lib = None
    here = os.path.dirname(mujoco.__file__)
    candidates = [p for pattern in ("libmujoco.so*", "libmujoco*.dylib", "mujoco.dll")
                  for p in sorted(glob.glob(os.path.join(here, pattern)))]
    for path in candidates:
        with contextlib.suppress(OSError):
            lib = ctypes.CDLL(path)
            break
    setter = getattr(lib, "_mjPRIVATE__set_xml_precision", None) if lib is not None else None
    getter = getattr(lib, "_mjPRIVATE__get_xml_precision", None) if lib is not None else None
    if setter is None or getter is None:
        yield False
        return
    getter.restype = ctypes.c_int
    old = int(getter())
    setter(ctypes.c_int(17))
    try:
        yield True
    finally:
        setter(ctypes.c_int(old))


def _joint_kwargs(j: Any) -> dict[str, Any]:
    """The attributes of an MjSpec joint that the export sets, to re-add it in another order."""
    return dict(name=j.name, type=j.type, pos=np.array(j.pos), axis=np.array(j.axis), range=np.array(j.range),
                limited=j.limited, damping=np.array(j.damping), frictionloss=float(j.frictionloss),
                armature=float(j.armature), stiffness=np.array(j.stiffness), springref=float(j.springref), ref=float(j.ref))


def _ball_groups(model: RobotModel, spec: Any) -> dict[str, list[Joint]]:
    """Spherical groups whose three coordinates can be one ball joint: consecutive joints of one
    MuJoCo body at the same anchor, with axes z, y, x of the body frame (the coordinate frame is the
    body frame: a ball turns the body about the anchor, so the motion is the same rotation)."""
    out = {}
    for group, coords in model.groups.items():
        if coords[0].group_type != "spherical" or len(coords) != 3:
            continue
        js = [spec.joint(c.name) for c in coords]
        if any(j is None for j in js):
            continue
        body = js[0].parent
        names = [j.name for j in body.joints]
        if any(j.parent.name != body.name for j in js):
            continue
        k = names.index(coords[0].name)
        if names[k:k + 3] != [c.name for c in coords]:
            continue
        pos = [np.asarray(j.pos, dtype=float) for j in js]
        axes = [np.asarray(j.axis, dtype=float) / np.linalg.norm(j.axis) for j in js]
        want = (np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0]))
        if max(float(np.abs(p - pos[0]).max()) for p in pos) > BALL_TOL:
            continue
        if max(float(np.abs(a - w).max()) for a, w in zip(axes, want)) > BALL_TOL:
            continue
        out[group] = coords
    return out


def _use_ball_joints(model: RobotModel, spec: Any, notes: Notes) -> None:
    for group, coords in _ball_groups(model, spec).items():
        first = spec.joint(coords[0].name)
        body = first.parent
        kept = [_joint_kwargs(j) for j in body.joints]
        for j in list(body.joints):
            spec.delete(j)
        names = [c.name for c in coords]
        for kw in kept:
            if kw["name"] == names[0]:
                body.add_joint(name=group, type=mujoco.mjtJoint.mjJNT_BALL, pos=kw["pos"],
                               damping=kw["damping"], frictionloss=kw["frictionloss"], armature=kw["armature"],
                               limited=mujoco.mjtLimited.mjLIMITED_FALSE)
            elif kw["name"] not in names:
                body.add_joint(**kw)
        notes.carried.append(f"spherical joint '{group}': a MuJoCo ball joint (quaternion position; its Euler "
                             "coordinates are read back from it)")


def _add_visuals(model: RobotModel, spec: Any, plan: Any, notes: Notes) -> None:
    from ..backends.mujoco_build import add_mesh, quat_wxyz

    count = 0
    for link in model.links:
        if not link.visuals:
            continue
        placement = plan.placements.get(link.name)
        if placement is None or placement.steps or link.name in plan.merged_links:
            notes.lost.append(f"visual '{link.name}': a massless link merged into body "
                              f"{plan.merged_links.get(link.name, '?')!r}; its {len(link.visuals)} visual shape(s) "
                              "are left out")
            continue
        body = spec.worldbody if placement.body == "world" else spec.body(placement.body)
        for i, g in enumerate(link.visuals):
            kw: dict[str, Any]
            sizes = [*(g.size or ()), *((g.radius,) if g.radius is not None else ())]
            if g.kind != "mesh" and (not sizes or min(sizes) <= 0.0):
                notes.lost.append(f"visual '{link.name}': a {g.describe()} of zero size (MuJoCo refuses it); left out")
                continue
            if g.kind == "box":
                kw = dict(type=mujoco.mjtGeom.mjGEOM_BOX, size=0.5 * np.asarray(g.size, dtype=float))
            elif g.kind == "sphere":
                kw = dict(type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[g.radius, 0, 0])
            elif g.kind in ("cylinder", "capsule"):
                kind = mujoco.mjtGeom.mjGEOM_CYLINDER if g.kind == "cylinder" else mujoco.mjtGeom.mjGEOM_CAPSULE
                kw = dict(type=kind, size=[g.radius, 0.5 * float(g.length or 0.0), 0])
            elif g.kind == "mesh" and g.filename and not g.missing:
                count += 1
                mname = f"visual{count}_{link.name}"
                try:
                    add_mesh(spec, mname, g, link.name, notes.engine_notes)
                except MeshProblem as exc:  # anymal_b's visual .dae files hold no triangles trimesh can read
                    notes.lost.append(f"visual '{link.name}': mesh {g.filename}: {exc} (MuJoCo cannot show it); "
                                      "left out")
                    continue
                kw = dict(type=mujoco.mjtGeom.mjGEOM_MESH, meshname=mname)
            else:
                notes.lost.append(f"visual '{link.name}': a {g.kind} visual{' (file missing)' if g.missing else ''} "
                                  "that MJCF cannot show here; left out")
                continue
            T = g.origin.matrix
            body.add_geom(name=f"{link.name}/vis{i}", pos=T[:3, 3], quat=quat_wxyz(T[:3, :3]), contype=0,
                          conaffinity=0, group=1, **kw)


def build_spec(model: RobotModel, config: SimConfig, notes: Notes) -> Any:
    """The MjSpec of `model` as exported (see the module docstring). Records in `notes` what the
    build approximates or leaves out. Raises EngineFailure when MuJoCo cannot hold the model (a
    floating root named 'world')."""
    from ..backends.mujoco_build import FREE_JOINT, build_matched

    unsupported: list[Any] = []
    spec, plan = build_matched(model, config, unsupported, notes.engine_notes)
    for u in unsupported:
        notes.lost.append(f"{u.feature} '{u.subject}': {u.reason}")
    if not model.floating and model.root != "world":
        notes.carried.append(f"fixed root '{model.root}': a body welded to MuJoCo's world body (read back as a "
                             f"root link 'world' and a fixed joint '{model.root}_fixed')")
    for j in model.walk():
        if j.type == "fixed" and j.child not in plan.merged_links and j.child in plan.placements \
                and spec.body(j.child) is not None:
            add_name(spec, FIXED_JOINT, j.child, j.name)
            notes.carried.append(f"fixed joint '{j.name}': body '{j.child}' without a joint (MJCF has no fixed "
                                 f"joint); its name kept in <custom><text name=\"{FIXED_JOINT}{j.child}\">, which "
                                 f"simmatch reads back (other readers: '{j.child}_fixed')")
    parent_joint = {j.child: j for j in model.joints}
    for name, holder in plan.merged_links.items():
        above = parent_joint.get(name)
        if above is not None and above.movable and spec.joint(above.name) is not None:
            add_name(spec, MERGED_LINK, above.name, name)
        notes.carried.append(f"link '{name}': massless, merged into body '{holder}' (its joints are that body's; "
                             f"its name kept in <custom><text name=\"{MERGED_LINK}JOINT\"> for the joint above it, "
                             "which simmatch reads back)")
    free = spec.joint(FREE_JOINT)
    if free is not None:
        free.name = f"{model.root}_free"
    for j in model.dof_joints:
        sj = spec.joint(j.name)
        if sj is None:
            continue
        sj.armature = float(j.armature)
        sj.stiffness = [float(j.stiffness), 0.0, 0.0]  # MuJoCo 4: (linear, and higher-order terms)
        sj.springref = float(j.spring_ref)
        effort = j.limit.effort if j.limit is not None else None
        if effort is not None and effort > 0 and not j.group:
            spec.add_actuator(name=j.name, target=j.name, trntype=mujoco.mjtTrn.mjTRN_JOINT,
                              ctrlrange=[-float(effort), float(effort)], ctrllimited=mujoco.mjtLimited.mjLIMITED_TRUE)
    _use_ball_joints(model, spec, notes)
    _full_inertia(spec)
    _add_visuals(model, spec, plan, notes)
    notes.carried.extend(n for n in notes.engine_notes if "copy" in n)  # meshes MuJoCo cannot decode
    return spec


def _full_inertia(spec: Any) -> None:
    """Each body's inertia as the full tensor in the body frame (MjSpec `fullinertia`)."""
    from ..backends.mujoco_build import mat_from_wxyz

    for body in spec.bodies:
        if body.name == "world" or body.mass <= 0:
            continue
        if np.isnan(np.asarray(body.ipos, dtype=float)).any():
            # MuJoCo's writer leaves out the <inertial> of a body whose ipos was never set (the
            # compiler takes 0): the written file would then have a massless moving body
            body.ipos = [0.0, 0.0, 0.0]
        if float(np.min(body.inertia)) <= mujoco.mjMINVAL:
            continue  # fullinertia needs positive eigenvalues; a welded body may have none: kept diagonal
        R = mat_from_wxyz(body.iquat)
        In = R @ np.diag(np.asarray(body.inertia, dtype=float)) @ R.T
        body.fullinertia = [In[0, 0], In[1, 1], In[2, 2], In[0, 1], In[0, 2], In[1, 2]]
        body.iquat = [1.0, 0.0, 0.0, 0.0]
        body.inertia = [0.0, 0.0, 0.0]


def to_mjcf(model: RobotModel, config: SimConfig, notes: Notes) -> str:
    """`model` as MJCF text (no header; see `simmatch.export.export_model`). Raises EngineFailure
    when MuJoCo refuses the spec."""
    spec = build_spec(model, config, notes)
    try:
        built = spec.compile()
    except ValueError as exc:
        from ..errors import EngineFailure

        raise EngineFailure("mujoco", "export", " ".join(str(exc).split())) from None
    with full_precision() as full:
        text = str(spec.to_xml())
    if not full:
        notes.lost.append("precision: this MuJoCo writes numbers with 6 significant digits")
    _check_written(built, text, 1e-9 if full else 1e-5)
    return text


def _check_written(built: Any, text: str, tol: float) -> None:
    """The written text compiles to the spec's compiled model `built` (body masses and inertias to
    `tol`, relative to the largest): MuJoCo's writer has left out parts of a spec before (an
    <inertial> whose ipos was unset).
    Raises EngineFailure naming what differs."""
    from ..errors import EngineFailure

    try:
        back = mujoco.MjModel.from_xml_string(text)
    except ValueError as exc:
        raise EngineFailure("mujoco", "export", "the MJCF MuJoCo wrote does not compile: "
                            + " ".join(str(exc).split())) from None
    for what, a, b in (("body masses", built.body_mass, back.body_mass),
                       ("body inertias", built.body_inertia, back.body_inertia)):
        scale = max(1.0, float(np.max(np.abs(a)))) if a.size else 1.0
        if a.shape != b.shape or (a.size and float(np.max(np.abs(a - b))) > tol * scale):
            raise EngineFailure("mujoco", "export", f"the MJCF MuJoCo wrote holds other {what} than the model")

