"""MJCF (MuJoCo's XML) as input: the compiled model as simmatch's canonical `RobotModel`.

The file is compiled by MuJoCo itself (`mujoco.MjModel.from_xml_path`), so includes, defaults and
classes, `inertiafromgeom`, `fromto`, angle units and frames are resolved exactly as MuJoCo does;
this module only maps the *compiled* model:

- bodies -> links: mass, COM and the full inertia tensor (`body_inertia` rotated by `body_iquat`),
  in the link frame. A link frame is its body frame moved to the anchor of the body's last joint
  (URDF's convention: a joint turns about its child link's origin), with the body's orientation.
- joints: hinge -> revolute (`limited`: its range) or continuous, slide -> prismatic; a free joint of
  the world's only child -> a floating base; ball -> the canonical spherical expansion (see
  `model.expand_multi_dof`); several joints in one body -> a chain through massless virtual links
  (MuJoCo applies them in order, each about its own anchor, which the chain reproduces exactly);
  a body without joints -> a fixed joint. `dof_damping` -> damping, `dof_frictionloss` -> friction.
- geoms: plane, sphere, capsule, cylinder, box -> collision shapes (a geom with contype and
  conaffinity 0 -> a visual), mesh -> its file and scale; the first collision geom's friction
  (sliding, torsional, rolling) -> the link's contact parameters. The world's planes are the
  floor (SimConfig.floor stands for them).
- a joint driven by control-limited motors (force = gear * ctrl) gets their largest torque as its
  effort limit (the actuators themselves are listed unsupported).

- `dof_armature` -> `Joint.armature`, `jnt_stiffness` and `qpos_spring` -> `Joint.stiffness` and
  `Joint.spring_ref` (canonical: springref minus the joint's ref) of hinges and slides. Where each
  is carried: the reference dynamics (armature on M(q)'s diagonal, springs as passive forces) and
  MuJoCo's matched build (armature, stiffness, springref) hold both; DART's matched build holds the
  springs (spring stiffness and rest position) but has no armature (dartpy 6.20 binds none:
  unsupported, `dart_no_armature`); PyBullet holds neither (unsupported, `bullet_no_armature`,
  `bullet_no_joint_spring`). A ball joint's armature goes on each of its three coordinates (noted:
  MuJoCo's differs away from zero angles); a ball joint's spring is not carried (noted).
- `<option>` -> `RobotModel.options` (`config.SimOptions`): timestep, gravity, integrator and the
  changed `<flag>`s; commands take the time step and gravity from it unless the user gave them
  (`SimConfig.for_model`); an integrator other than simmatch's fixed Euler and each changed flag
  (a disabled gravity is carried as gravity 0) are listed in `RobotModel.unsupported`.

What the canonical model cannot express (joint `ref`, tendons, equality constraints, actuators,
`condim`, non-default `solref`/`solimp`, ellipsoids, height fields, other world geoms, differing
friction between one body's geoms, ball joint springs) is listed in `RobotModel.unsupported` as
"feature 'subject': reason", never dropped silently.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from .config import SimOptions
from .errors import ModelError
from .export.names import FIXED_JOINT, MERGED_LINK, kept_names
from .model import (
    ContactParams,
    Geometry,
    Inertial,
    Joint,
    Limit,
    Link,
    Pose,
    RobotModel,
    expand_multi_dof,
    vec3,
)

# mjtJoint, mjtGeom
_FREE, _BALL, _SLIDE, _HINGE = 0, 1, 2, 3
_PLANE, _HFIELD, _SPHERE, _CAPSULE, _ELLIPSOID, _CYLINDER, _BOX, _MESH = 0, 1, 2, 3, 4, 5, 6, 7
_GEOM_NAMES = {_PLANE: "plane", _HFIELD: "hfield", _SPHERE: "sphere", _CAPSULE: "capsule",
               _ELLIPSOID: "ellipsoid", _CYLINDER: "cylinder", _BOX: "box", _MESH: "mesh"}
_SOLREF = (0.02, 1.0)
_SOLIMP = (0.9, 0.95, 0.001, 0.5, 2.0)


def is_mjcf(path: str | os.PathLike[str]) -> bool:
    """True when the XML file at `path` has the root element `<mujoco>` (a .xml may be URDF or MJCF).
    Reads only the start of the file; False when it cannot be read."""
    import xml.etree.ElementTree as ET

    try:
        for _, elem in ET.iterparse(os.fspath(path), events=("start",)):
            return bool(elem.tag == "mujoco")
    except (OSError, ET.ParseError, ValueError, LookupError):
        return False
    return False


def _quat_matrix(wxyz: Any) -> np.ndarray:
    w, x, y, z = (float(v) for v in wxyz)
    return np.asarray(Rotation.from_quat([x, y, z, w]).as_matrix())


def _transform(pos: Any, wxyz: Any) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = _quat_matrix(wxyz)
    T[:3, 3] = np.asarray(pos, dtype=float)
    return T


def _shift(offset: np.ndarray) -> np.ndarray:
    T = np.eye(4)
    T[:3, 3] = offset
    return T


_GLOBAL_FIX = ("coordinate='global' (positions and orientations in world coordinates) is no longer "
               "supported (MuJoCo after 2.3.3 refuses it): convert the file once with MuJoCo 2.3.3 (pip install mujoco==2.3.3; "
               "mujoco.MjModel.from_xml_path(FILE), then mujoco.mj_saveLastXML(NEW_FILE, model) writes it in local "
               "coordinates) or rewrite each body's pos/quat relative to its parent, then delete the attribute")


def _global_coordinate(file: str) -> str | None:
    """'compiler/@coordinate' (with the line) when the MJCF's own <compiler> says coordinate='global'."""
    import xml.etree.ElementTree as ET

    try:
        for _, elem in ET.iterparse(file, events=("start",)):
            if elem.tag == "compiler" and (elem.get("coordinate") or "").strip() == "global":
                return "compiler/@coordinate"
    except (OSError, ET.ParseError, ValueError, LookupError):
        return None
    return None


def compile_error(file: str, message: str) -> ModelError:
    """MuJoCo's compiler message as one ModelError line: the element MuJoCo names ("Element 'joint',
    line 3" -> "<joint> (line 3)"; "Element name 'b', id 2, line 3" -> "element 'b' (line 3)") and
    its message; an old-style MJCF (coordinate='global') gets the attribute and how to convert it."""
    text = " ".join(message.split())
    where = "mujoco"
    found = re.search(r"Element '([^']+)'(?:, line (\d+))?", message)
    named = re.search(r"Element name '([^']*)', id (\d+)(?:, line (\d+))?", message)
    if found:
        where = f"<{found.group(1)}>" + (f" (line {found.group(2)})" if found.group(2) else "")
        text = text[:text.find("Element '")].strip()
    elif named:
        label = f"element '{named.group(1)}'" if named.group(1) else f"unnamed element (id {named.group(2)})"
        where = label + (f" (line {named.group(3)})" if named.group(3) else "")
        text = text[:text.find("Element name '")].strip()
    for prefix in ("XML Error: ", "Error: "):
        text = text.removeprefix(prefix)
    if "global coordinates" in message or ("coordinate" in message and found and found.group(1) == "compiler"):
        return ModelError(file, "compiler/@coordinate", _GLOBAL_FIX)
    return ModelError(file, where, f"MuJoCo refuses the MJCF: {text.rstrip('.')}")


def compile_mjcf(path: str | os.PathLike[str]) -> Any:
    """MuJoCo's compiled `MjModel` of the MJCF at `path` (`mujoco.MjModel.from_xml_path`). Raises
    ModelError, one line: an old-style file (`<compiler coordinate="global">`, removed from MuJoCo)
    names the attribute and how to convert the file; any other refusal names the element MuJoCo
    names and its message."""
    import mujoco

    file = os.fspath(path)
    if _global_coordinate(file):
        raise ModelError(file, "compiler/@coordinate", _GLOBAL_FIX)
    try:
        return mujoco.MjModel.from_xml_path(file)
    except (ValueError, RuntimeError) as exc:
        raise compile_error(file, str(exc)) from None


def load_mjcf(path: str | os.PathLike[str], base: str = "auto") -> RobotModel:
    """The canonical model of the MJCF file at `path` (see the module docstring for the mapping).
    `base`: 'auto' (the MJCF says it: a free joint on the world's only child floats, else the world
    is the fixed root), 'fixed' or 'floating' override it. Raises ModelError (one line) when MuJoCo
    refuses the file or the model cannot be a single tree (a free joint below the root, several
    free bodies)."""
    from .errors import UsageError
    from .urdf import BASE_CHOICES

    if base not in BASE_CHOICES:
        raise UsageError(f"--base must be one of {', '.join(BASE_CHOICES)}, not {base!r}")
    p = Path(path)
    file = str(p)
    if not p.exists():
        raise ModelError(file, "file", "does not exist")
    model = model_from_compiled(compile_mjcf(p), file)
    if base == "auto" or base == model.base:
        return model
    return replace(model, base=base, base_reason=f"--base {base}")


def model_from_compiled(m: Any, file: str) -> RobotModel:
    """The canonical model of `m`, a `mujoco.MjModel` compiled from the MJCF `file` (the base as the
    MJCF says it). Shared by `load_mjcf` and the MuJoCo backend's read-back of its native load.
    Raises ModelError (one line) when the model cannot be a single tree (a free joint below the
    root, several free bodies)."""
    import mujoco

    p = Path(file)

    def name(kind: Any, i: int, prefix: str) -> str:
        return mujoco.mj_id2name(m, kind, i) or f"{prefix}{i}"

    body_names = [name(mujoco.mjtObj.mjOBJ_BODY, b, "body") for b in range(m.nbody)]
    joint_names = [name(mujoco.mjtObj.mjOBJ_JOINT, j, "joint") for j in range(m.njnt)]
    unsupported: list[str] = []
    world_children = [b for b in range(1, m.nbody) if m.body_parentid[b] == 0]
    free_joints = [j for j in range(m.njnt) if m.jnt_type[j] == _FREE]
    floating = False
    if free_joints:
        j0 = free_joints[0]
        b0 = int(m.jnt_bodyid[j0])
        if len(free_joints) > 1 or m.body_parentid[b0] != 0 or len(world_children) != 1 or m.body_jntnum[b0] != 1:
            where = joint_names[free_joints[-1]]
            raise ModelError(file, f"joint[{where}]", "a free joint that is not the only joint of the world's only "
                             "child body: simmatch's model is one tree with one floating root")
        floating = True
    used = set(body_names) | set(joint_names)

    def fresh(text: str) -> str:
        out, k = text, 1
        while out in used:
            out, k = f"{text}_{k}", k + 1
        used.add(out)
        return out

    # names simmatch export kept in <custom><text> (a fixed joint's, a merged massless link's)
    fixed_names, link_names = kept_names(m, FIXED_JOINT), kept_names(m, MERGED_LINK)
    efforts = _motor_efforts(m)
    links: list[Link] = []
    joints: list[Joint] = []
    offset = {0: np.zeros(3)}  # body -> its link frame's origin in the body frame
    link_of = {0: body_names[0]}
    root = body_names[world_children[0]] if floating else body_names[0]

    # the world body: its planes are the floor, anything else it holds cannot move with a tree root
    world_collisions: list[Geometry] = []
    world_visuals: list[Geometry] = []
    for g in range(m.ngeom):
        if m.geom_bodyid[g] != 0:
            continue
        gname = name(mujoco.mjtObj.mjOBJ_GEOM, g, "geom")
        if m.geom_type[g] == _PLANE:
            up = _quat_matrix(m.geom_quat[g])[:, 2]
            at = float(np.dot(up, m.geom_pos[g]))
            where = "" if abs(at) < 1e-12 and np.allclose(up, (0, 0, 1)) else \
                f" (it is at height {at:g} m with normal {tuple(round(float(v), 6) for v in up)}, not z = 0 up)"
            unsupported.append(f"world_plane '{gname}': a plane of the world body; simmatch's floor (SimConfig.floor, "
                               f"z = 0, its own friction) stands for it{where}")
        elif floating:
            unsupported.append(f"world_geom '{gname}': a {_GEOM_NAMES.get(int(m.geom_type[g]), '?')} of the world "
                               "body beside a floating robot: simmatch's model holds one tree, the world is not in it")
        else:
            geom = _geometry(m, g, gname, np.zeros(3), unsupported, file)
            if geom is not None:
                (world_collisions if _collides(m, g) else world_visuals).append(geom)
    if not floating:
        links.append(Link(body_names[0], None, tuple(world_collisions), tuple(world_visuals)))

    for b in range(1, m.nbody):
        bname = body_names[b]
        parent = int(m.body_parentid[b])
        jadr, jnum = int(m.body_jntadr[b]), int(m.body_jntnum[b])
        body_in_parent = np.linalg.inv(_shift(offset[parent])) @ _transform(m.body_pos[b], m.body_quat[b])
        own = list(range(jadr, jadr + jnum)) if jnum > 0 else []
        if own and m.jnt_type[own[0]] == _FREE:
            offset[b] = np.zeros(3)
            for k in range(6):
                d = int(m.jnt_dofadr[own[0]]) + k
                for what, arr in (("damping", m.dof_damping), ("armature", m.dof_armature),
                                  ("frictionloss", m.dof_frictionloss)):
                    if arr[d] != 0.0 and k == 0:
                        unsupported.append(f"free_joint_{what} '{joint_names[own[0]]}': {what} "
                                           f"{float(arr[d]):g} on the floating base's coordinates; the canonical "
                                           "floating base has none")
        elif not own:
            offset[b] = np.zeros(3)
            joints.append(Joint(fresh(fixed_names.get(bname, f"{bname}_fixed")), "fixed", link_of[parent], bname, Pose.from_matrix(body_in_parent)))
        else:
            anchors = [np.asarray(m.jnt_pos[j], dtype=float) for j in own]
            prev_link, prev_anchor = link_of[parent], None
            for k, j in enumerate(own):
                last = k == len(own) - 1
                child = bname if last else fresh(link_names.get(joint_names[j], f"{joint_names[j]}_link"))
                if not last:
                    links.append(Link(child, virtual=True))
                if prev_anchor is None:
                    origin = Pose.from_matrix(body_in_parent @ _shift(anchors[k]))
                else:
                    origin = Pose(vec3(anchors[k] - prev_anchor))
                new_links, new_joints = _joint(m, j, joint_names[j], prev_link, child, origin, unsupported,
                                               efforts.get(j))
                for x in new_links:
                    if x.name in used:
                        raise ModelError(file, f"joint[{joint_names[j]}]", f"the name {x.name!r} of one of its "
                                         "coordinates' links is taken")
                    used.add(x.name)
                links.extend(new_links)
                joints.extend(new_joints)
                prev_link, prev_anchor = child, anchors[k]
            offset[b] = anchors[-1]
        link_of[b] = bname
        links.append(_link(m, b, bname, offset[b], unsupported, file, name))

    for t in range(m.ntendon):
        unsupported.append(f"tendon '{name(mujoco.mjtObj.mjOBJ_TENDON, t, 'tendon')}': a tendon (length "
                           "constraint, limit or spring); URDF and the canonical model have none")
    for e in range(m.neq):
        unsupported.append(f"equality '{name(mujoco.mjtObj.mjOBJ_EQUALITY, e, 'equality')}': an equality constraint; "
                           "the canonical model has none")
    for a in range(m.nu):
        gear = float(m.actuator_gear[a][0])
        lo, hi = (float(v) for v in m.actuator_ctrlrange[a])
        limited = f", ctrlrange [{lo:g}, {hi:g}]" if m.actuator_ctrllimited[a] else ""
        j = int(m.actuator_trnid[a][0])
        carried = (f"; read as the effort limit {efforts[j]:g} of joint '{joint_names[j]}'" if j in efforts else "")
        unsupported.append(f"actuator '{name(mujoco.mjtObj.mjOBJ_ACTUATOR, a, 'actuator')}': gear {gear:g}{limited}"
                           f"{carried}; simmatch applies joint torques directly (q's generalized forces, no "
                           "actuator, no control signal)")

    options = _options(m)
    unsupported.extend(options.findings())
    model = RobotModel(_model_name(m) or p.stem, tuple(links), tuple(joints), root, base="floating" if floating else "fixed", source=file,
                       base_reason=("auto: the MJCF gives the world's only child body a free joint" if floating else
                                    "auto: an MJCF without a free joint: the world body is the fixed root"),
                       unsupported=tuple(unsupported), source_format="mjcf", options=options)
    return model


_INTEGRATORS = {0: "Euler", 1: "RK4", 2: "implicit", 3: "implicitfast", 4: "discrete"}


def _options(m: Any) -> SimOptions:
    """The compiled model's `<option>`: time step, gravity, integrator, and the `<flag>`s that
    differ from MuJoCo's defaults (disabled: each set disable bit; enabled: each set enable bit)."""
    import mujoco

    def flags(enum: Any, prefix: str, bits: int) -> tuple[str, ...]:
        out = []
        for attr in dir(enum):
            if attr.startswith(prefix) and not attr.endswith("_NONE"):
                value = int(getattr(enum, attr))
                if value and bits & value and value & (value - 1) == 0:  # a single bit, not a mask
                    out.append(attr[len(prefix):].lower())
        return tuple(sorted(out))

    opt = m.opt
    integrator = int(opt.integrator)
    return SimOptions(float(opt.timestep), vec3(opt.gravity), _INTEGRATORS.get(integrator, f"integrator {integrator}"),
                      flags(mujoco.mjtDisableBit, "mjDSBL_", int(opt.disableflags)),
                      flags(mujoco.mjtEnableBit, "mjENBL_", int(opt.enableflags)))


def _model_name(m: Any) -> str:
    """The <mujoco model="..."> name (the first entry of MuJoCo's names buffer)."""
    raw = bytes(m.names)
    return raw.split(b"\x00", 1)[0].decode("utf-8", "replace")


def _motor_efforts(m: Any) -> dict[int, float]:
    """Joint id -> the largest torque (or force) its motor actuators can apply: |gear| times the
    largest |ctrl| of a control-limited motor (fixed gain 1, no bias: force = gear * ctrl), capped by
    a `forcerange`. Only joints driven by motors alone (one or more, summed) get one."""
    out: dict[int, float] = {}
    other: set[int] = set()
    for a in range(m.nu):
        if int(m.actuator_trntype[a]) != 0:  # mjTRN_JOINT
            continue
        j = int(m.actuator_trnid[a][0])
        motor = (int(m.actuator_gaintype[a]) == 0 and int(m.actuator_biastype[a]) == 0
                 and float(m.actuator_gainprm[a][0]) == 1.0 and bool(m.actuator_ctrllimited[a]))
        if not motor:
            other.add(j)
            continue
        effort = abs(float(m.actuator_gear[a][0])) * max(abs(float(v)) for v in m.actuator_ctrlrange[a])
        if m.actuator_forcelimited[a]:
            effort = min(effort, max(abs(float(v)) for v in m.actuator_forcerange[a]))
        out[j] = out.get(j, 0.0) + effort
    return {j: e for j, e in out.items() if j not in other and e > 0.0}


def _joint(m: Any, j: int, jname: str, parent: str, child: str, origin: Pose,
           unsupported: list[str], effort: float | None = None) -> tuple[list[Link], list[Joint]]:
    """MuJoCo joint `j` as canonical joints (one, or a ball's three coordinates) and the virtual
    links between them."""
    jtype = int(m.jnt_type[j])
    axis = vec3(np.asarray(m.jnt_axis[j], dtype=float) / np.linalg.norm(m.jnt_axis[j]))
    d = int(m.jnt_dofadr[j])
    damping, friction = float(m.dof_damping[d]), float(m.dof_frictionloss[d])
    armature, stiffness = float(m.dof_armature[d]), float(m.jnt_stiffness[j])
    # armature and hinge/slide springs are carried (Joint.armature, .stiffness, .spring_ref): the
    # reference dynamics and MuJoCo's matched build hold them, DART holds the springs, and each
    # backend that cannot hold one lists it as its own unsupported entry (see the module docstring)
    if jtype == _BALL:
        if armature != 0.0:
            unsupported.append(f"ball_armature '{jname}': armature {armature:g} is carried on each of the ball's "
                               "three coordinates (a on the diagonal of the yaw, pitch and roll rates); MuJoCo adds "
                               "it to the angular velocity's (a E^T E in these rates): equal at zero angles only")
        if stiffness != 0.0:
            unsupported.append(f"spring '{jname}': stiffness {stiffness:g} on a ball joint (a spring on the "
                               "quaternion); the canonical spherical expansion has none")
        if m.jnt_limited[j]:
            unsupported.append(f"ball_limit '{jname}': a ball joint's cone limit {float(m.jnt_range[j][1]):g} rad "
                               "is not modelled")
        spherical = Joint(jname, "spherical", parent, child, origin, (0.0, 0.0, 1.0), None, damping, friction,
                          armature=armature)
        return expand_multi_dof(spherical)
    ref = float(m.qpos0[int(m.jnt_qposadr[j])])
    if ref != 0.0:
        unsupported.append(f"joint_ref '{jname}': ref {ref:g} (the position at which the body has its declared "
                           "pose); the canonical q is MuJoCo's qpos minus it")
    limit = None
    if m.jnt_limited[j]:
        lo, hi = (float(v) - ref for v in m.jnt_range[j])
        limit = Limit(lo, hi, effort)
    elif effort is not None:
        limit = Limit(effort=effort)
    kind = "prismatic" if jtype == _SLIDE else ("revolute" if m.jnt_limited[j] else "continuous")
    spring_ref = float(m.qpos_spring[int(m.jnt_qposadr[j])]) - ref
    return [], [Joint(jname, kind, parent, child, origin, axis, limit, damping, friction, armature=armature,
                      stiffness=stiffness, spring_ref=spring_ref if stiffness != 0.0 else 0.0)]


def _collides(m: Any, g: int) -> bool:
    return bool(m.geom_contype[g] or m.geom_conaffinity[g])


def _geometry(m: Any, g: int, gname: str, offset: np.ndarray, unsupported: list[str], file: str) -> Geometry | None:
    """Geom `g` as a Geometry in the link frame (the body frame moved by `offset`); None (and an
    unsupported entry) for the kinds the canonical model has not."""
    gtype = int(m.geom_type[g])
    size = np.asarray(m.geom_size[g], dtype=float)
    T = _shift(-offset) @ _transform(m.geom_pos[g], m.geom_quat[g])
    if gtype == _MESH:
        mid = int(m.geom_dataid[g])
        # MuJoCo moves a mesh's vertices to its inertial frame; undo that to get the file's frame
        T = T @ np.linalg.inv(_transform(m.mesh_pos[mid], m.mesh_quat[mid]))
        filename = _mesh_file(m, mid, file)
        if filename is None:
            unsupported.append(f"mesh '{gname}': a mesh without a file (inline vertices); the canonical model "
                               "reads meshes from files")
            return None
        return Geometry("mesh", Pose.from_matrix(T), filename=filename, scale=vec3(m.mesh_scale[mid]), name=gname)
    pose = Pose.from_matrix(T)
    if gtype == _SPHERE:
        return Geometry("sphere", pose, radius=float(size[0]), name=gname)
    if gtype in (_CAPSULE, _CYLINDER):
        return Geometry(_GEOM_NAMES[gtype], pose, radius=float(size[0]), length=2.0 * float(size[1]), name=gname)
    if gtype == _BOX:
        return Geometry("box", pose, size=vec3(2.0 * size), name=gname)
    if gtype == _PLANE:
        return Geometry("plane", pose, normal=(0.0, 0.0, 1.0), name=gname)
    reason = ("an ellipsoid: URDF and the canonical model have no ellipsoid (its mass and inertia are kept, "
              "its collision shape is left out)" if gtype == _ELLIPSOID
              else f"a {_GEOM_NAMES.get(gtype, str(gtype))} geom: the canonical model has no such shape (left out)")
    unsupported.append(f"geom_{_GEOM_NAMES.get(gtype, str(gtype))} '{gname}': {reason}")
    return None


def _mesh_file(m: Any, mid: int, file: str) -> str | None:
    import mujoco

    spec = mujoco.MjSpec.from_file(file)
    meshes = list(spec.meshes)
    if mid >= len(meshes) or not meshes[mid].file:
        return None
    meshdir = spec.compiler.meshdir or ""
    base = Path(file).resolve().parent
    return str((base / meshdir / meshes[mid].file).resolve())


def _link(m: Any, b: int, bname: str, offset: np.ndarray, unsupported: list[str], file: str, name: Any) -> Link:
    import mujoco

    mass = float(m.body_mass[b])
    R = _quat_matrix(m.body_iquat[b])
    tensor = R @ np.diag(np.asarray(m.body_inertia[b], dtype=float)) @ R.T
    # exactly symmetric (a rounding asymmetry of 3e-14 makes PyBullet's inverse dynamics refuse it)
    tensor = 0.5 * (tensor + tensor.T)
    com = np.asarray(m.body_ipos[b], dtype=float) - offset
    inertial = Inertial(mass, Pose(vec3(com)), tuple(vec3(row) for row in tensor)) if mass > 0.0 else None
    collisions: list[Geometry] = []
    visuals: list[Geometry] = []
    contact = None
    frictions: set[tuple[float, ...]] = set()
    for g in range(m.ngeom):
        if m.geom_bodyid[g] != b:
            continue
        gname = name(mujoco.mjtObj.mjOBJ_GEOM, g, "geom")
        geom = _geometry(m, g, gname, offset, unsupported, file)
        if not _collides(m, g):
            if geom is not None:
                visuals.append(geom)
            continue
        if geom is not None:
            collisions.append(geom)
        fr = tuple(float(v) for v in m.geom_friction[g])
        frictions.add(fr)
        if contact is None:
            contact = ContactParams(lateral_friction=fr[0], spinning_friction=fr[1], rolling_friction=fr[2])
        if int(m.geom_condim[g]) != 3:
            unsupported.append(f"condim '{gname}': condim {int(m.geom_condim[g])} (MuJoCo's contact dimensionality); "
                               "the canonical model has friction coefficients only (condim 3 is assumed)")
        if not np.allclose(m.geom_solref[g], _SOLREF) or not np.allclose(m.geom_solimp[g], _SOLIMP):
            unsupported.append(f"solref_solimp '{gname}': solref {tuple(float(v) for v in m.geom_solref[g])}, solimp "
                               f"{tuple(float(v) for v in m.geom_solimp[g])} (MuJoCo's contact softness); the "
                               "canonical model has no such parameters")
    if len(frictions) > 1:
        unsupported.append(f"geom_friction '{bname}': its geoms have different frictions {sorted(frictions)}; the "
                           "canonical model has one per link (the first geom's is kept)")
    return Link(bname, inertial, tuple(collisions), tuple(visuals), contact)


def link_offset(m: Any, b: int) -> np.ndarray:
    """(3,) origin of body `b`'s canonical link frame in MuJoCo's body frame (m): the anchor of the
    body's last joint (zero for a body without joints or with a free joint). The link frame has the
    body frame's orientation."""
    jnum = int(m.body_jntnum[b])
    if jnum == 0:
        return np.zeros(3)
    last = int(m.body_jntadr[b]) + jnum - 1
    if int(m.jnt_type[last]) == _FREE:
        return np.zeros(3)
    return np.asarray(m.jnt_pos[last], dtype=float).copy()
