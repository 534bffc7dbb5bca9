"""Building a RobotModel in MuJoCo (MjSpec) and reading back what a compiled MjModel holds.

Conventions used by the matched build (see `build_matched`):
- one MuJoCo body per link, named after the link, body frame == link frame;
- a chain of massless links under movable joints (MuJoCo rejects moving bodies with no mass or
  inertia) is merged into the first link with mass below it: one body carrying several joints.
  For world->J1(O1)->L1->J2(O2)->L2->J3(O3)->torso the body frame is B = O1 O2 O3 (q = 0) and
  joint k gets anchor/axis from D_k = B^-1 O1..Ok. MuJoCo applies a body's joints in declaration
  order, each as a right-multiplied local motion, so B M1 M2 M3 = O1 J1 O2 J2 O3 J3 exactly.
- a massless link that cannot be merged (leaf or branching under a movable joint) gets a tiny
  mass and inertia (TINY_MASS, TINY_INERTIA) and is reported Unsupported('massless_link').
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import mujoco
import numpy as np
from scipy.spatial.transform import Rotation

from .. import meshes
from ..errors import EngineFailure
from ..model import (
    ContactParams,
    Geometry,
    Inertial,
    Joint,
    Limit,
    Link,
    Pose,
    RobotModel,
    vec3,
)
from .base import Unsupported

# What MuJoCo's mesh decoders read (format ids of meshes.format_of; 4.0): binary STL and OBJ ("stl_decoder
# ... perhaps this is an ASCII file?", "no decoder found" for .dae), and a binary STL of at most
# MAX_STL_FACES triangles ("number of faces should be between"): anything else is copied.
MESH_FORMATS = frozenset({"stl_binary", "obj"})
MAX_STL_FACES = 200_000
TINY_MASS = 1e-6  # kg, for massless links MuJoCo cannot represent (documented, Unsupported)
TINY_INERTIA = 1e-9  # kg m^2
FREE_JOINT = "simmatch_root_free"
MOUNT_BODY = "simmatch_mount"  # a fixed root named 'world' mounted away from the origin
FLOOR = "floor"
# Robot geoms: contype 2 / conaffinity 1, floor: contype 1 / conaffinity 2 -> the robot collides
# with the floor but not with itself (PyBullet and DART defaults: no self-collision).
ROBOT_CONTYPE, ROBOT_CONAFFINITY = 2, 1
FLOOR_CONTYPE, FLOOR_CONAFFINITY = 1, 2


# ---------------------------------------------------------------------------------------------
# small transforms
def quat_wxyz(R: np.ndarray) -> np.ndarray:
    x, y, z, w = Rotation.from_matrix(R).as_quat()
    return np.array([w, x, y, z])


def mat_from_wxyz(q) -> np.ndarray:
    w, x, y, z = q
    return Rotation.from_quat([x, y, z, w]).as_matrix()


def homog(R: np.ndarray, p) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = p
    return T


def inv(T: np.ndarray) -> np.ndarray:
    R, p = T[:3, :3], T[:3, 3]
    return homog(R.T, -R.T @ p)


def pose_of(T: np.ndarray) -> Pose:
    with warnings.catch_warnings():  # gimbal lock (pitch +-pi/2) still gives a valid rpy
        warnings.simplefilter("ignore", UserWarning)
        return Pose.from_matrix(T)


# ---------------------------------------------------------------------------------------------
@dataclass
class LinkPlacement:
    """Where a canonical link lives in the compiled model: the frame of MuJoCo body `body` (a link
    name or 'world') followed by `steps`: (origin 4x4, joint or None) applied in order; joint
    motions use the canonical joint's q. Empty steps: the link is the body."""

    body: str
    steps: list = field(default_factory=list)


@dataclass
class BuildPlan:
    """What the build did, needed to map back to canonical terms."""

    placements: dict  # link -> LinkPlacement
    merged_links: dict  # link -> body name it was merged into
    joint_D: dict  # joint name -> 4x4 D_k (joint frame in its MuJoCo body frame)
    joint_origin: dict  # joint name -> Pose (canonical origin, as built)
    tiny_links: list
    root_joint: str  # 'free' or 'welded'
    engine_joint_names: dict = field(default_factory=dict)  # canonical name -> MuJoCo joint (where they differ)


def _rigid_inertial(link: Link):
    """(mass, com, 3x3 tensor about COM in the link frame) or None."""
    if link.inertial is None or link.inertial.mass <= 0:
        return None
    return link.mass, link.inertial.com, link.inertial.tensor_in_link


def _principal(I: np.ndarray):
    """Principal moments and the rotation (columns = axes, det +1) of a symmetric tensor."""
    I = 0.5 * (I + I.T)
    w, V = np.linalg.eigh(I)
    if np.linalg.det(V) < 0:
        V[:, 0] = -V[:, 0]
    return w, V


def add_mesh(spec: Any, name: str, g: Geometry, link: str, notes: list[str]) -> None:
    """A mesh asset MuJoCo can compile whatever the file: formats its decoders lack (.dae, ASCII
    STL; binary STL over 200000 triangles) become a binary STL (or OBJ) copy (simmatch.meshes, cached by content hash), and the mesh's inertia
    mode is 'shell' so that compiling never needs the mesh's volume ("mesh volume is too small" on
    thin or flat meshes): every body's inertia is explicit in the matched build, so the mode changes
    nothing in the physics."""
    assert g.filename is not None, f"mesh geometry of link {link!r} without a file"
    path = meshes.readable_copy(g.filename, MESH_FORMATS, MAX_STL_FACES)
    if path != g.filename:
        notes.append(f"link {link!r}: {os.path.basename(g.filename)} ({meshes.format_of(g.filename)}) "
                     f"given to MuJoCo as a binary STL copy {path}")
    mesh = spec.add_mesh(name=name, file=path, scale=np.asarray(g.scale, dtype=float))
    mesh.inertia = mujoco.mjtMeshInertia.mjMESH_INERTIA_SHELL
    return mesh


def build_matched(model: RobotModel, config, unsupported: list, notes: list):
    """Return (MjSpec, BuildPlan) for `model` with `config` (SimConfig)."""
    spec = mujoco.MjSpec()
    spec.modelname = model.name
    spec.compiler.degree = False  # MjSpec defaults to degrees
    spec.compiler.inertiafromgeom = mujoco.mjtInertiaFromGeom.mjINERTIAFROMGEOM_FALSE
    spec.compiler.fusestatic = False
    spec.compiler.discardvisual = False
    spec.compiler.autolimits = False
    spec.compiler.balanceinertia = False
    opt = spec.option
    opt.timestep = config.dt
    opt.gravity = np.asarray(config.gravity, dtype=float)
    opt.iterations = int(config.solver_iterations)
    opt.integrator = mujoco.mjtIntegrator.mjINT_EULER

    placements: dict[str, LinkPlacement] = {}
    merged: dict[str, str] = {}
    joint_D: dict[str, np.ndarray] = {}
    joint_origin: dict[str, Pose] = {}
    tiny: list[str] = []
    mesh_count = [0]

    def set_inertial(body, link: Link, moving: bool):
        rig = _rigid_inertial(link)
        if rig is None:
            if moving:
                tiny.append(link.name)
                unsupported.append(Unsupported(
                    "massless_link", link.name,
                    f"MuJoCo rejects moving bodies without mass; given {TINY_MASS:g} kg and "
                    f"{TINY_INERTIA:g} kg m^2 (cannot be merged: leaf or branching link)"))
                body.mass = TINY_MASS
                body.inertia = [TINY_INERTIA] * 3
            else:
                body.mass = 0.0
                body.inertia = [0.0, 0.0, 0.0]
            body.explicitinertial = True
            return
        mass, com, I = rig
        w, V = _principal(I)
        if moving and w.min() < mujoco.mjMINVAL:
            unsupported.append(Unsupported(
                "zero_inertia", link.name,
                f"MuJoCo rejects moving bodies with zero principal inertia; raised to {TINY_INERTIA:g}"))
            w = np.maximum(w, TINY_INERTIA)
        s = np.sort(w)
        if s[0] + s[1] < s[2] * (1 - 1e-12):
            unsupported.append(Unsupported(
                "inertia_triangle", link.name,
                "principal moments violate A + B >= C; compiled with balanceinertia"))
            spec.compiler.balanceinertia = True
        body.mass = float(mass)
        body.ipos = com
        body.iquat = quat_wxyz(V)
        body.inertia = w
        body.explicitinertial = True

    def add_geoms(body, link: Link):
        cp = link.contact or ContactParams()
        if cp.restitution:
            unsupported.append(Unsupported(
                "restitution", link.name,
                f"restitution {cp.restitution:g} declared: MuJoCo has no restitution coefficient "
                "(bounce only through solref); ignored"))
        mu = cp.lateral_friction if cp.lateral_friction is not None else config.contact.friction
        spin = cp.spinning_friction or 0.0
        roll = cp.rolling_friction or 0.0
        condim = 6 if roll > 0 else (4 if spin > 0 else 3)
        k = cp.stiffness if cp.stiffness is not None else config.contact.stiffness
        b = cp.damping if cp.damping is not None else config.contact.damping
        if k is not None:
            unsupported.append(Unsupported(
                "contact_stiffness", link.name,
                f"stiffness {k:g}, damping {b or 0:g} set as solref=(-k, -b): MuJoCo scales them "
                "by the contact's effective mass (reference acceleration), not N/m and N s/m"))
        for i, g in enumerate(link.collisions):
            kw = {}
            T = g.origin.matrix
            if g.kind == "box":
                kw = dict(type=mujoco.mjtGeom.mjGEOM_BOX, size=0.5 * np.asarray(g.size, dtype=float))
            elif g.kind == "sphere":
                kw = dict(type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[g.radius, 0, 0])
            elif g.kind == "cylinder":
                assert g.length is not None  # the parser requires it
                kw = dict(type=mujoco.mjtGeom.mjGEOM_CYLINDER, size=[g.radius, 0.5 * g.length, 0])
            elif g.kind == "capsule":
                assert g.length is not None
                kw = dict(type=mujoco.mjtGeom.mjGEOM_CAPSULE, size=[g.radius, 0.5 * g.length, 0])
            elif g.kind == "plane":
                if not _welded_to_world(model, link.name):
                    unsupported.append(Unsupported(
                        "plane_on_moving_body", link.name,
                        "MuJoCo allows plane geoms only in static bodies ('plane only allowed in static "
                        "bodies'): this link moves, its plane is left out"))
                    continue
                # MuJoCo's plane is z = 0 of the geom frame, solid below: turn z onto the normal
                T = T @ homog(_z_onto(np.asarray(g.normal, dtype=float)), np.zeros(3))
                kw = dict(type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 1])
            elif g.kind == "mesh":
                mesh_count[0] += 1
                mname = f"mesh{mesh_count[0]}_{link.name}"
                add_mesh(spec, mname, g, link.name, notes)
                kw = dict(type=mujoco.mjtGeom.mjGEOM_MESH, meshname=mname)
                unsupported.append(Unsupported(
                    "mesh_convex_hull", link.name,
                    f"{g.filename}: MuJoCo collides the convex hull of the mesh"))
            else:  # pragma: no cover - the reader only produces GEOMETRY_KINDS
                continue
            body.add_geom(
                name=f"{link.name}/col{i}", pos=T[:3, 3], quat=quat_wxyz(T[:3, :3]),
                friction=[mu, spin, roll], condim=condim, priority=1,
                contype=ROBOT_CONTYPE, conaffinity=ROBOT_CONAFFINITY,
                solref=[-k, -(b or 0.0)] if k is not None else [0.02, 1.0], **kw)

    def add_joint(body, j: Joint, D: np.ndarray):
        joint_D[j.name] = D
        joint_origin[j.name] = j.origin
        axis = D[:3, :3] @ np.asarray(j.axis, dtype=float)
        jt = mujoco.mjtJoint.mjJNT_SLIDE if j.type == "prismatic" else mujoco.mjtJoint.mjJNT_HINGE
        kw = dict(name=j.name, type=jt, pos=D[:3, 3], axis=axis, damping=j.damping,
                  frictionloss=j.friction, armature=j.armature, stiffness=j.stiffness,
                  springref=j.spring_ref)
        if j.limited:
            assert j.limit is not None  # limited: both bounds set
            kw.update(limited=mujoco.mjtLimited.mjLIMITED_TRUE, range=[j.limit.lower, j.limit.upper])
        else:
            kw.update(limited=mujoco.mjtLimited.mjLIMITED_FALSE)
        body.add_joint(**kw)

    def grow(parent_body, parent_name: str, first: Joint):
        """Build the subtree hanging from `first`, depth first in declaration order (iterative: a
        1000-link chain is deeper than Python's recursion limit)."""
        stack = [(parent_body, parent_name, first)]
        while stack:
            stack.extend(reversed(_grow_one(*stack.pop())))

    def _grow_one(parent_body, parent_name: str, first: Joint) -> list:
        chain = [first]
        link = model.link(first.child)
        while True:
            moving = any(j.movable for j in chain)
            if link.mass > 0 or not moving:
                break
            kids = model.child_joints(link.name)
            if len(kids) != 1:
                break
            chain.append(kids[0])
            link = model.link(kids[0].child)
        moving = any(j.movable for j in chain)
        Cs, C = [], np.eye(4)
        for j in chain:
            C = C @ j.origin.matrix
            Cs.append(C)
        B = C
        body = parent_body.add_body(name=link.name, pos=B[:3, 3], quat=quat_wxyz(B[:3, :3]))
        Binv = inv(B)
        for j, Ck in zip(chain, Cs):
            if j.movable:
                add_joint(body, j, Binv @ Ck)
        # merged massless links: placed relative to the parent body
        steps: list[tuple[np.ndarray, Joint | None]] = []
        for j in chain[:-1]:
            steps = steps + [(j.origin.matrix, j if j.movable else None)]
            merged[j.child] = link.name
            placements[j.child] = LinkPlacement(parent_name, list(steps))
            if model.link(j.child).collisions:
                unsupported.append(Unsupported(
                    "merged_link_geometry", j.child,
                    f"massless link merged into body {link.name!r}: its collision shapes are dropped"))
        placements[link.name] = LinkPlacement(link.name)
        set_inertial(body, link, moving)
        add_geoms(body, link)
        return [(body, link.name, kid) for kid in model.child_joints(link.name)]

    root = model.link(model.root)
    # a fixed base mounted at model.base_pose: the root body sits there (welded)
    mount = dict(pos=np.array(model.base_pose.xyz, dtype=float),
                 quat=quat_wxyz(model.base_pose.rotation)) if model.posed else {}
    holder = root.name
    if root.name == "world" and not model.floating:
        if model.posed:  # MuJoCo's world body cannot move: a static body at the mount holds the root
            rbody = spec.worldbody.add_body(name=MOUNT_BODY, **mount)
            holder = MOUNT_BODY
        else:
            rbody = spec.worldbody  # a fixed root named 'world' is MuJoCo's world body itself
        if root.mass > 0:
            notes.append("fixed root link 'world' is welded to MuJoCo's world: its mass is irrelevant")
    else:
        if root.name == "world":
            raise EngineFailure("mujoco", "matched", "a floating root link named 'world' clashes with MuJoCo's "
                                "world body: rename the link, or use --base fixed", cause="mujoco_world_name_clash")
        rbody = spec.worldbody.add_body(name=root.name, **mount)
        if model.floating:
            rbody.add_freejoint(name=FREE_JOINT)
        set_inertial(rbody, root, model.floating)
    placements[root.name] = LinkPlacement(holder)
    add_geoms(rbody, root)
    for kid in model.child_joints(root.name):
        grow(rbody, holder, kid)

    if config.floor:
        c = config.contact
        spec.worldbody.add_geom(
            name=FLOOR, type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 1],
            friction=[c.friction, 0, 0], condim=3, priority=0,
            contype=FLOOR_CONTYPE, conaffinity=FLOOR_CONAFFINITY,
            solref=[-c.stiffness, -(c.damping or 0.0)] if c.stiffness is not None else [0.02, 1.0])
        if c.restitution:
            unsupported.append(Unsupported("restitution", FLOOR, "MuJoCo has no restitution coefficient"))
    if any(j.limited for j in model.dof_joints) or config.floor:
        unsupported.append(Unsupported(
            "hard_limits", "*",
            "joint limits and contacts are soft constraints in MuJoCo (solref/solimp): limits can be "
            "overshot and bodies penetrate slightly"))
    for j in model.mimic_joints:
        mimic = j.mimic
        assert mimic is not None  # mimic_joints: the joints with a mimic
        # joint equality: q[j] = offset + multiplier q[leader] (both at qpos0 = 0): a soft constraint
        spec.add_equality(name=f"mimic:{j.name}", type=mujoco.mjtEq.mjEQ_JOINT, name1=j.name, name2=mimic.joint,
                          data=[mimic.offset, mimic.multiplier] + [0.0] * 10)
        notes.append(f"mimic {j.name!r}: joint equality on {mimic.joint!r}")
    notes.append("MjSpec build: degree=False, inertiafromgeom=false, fusestatic=false, "
                 "integrator=Euler (joint damping implicit), robot geoms priority 1 (their friction "
                 "wins against the floor), no self-collision")
    plan = BuildPlan(placements, merged, joint_D, joint_origin, tiny,
                     "free" if model.floating else "welded")
    return spec, plan


# ---------------------------------------------------------------------------------------------
def mount_native(spec: mujoco.MjSpec, pose: Pose) -> None:
    """Move everything MuJoCo's URDF import put in the world body (the root link's body, or the
    bodies, geoms and sites of a root link named 'world') to the mount `pose`: the compiled model's
    world body stays at the origin, so a link fused into it is at pose x its fused offset."""
    P = pose.matrix
    for obj in list(spec.worldbody.bodies) + list(spec.worldbody.geoms) + list(spec.worldbody.sites):
        T = P @ homog(mat_from_wxyz(obj.quat), obj.pos)
        obj.pos = T[:3, 3]
        obj.quat = quat_wxyz(T[:3, :3])


def plan_native(model: RobotModel, mj: mujoco.MjModel) -> BuildPlan:
    """Map canonical links/joints onto a model MuJoCo compiled from the URDF itself (fused static
    bodies, root welded to the world)."""
    bodies = {mujoco.mj_id2name(mj, mujoco.mjtObj.mjOBJ_BODY, i) for i in range(mj.nbody)}
    placements, merged = {}, {}
    has_free = any(mj.jnt_type[i] == mujoco.mjtJoint.mjJNT_FREE for i in range(mj.njnt))

    # iterative: deep chains exceed Python's recursion limit
    stack: list[tuple[str, str, list[tuple[np.ndarray, Joint | None]]]] = [(model.root, "world", [])]
    while stack:
        link, holder, steps = stack.pop()
        if link in bodies:
            placements[link] = LinkPlacement(link)
            holder, steps = link, []
        else:
            placements[link] = LinkPlacement(holder, list(steps))
            merged[link] = holder
        for j in reversed(model.child_joints(link)):
            stack.append((j.child, holder, steps + [(j.origin.matrix, j if j.movable else None)]))
    joint_D = {j.name: np.eye(4) for j in model.dof_joints}
    joint_origin = {j.name: j.origin for j in model.dof_joints}
    return BuildPlan(placements, merged, joint_D, joint_origin, [], "free" if has_free else "welded",
                     native_coordinate_names(model, mj))


def native_coordinate_names(model: RobotModel, mj: mujoco.MjModel) -> dict:
    """MuJoCo's URDF import makes a planar joint J three joints J_TX, J_TY (slide) and J_RZ (hinge)
    on the child body, axes in the body frame. Canonical coordinate -> MuJoCo joint name, where the
    axes agree (an axis MuJoCo placed differently raises EngineFailure naming the joint)."""
    out = {}
    for group, coords in model.groups.items():
        if coords[0].group_type == "spherical":
            i = mujoco.mj_name2id(mj, mujoco.mjtObj.mjOBJ_JOINT, group)
            if i >= 0 and mj.jnt_type[i] == mujoco.mjtJoint.mjJNT_BALL:
                # measured on 4.0: the importer reads PyBullet's type as a ball joint (4 quaternion
                # positions, 3 angular velocities): not the canonical Euler coordinates
                raise EngineFailure("mujoco", "native", f"spherical joint {group!r} loads as a ball joint "
                                    "(quaternion position, 3 angular-velocity DoF); simmatch does not map it onto "
                                    "its Euler coordinates", cause="mujoco_spherical_ball_joint")
            continue
        if coords[0].group_type != "planar":
            continue
        names = [f"{group}_TX", f"{group}_TY", f"{group}_RZ"]
        ids = [mujoco.mj_name2id(mj, mujoco.mjtObj.mjOBJ_JOINT, n) for n in names]
        if min(ids) < 0:
            continue
        for j, n, i in zip(coords, names, ids):
            if np.abs(np.asarray(mj.jnt_axis[i]) - np.asarray(j.axis)).max() > 1e-9:
                raise EngineFailure("mujoco", "native", f"planar joint {group!r}: MuJoCo's {n} axis "
                                    f"{np.round(mj.jnt_axis[i], 6).tolist()} is not simmatch's {j.name} axis "
                                    f"{np.round(j.axis, 6).tolist()}")
            out[j.name] = n
    return out


# ---------------------------------------------------------------------------------------------
def _name(mj, obj, i):
    return mujoco.mj_id2name(mj, obj, i)


def _welded_to_world(model: RobotModel, link: str) -> bool:
    """True when `link` cannot move: a fixed base and only fixed joints between it and the root."""
    if model.floating:
        return False
    while link != model.root:
        j = model.parent_joint(link)
        if j is None or j.type != "fixed":
            return False
        link = j.parent
    return True


def _z_onto(n: np.ndarray) -> np.ndarray:
    """(3, 3) rotation taking +z onto the unit vector n (the identity for n = z)."""

    z = np.array([0.0, 0.0, 1.0])
    n = n / np.linalg.norm(n)
    axis = np.cross(z, n)
    s, c = float(np.linalg.norm(axis)), float(z @ n)
    if s < 1e-12:
        return np.eye(3) if c > 0 else np.diag([1.0, -1.0, -1.0])
    return Rotation.from_rotvec(axis / s * np.arctan2(s, c)).as_matrix()


def geom_to_geometry(mj: mujoco.MjModel, g: int) -> Geometry | None:
    """A compiled geom as a Geometry in its body's frame (mesh: the asset's own frame)."""
    t = mj.geom_type[g]
    size = mj.geom_size[g]
    T = homog(mat_from_wxyz(mj.geom_quat[g]), mj.geom_pos[g])
    name = _name(mj, mujoco.mjtObj.mjOBJ_GEOM, g)
    G = mujoco.mjtGeom
    if t == G.mjGEOM_BOX:
        return Geometry("box", pose_of(T), size=vec3(2 * s for s in size), name=name)
    if t == G.mjGEOM_SPHERE:
        return Geometry("sphere", pose_of(T), radius=float(size[0]), name=name)
    if t == G.mjGEOM_CYLINDER:
        return Geometry("cylinder", pose_of(T), radius=float(size[0]), length=float(2 * size[1]), name=name)
    if t == G.mjGEOM_CAPSULE:
        return Geometry("capsule", pose_of(T), radius=float(size[0]), length=float(2 * size[1]), name=name)
    if t == G.mjGEOM_PLANE:  # z = 0 of the geom frame, normal +z
        return Geometry("plane", pose_of(T), normal=(0.0, 0.0, 1.0), name=name)
    if t == G.mjGEOM_MESH:
        mid = mj.geom_dataid[g]
        # MuJoCo re-centres mesh vertices (mesh_pos/mesh_quat) and folds that into the geom pose
        M = homog(mat_from_wxyz(mj.mesh_quat[mid]), mj.mesh_pos[mid])
        path = mj.paths[mj.mesh_pathadr[mid]:].split(b"\0", 1)[0].decode() if mj.mesh_pathadr[mid] >= 0 else None
        return Geometry("mesh", pose_of(T @ inv(M)), filename=path,
                        scale=vec3(mj.mesh_scale[mid]), name=name)
    return None


def readback_model(model: RobotModel, mj: mujoco.MjModel, plan: BuildPlan, floor_geom: int) -> RobotModel:
    """What the compiled MjModel holds, as a RobotModel in canonical names."""
    body_id = {_name(mj, mujoco.mjtObj.mjOBJ_BODY, i): i for i in range(mj.nbody)}
    links = []
    for link in model.links:
        pl = plan.placements.get(link.name)
        is_body = pl is not None and not pl.steps and link.name in body_id and link.name not in plan.merged_links
        if not is_body:
            links.append(Link(link.name))
            continue
        b = body_id[link.name]
        inertial = None
        if mj.body_mass[b] > 0:
            R = mat_from_wxyz(mj.body_iquat[b])
            I = R @ np.diag(mj.body_inertia[b]) @ R.T
            inertial = Inertial(float(mj.body_mass[b]), Pose(vec3(mj.body_ipos[b])),
                                tuple(vec3(row) for row in I))
        geoms, contact = [], None
        for g in range(mj.ngeom):
            if mj.geom_bodyid[g] != b or g == floor_geom or (mj.geom_contype[g] == 0 and mj.geom_conaffinity[g] == 0):
                continue
            geo = geom_to_geometry(mj, g)
            if geo is None:
                continue
            geoms.append(geo)
            if contact is None:
                f, cd, sr = mj.geom_friction[g], mj.geom_condim[g], mj.geom_solref[g]
                contact = ContactParams(
                    lateral_friction=float(f[0]),
                    spinning_friction=float(f[1]) if cd >= 4 else None,
                    rolling_friction=float(f[2]) if cd >= 6 else None,
                    restitution=None,
                    stiffness=float(-sr[0]) if sr[0] < 0 else None,
                    damping=float(-sr[1]) if sr[0] < 0 else None)
        links.append(Link(link.name, inertial, tuple(geoms), (), contact))

    joints = []
    for j in model.joints:
        jid = mujoco.mj_name2id(mj, mujoco.mjtObj.mjOBJ_JOINT, plan.engine_joint_names.get(j.name, j.name))
        if not j.movable or jid < 0:
            joints.append(j if jid >= 0 or not j.movable else Joint(j.name, "fixed", j.parent, j.child, j.origin))
            continue
        D = plan.joint_D.get(j.name, np.eye(4))
        axis = D[:3, :3].T @ mj.jnt_axis[jid]
        dof = mj.jnt_dofadr[jid]
        limited = bool(mj.jnt_limited[jid])
        lo, hi = (float(v) for v in mj.jnt_range[jid])
        eff = j.limit.effort if j.limit else None
        vel = j.limit.velocity if j.limit else None
        limit = Limit(lo if limited else None, hi if limited else None, eff, vel)
        jtype = "prismatic" if mj.jnt_type[jid] == mujoco.mjtJoint.mjJNT_SLIDE else (
            "revolute" if limited else "continuous")
        joints.append(Joint(j.name, jtype, j.parent, j.child, plan.joint_origin.get(j.name, j.origin),
                            vec3(axis), limit, float(mj.dof_damping[dof]),
                            float(mj.dof_frictionloss[dof]), armature=float(mj.dof_armature[dof]),
                            stiffness=float(mj.jnt_stiffness[jid]),
                            spring_ref=(float(mj.qpos_spring[mj.jnt_qposadr[jid]]) - float(mj.qpos0[mj.jnt_qposadr[jid]])
                                        if mj.jnt_stiffness[jid] != 0.0 else 0.0)))
    base = "floating" if plan.root_joint == "free" else "fixed"
    return RobotModel(model.name, tuple(links), tuple(joints), model.root, base, model.source,
                      f"mujoco: root {plan.root_joint}", model.unsupported)
