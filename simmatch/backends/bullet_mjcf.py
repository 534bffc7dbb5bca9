"""PyBullet's native load of an MJCF: `pybullet.loadMJCF(file)`, as users call it.

loadMJCF returns several bodies: one multibody per tree of the world body (the robot) and one per
world geom (a floor, rails, walls). In the robot's multibody each MuJoCo joint J is a PyBullet joint
of the same name whose child is a massless link ('link1_k'), and each MuJoCo body B a link named B
behind a fixed joint ('jointfix_...'), holding B's mass and shapes (measured on pybullet 3.2.7).
Mapped onto the canonical model: the canonical link below joint J is J's child link (its frame is
the joint frame: the canonical link frame, at the joint's anchor), a canonical body link's mass and
shapes are those of the PyBullet link named after it, the canonical joints are PyBullet's joints of
the same names.

What loadMJCF leaves out or changes (measured on the Gymnasium and dm_control MJCFs) is what `check`
finds, each with its cause in `bullet_causes`.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

import numpy as np
import pybullet as p

from ..errors import EngineFailure
from ..model import ContactParams, Inertial, Joint, Limit, Link, Pose, RobotModel
from .base import Explanation

if TYPE_CHECKING:
    from .bullet import BulletBackend


def _untyped(file: str) -> tuple[list[str], list[str]]:
    """Joints and geoms of the MJCF (its own file, not its includes) written without a `type`
    attribute (their type comes from a <default> class or MuJoCo's default): '<joint name> (line)'."""
    joints: list[str] = []
    geoms: list[str] = []
    try:
        tree = ET.parse(file)
    except (OSError, ET.ParseError):
        return joints, geoms
    world = tree.getroot().find("worldbody")
    if world is None:
        return joints, geoms
    for kind, out in (("joint", joints), ("geom", geoms)):
        for k, el in enumerate(world.iter(kind)):
            if el.get("type") is None:
                out.append(el.get("name") or f"#{k}")
    return joints, geoms


def _includes(file: str) -> list[str]:
    """The `file` attributes of the MJCF's own <include> elements (loadMJCF does not follow them)."""
    try:
        root = ET.parse(file).getroot()
    except (OSError, ET.ParseError):
        return []
    return [el.get("file", "?") for el in root.iter("include")]


def load_native(model: RobotModel, cid: int) -> tuple[int, list[int], dict[str, int], dict[str, int]]:
    """loadMJCF of `model.source` into client `cid`: (robot body id, the other bodies' ids, canonical
    link -> PyBullet link index whose frame is the canonical link frame, canonical link -> PyBullet
    link index holding its mass and shapes). EngineFailure (cause `bullet_mjcf_ignores_defaults`
    where that explains it) when a canonical joint is not in any body."""
    file = os.path.abspath(os.fspath(model.source))
    try:
        bodies = list(p.loadMJCF(file, physicsClientId=cid))
    except p.error as exc:
        raise EngineFailure("bullet", "native", f"loadMJCF: {exc}") from None
    wanted = {j.name for j in model.dof_joints}
    included = _includes(file)
    if not bodies:
        raise EngineFailure("bullet", "native", "loadMJCF loaded no body" + (
            f": the file's <include> ({', '.join(included[:4])}) is not followed by PyBullet's MJCF importer "
            "('unhandled root element include')" if included else ""),
            cause="bullet_mjcf_ignores_include" if included else None)

    def names(b: int) -> set[str]:
        return {p.getJointInfo(b, i, physicsClientId=cid)[1].decode() for i in range(p.getNumJoints(b, physicsClientId=cid))}

    robot = max(bodies, key=lambda b: (len(names(b) & wanted), p.getNumJoints(b, physicsClientId=cid)))
    held = set().union(*(names(b) for b in bodies)) if bodies else set()
    missing = [j.name for j in model.dof_joints if j.name not in held]
    split = [j.name for j in model.dof_joints if j.name in held and j.name not in names(robot)]
    if missing or split:
        untyped_joints, untyped_geoms = _untyped(file)
        lost = missing + split
        if set(missing) & set(untyped_joints) or (untyped_joints and split):
            why = [f"{len(untyped_joints)} joint(s) without a type attribute ({', '.join(untyped_joints[:4])}"
                   + (", ..." if len(untyped_joints) > 4 else "") + ")"]
            if untyped_geoms:
                why.append(f"{len(untyped_geoms)} geom(s) without one")
            raise EngineFailure("bullet", "native", f"loadMJCF lost joint(s) {', '.join(lost[:6])}"
                                + (", ..." if len(lost) > 6 else "") + f": the file has {' and '.join(why)}; "
                                "PyBullet's MJCF importer does not apply <default> classes (nor MuJoCo's default "
                                "type) and drops such elements ('expected type attribute for joint', 'geom requires "
                                "type'; a dropped joint cuts the body tree: 'multiple root links')",
                                cause="bullet_mjcf_ignores_defaults", subject=lost[0])
        if included and missing:
            raise EngineFailure("bullet", "native", f"loadMJCF lost joint(s) {', '.join(missing[:6])}"
                                + (", ..." if len(missing) > 6 else "") + f": the file's <include> "
                                f"({', '.join(included[:4])}) is not followed by PyBullet's MJCF importer "
                                "('unhandled root element include')", cause="bullet_mjcf_ignores_include",
                                subject=missing[0])
        if split and not missing:
            raise EngineFailure("bullet", "native", f"loadMJCF put joint(s) {', '.join(split[:6])} in another body than "
                                f"joint(s) {', '.join(sorted(names(robot) & wanted)[:6])}: it makes one multibody per "
                                "child of the world body, simmatch reads back one", cause="bullet_mjcf_one_body_per_tree",
                                subject=split[0])
        raise EngineFailure("bullet", "native", f"loadMJCF lost joint(s) {', '.join(lost[:6])}", subject=lost[0])
    infos = [p.getJointInfo(robot, i, physicsClientId=cid) for i in range(p.getNumJoints(robot, physicsClientId=cid))]
    by_joint = {info[1].decode(): i for i, info in enumerate(infos)}
    by_link = {info[12].decode(): i for i, info in enumerate(infos)}
    fixed_child = {int(info[16]): i for i, info in enumerate(infos) if info[2] == p.JOINT_FIXED}
    frame_index = {model.root: -1}
    com_index = {model.root: -1} if model.floating else {}
    virtual = {link.name for link in model.links if link.virtual}
    for j in model.joints:
        if j.movable and j.name in by_joint:
            frame_index[j.child] = by_joint[j.name]
            if j.child not in virtual:  # the body's own link: the fixed link behind its last joint
                com_index[j.child] = fixed_child.get(by_joint[j.name], by_joint[j.name])
        elif j.child in by_link:
            frame_index[j.child] = com_index[j.child] = by_link[j.child]
    if model.posed:  # a mounted fixed base: the robot's (static) base moved to the mount
        p.resetBasePositionAndOrientation(robot, list(model.base_pose.xyz), model.base_pose.quat_xyzw.tolist(),
                                          physicsClientId=cid)
    return robot, [b for b in bodies if b != robot], frame_index, com_index


def _matrix(pos: Any, quat_xyzw: Any) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    T = np.eye(4)
    T[:3, :3] = Rotation.from_quat(quat_xyzw).as_matrix()
    T[:3, 3] = pos
    return T


def fromto_bodies(file: str) -> set[str]:
    """Names of the bodies of the MJCF `file` (includes and defaults resolved by MuJoCo's MjSpec)
    that hold a capsule or cylinder written with `fromto`: PyBullet's getCollisionShapeData on the link
    loadMJCF builds from one reads invalid memory (pybullet 3.2.7): it crashes the process or, depending
    on what that memory holds, returns garbage, so such links are never asked. Empty when the file
    cannot be read (the load itself says why)."""
    import mujoco

    try:
        spec = mujoco.MjSpec.from_file(file)
    except Exception:
        return set()
    kinds = (mujoco.mjtGeom.mjGEOM_CAPSULE, mujoco.mjtGeom.mjGEOM_CYLINDER)
    return {g.parent.name for g in spec.geoms if g.type in kinds and not np.isnan(g.fromto[0])}


def read_shapes(body: int, cid: int, indices: list[int], unsafe: frozenset[int] = frozenset()) -> \
        tuple[dict[int, tuple[Any, ...]], list[int]]:
    """getCollisionShapeData of each link, each call first made in a forked child: it crashes the
    process on a link built from a `fromto` capsule (pybullet 3.2.7). `unsafe`: link indices known to
    be built from one (`fromto_bodies`), never asked: the call does not always crash there, it may
    return garbage instead. (shapes by link index, the indices it crashed on or that are unsafe)."""
    from .probe import crash_signal

    out: dict[int, tuple[Any, ...]] = {}
    crashed = []
    for i in indices:
        if i in unsafe or crash_signal(p.getCollisionShapeData, body, i, cid) is not None:
            crashed.append(i)
        else:
            out[i] = tuple(p.getCollisionShapeData(body, i, physicsClientId=cid))
    return out, crashed


def held_links_joints(be: BulletBackend) -> tuple[list[Link], list[Joint], list[str]]:
    """What the robot's multibody holds, in canonical names: each canonical link with the mass,
    inertia (about its COM, in the COM frame placed in the canonical link frame), collision shapes
    and contact coefficients of its PyBullet body link; each canonical joint with PyBullet's type,
    limits and damping (its friction 0: the native load never applies it)."""
    from scipy.spatial.transform import Rotation

    from .bullet import _JOINT_TYPES

    c, body, model = be.cid, be.body, be.model
    frames = be.link_frames()
    fromto = fromto_bodies(model.source)
    unsafe = frozenset(i for name, i in be._com_index.items() if name in fromto)
    shapes, crashed = read_shapes(body, c, sorted(set(be._com_index.values())), unsafe)
    unread = [name for name, i in be._com_index.items() if i in crashed]
    links: list[Link] = []
    for link in model.links:
        ci = be._com_index.get(link.name)
        if ci is None:
            links.append(Link(link.name))
            continue
        T = frames.get(link.name, np.eye(4))
        info = p.getDynamicsInfo(body, ci, physicsClientId=c)
        mass, lat, diag, rest, roll, spin = info[0], info[1], info[2], info[5], info[6], info[7]
        if ci < 0:
            pos, orn = p.getBasePositionAndOrientation(body, physicsClientId=c)
        else:
            st = p.getLinkState(body, ci, computeForwardKinematics=True, physicsClientId=c)
            pos, orn = st[0], st[1]
        rel = np.linalg.inv(T) @ _matrix(pos, orn)  # the COM frame in the canonical link frame
        R = Rotation.from_matrix(rel[:3, :3])
        inertial = Inertial(float(mass), Pose.from_matrix(rel), tuple(tuple(r) for r in np.diag(diag))) \
            if mass > 0 else None
        cols = be._collisions(link, shapes.get(ci, ()), rel[:3, 3], R.as_quat()) if ci not in crashed else ()
        contact = ContactParams(lateral_friction=lat, rolling_friction=roll, spinning_friction=spin, restitution=rest)
        links.append(Link(link.name, inertial, tuple(cols), (), contact))
    by_name = {info[1].decode(): info for info in be._info}
    joints: list[Joint] = []
    for j in model.joints:
        info = by_name.get(j.name)
        if not j.movable or info is None:
            joints.append(j)
            continue
        jt = _JOINT_TYPES.get(info[2], str(info[2]))
        lower, upper = float(info[8]), float(info[9])
        if jt == "revolute" and lower > upper:
            jt = "continuous"
        limit = Limit(lower if lower <= upper else None, upper if lower <= upper else None,
                      float(info[10]) or None, float(info[11]) or None)
        joints.append(Joint(j.name, jt, j.parent, j.child, j.origin, tuple(info[13]), limit, float(info[6]), 0.0))
    return links, joints, unread


def shifted_bodies(model: RobotModel) -> dict[str, float]:
    """Canonical body links reached through several joints of one MuJoCo body whose anchors differ
    (a virtual link's child joint has a non-zero origin): body -> |last anchor - first anchor| (m),
    the distance by which loadMJCF misplaces the body (measured: the Gymnasium hopper, walker2d and
    half_cheetah torsos, joints at pos 0 0 -1.25 and 0 0 0, stand 1.25 m too high)."""
    virtual = {link.name for link in model.links if link.virtual}
    out: dict[str, float] = {}
    for j in model.joints:
        if j.child in virtual or j.parent not in virtual:
            continue
        total, link = np.zeros(3), j.parent
        chain = [j]
        while link in virtual:
            up = next(x for x in model.joints if x.child == link)
            chain.append(up)
            link = up.parent
        for x in chain[:-1]:  # the origins between the body's joints: the anchor differences
            total = total + np.asarray(x.origin.xyz)
        if np.linalg.norm(total) > 1e-12:
            out[j.child] = float(np.linalg.norm(total))
    return out


def _xml_facts(file: str) -> tuple[dict[str, set[str]], dict[str, bool], list[str]]:
    """From the MJCF file itself (not its includes): joint name -> the attributes its own element
    writes; body name -> whether one of its geoms lacks a `type` (loadMJCF drops it); names of
    the world body's geoms."""
    try:
        root = ET.parse(file).getroot()
    except (OSError, ET.ParseError):
        return {}, {}, []
    joints = {el.get("name", ""): set(el.attrib) for el in root.iter("joint") if el.get("name")}
    untyped = {}
    for body in root.iter("body"):
        geoms = body.findall("geom")
        if body.get("name") and geoms:
            untyped[body.get("name", "")] = any(g.get("type") is None for g in geoms)
    world = root.find("worldbody")
    world_geoms = [g.get("name") or "(unnamed)" for g in world.findall("geom")] if world is not None else []
    return joints, untyped, world_geoms


def explains(model: RobotModel, held: list[Link], unread: list[str]) -> list[Explanation]:
    """Causes of the differences the comparators find on loadMJCF's model, from the rules measured
    on pybullet 3.2.7 (see the causes' texts); `unread`: links whose shapes could not be read back."""
    out: list[Explanation] = [
        Explanation("contact", "collision_shape", "bullet_mjcf_fromto_capsule_crash", name, kind,
                    detail="{detail}; not read back: getCollisionShapeData crashes on this link")
        for name in unread for kind in sorted({g.kind for g in model.link(name).collisions})]
    own, untyped, world_geoms = _xml_facts(os.path.abspath(os.fspath(model.source)))
    armature = [j for j in model.dof_joints if j.armature]
    shifted = shifted_bodies(model)
    got = {link.name: link for link in held}
    com_moved: list[str] = []
    mass_changed: list[str] = []  # loadMJCF's mass from the geoms at their density (bullet_mjcf_inertia_from_geoms)
    tensor_changed: list[str] = []  # its inertia from the collision shapes (bullet_inertia_from_shapes)
    for link in model.links:
        dropped = untyped.get(link.name, False)
        if dropped:  # (a typed geom of the link is found: only the dropped ones are findings)
            out += [Explanation("contact", "collision_shape", "bullet_mjcf_ignores_defaults", link.name, kind,
                                detail="{detail}; its geoms have no type attribute: loadMJCF drops them")
                    for kind in sorted({g.kind for g in link.collisions})]
        back = got.get(link.name)
        if link.inertial is None or link.inertial.mass <= 0 or back is None:
            continue
        if link.contact is not None and back.contact is not None and back.contact.lateral_friction == 0.5 \
                and link.contact.lateral_friction != 0.5:
            out.append(Explanation("contact", "lateral_friction", "bullet_default_friction", link.name,
                                   detail="{detail}; the geom loadMJCF kept writes no friction (MuJoCo's default 1)"))
        if back.inertial is None or (dropped and abs(back.inertial.mass - link.inertial.mass) > 1e-9):
            # its mass (and COM) come from the geoms loadMJCF kept, or none
            out += [Explanation(c, q, "bullet_mjcf_ignores_defaults" if dropped else "bullet_mjcf_inertia_from_geoms",
                                link.name) for c, q in (("inertia", "mass"), ("inertia", "com"),
                                                        ("kinematics", "com_position"))]
            continue
        if np.linalg.norm(np.asarray(back.inertial.com) - np.asarray(link.inertial.com)) > 1e-6:
            com_moved.append(link.name)
        if abs(back.inertial.mass - link.inertial.mass) > 1e-6 * link.inertial.mass:
            mass_changed.append(link.name)
        held_moments = np.linalg.eigvalsh(np.asarray(back.inertial.tensor, dtype=float))
        moments = np.linalg.eigvalsh(np.asarray(link.inertial.tensor, dtype=float))
        if not np.allclose(held_moments, moments, rtol=1e-4, atol=1e-4 * float(np.max(np.abs(moments)))):
            tensor_changed.append(link.name)
        cause = "bullet_mjcf_body_shifted" if link.name in shifted else "bullet_mjcf_com_at_body_origin"
        out += [Explanation("inertia", "mass", "bullet_mjcf_inertia_from_geoms", link.name),
                Explanation("inertia", "com", cause, link.name),
                Explanation("kinematics", "com_position", cause, link.name)]
    if world_geoms and any(link.collisions for link in model.links if link.name == model.root):
        out += [Explanation("contact", "collision_shape", "bullet_mjcf_one_body_per_tree", model.root, kind,
                            detail="{detail}; loadMJCF makes each world geom a body of its own")
                for kind in sorted({g.kind for g in model.link(model.root).collisions})]
    if shifted:
        where = ", ".join(f"{b} {d:g} m" for b, d in shifted.items())
        detail = f"{{detail}}; loadMJCF shifts the bodies below joints with different anchors ({where})"
        out += [Explanation(c, q, "bullet_mjcf_body_shifted", detail=detail)
                for c, q in (("kinematics", "frame_position"), ("kinematics", "com_position"),
                             ("kinematics", "frame_orientation"), ("contact", "shape_pose"))]
    # one cause per dynamics quantity, the first of what enters it: the gravity torques only the masses
    # and COMs, the bias forces the inertia tensors too, M(q) and qdd the armature as well
    placed: list[tuple[bool, str]] = [
        (bool(shifted), "bullet_mjcf_body_shifted"), (bool(com_moved), "bullet_mjcf_com_at_body_origin"),
        (bool(mass_changed) or any(untyped.values()), "bullet_mjcf_inertia_from_geoms")]
    tensors = placed + [(bool(tensor_changed), "bullet_inertia_from_shapes")]
    chains = {"gravity_torques": placed, "bias_forces": tensors,
              "mass_matrix": tensors + [(bool(armature), "bullet_no_armature")]}
    chains["forward_dynamics"] = chains["mass_matrix"]
    parts = ([f"bodies shifted: {', '.join(shifted)}"] if shifted else []) + (
        [f"COM at the body origin: {', '.join(com_moved[:6])}"] if com_moved else []) + (
        [f"mass from the geoms: {', '.join(mass_changed[:6])}"] if mass_changed else []) + (
        [f"inertia from the collision shapes: {', '.join(tensor_changed[:6])}"] if tensor_changed else []) + (
        ["no armature (" + ", ".join(f"{j.name} {j.armature:g}" for j in armature[:6]) + ")"] if armature else [])
    for q, chain in chains.items():
        dyn = next((cause for present, cause in chain if present), "")
        if dyn:
            out.append(Explanation("dynamics", q, dyn, case="values", detail="{detail}; loadMJCF: " + "; ".join(parts)))
    for j in model.dof_joints:
        attrs = own.get(j.name, set())
        out.append(Explanation("joints", "damping", "bullet_mjcf_drops_damping", j.name))
        if "range" in attrs and "limited" not in attrs:
            out += [Explanation("joints", q, "bullet_mjcf_no_autolimits", j.name) for q in ("limit_lower", "limit_upper")]
        elif not attrs & {"range", "limited"}:
            out += [Explanation("joints", q, "bullet_mjcf_ignores_defaults", j.name,
                                detail="{detail}; its range or limited comes from a <default> class, which loadMJCF "
                                       "does not apply")
                    for q in ("limit", "limit_lower", "limit_upper")]
    return out
