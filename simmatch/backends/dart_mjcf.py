"""DART's native load of an MJCF: `dartpy.utils.MjcfParser.readWorld(uri)`, as users call it.

dartpy 6.20 has an MJCF parser (the issue assumed it had none). readWorld returns a World holding
one Skeleton per tree of the world body and one per world geom ('__geom_skel__floor'). In the robot's
skeleton each MuJoCo joint is a DART joint of the same name; a body with several joints is a chain of
massless bodies '<body>__mjcf_dof<k>' ending in the body itself; every body's frame is MuJoCo's body
frame (measured on the Gymnasium hopper). Mapped onto the canonical model: the canonical link below
joint J is J's child body, its frame that body's frame moved to J's anchor (`jnt_pos` of MuJoCo's
compiled model: the canonical link frame, see `simmatch.mjcf`). The robot's skeleton is moved into
simmatch's World (SimConfig's time step, gravity, floor and collision detector); the world geoms'
skeletons are left out (SimConfig's floor stands for the MJCF's planes, as in the matched builds).

readWorld crashes the process on some files (a <site> in the <worldbody>, measured on dm_control's
acrobot): it is first run in a forked child, and a crash there is a load failure with its cause.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EngineFailure
from ..model import RobotModel
from .base import Explanation
from .dart_build import isometry


def _parse(uri: str) -> int:
    import dartpy as dart

    world = dart.utils.MjcfParser.readWorld(dart.common.Uri(uri))
    return -1 if world is None else int(world.getNumSkeletons())


def _world_sites(file: str) -> list[str]:
    try:
        world = ET.parse(file).getroot().find("worldbody")
    except (OSError, ET.ParseError):
        return []
    return [] if world is None else [el.get("name") or "(unnamed)" for el in world.findall("site")]


def _mesh_bodies(file: str) -> list[str]:
    """Bodies of the MJCF (its own file) with a mesh geom (`type="mesh"` or a `mesh=` attribute), on
    which dartpy 6.20's parser fails (cause `dart_mjcf_mesh_geom`)."""
    try:
        world = ET.parse(file).getroot().find("worldbody")
    except (OSError, ET.ParseError):
        return []
    if world is None:
        return []
    return [b.get("name") or "(unnamed)" for b in world.iter("body")
            if any(g.get("type") == "mesh" or g.get("mesh") is not None for g in b.findall("geom"))]


def _shift(offset: Any) -> np.ndarray:
    T = np.eye(4)
    T[:3, 3] = offset
    return T


def load_native(model: RobotModel) -> tuple[Any, dict[str, Any], dict[str, np.ndarray], list[str]]:
    """readWorld of `model.source`: (the robot's Skeleton, removed from the parsed World; canonical
    link -> its DART BodyNode; canonical link -> (4, 4) canonical link frame in that body's frame;
    notes). EngineFailure when readWorld crashes (cause `dart_mjcf_world_site_crash` where the file
    has a world site), returns nothing (`dart_mjcf_mesh_geom` where a body has a mesh geom), or a canonical joint is not in one skeleton."""
    import dartpy as dart

    from ..mjcf import compile_mjcf, link_offset
    from .probe import crash_signal, signal_name

    path = Path(os.fspath(model.source)).resolve()
    uri = str(path)
    crashed = crash_signal(_parse, uri)
    if crashed is not None:
        sites = _world_sites(uri)
        if sites:
            raise EngineFailure("dart", "native", f"MjcfParser.readWorld crashed ({signal_name(crashed)}); the file "
                                f"has a <site> in its <worldbody> ({', '.join(sites[:4])}), on which dartpy 6.20's "
                                "parser crashes", cause="dart_mjcf_world_site_crash", subject=sites[0])
        raise EngineFailure("dart", "native", f"MjcfParser.readWorld crashed ({signal_name(crashed)})",
                            cause="engine_crash")
    world = dart.utils.MjcfParser.readWorld(dart.common.Uri(uri))
    if world is None or world.getNumSkeletons() == 0:
        meshy = _mesh_bodies(uri)
        if meshy:
            raise EngineFailure("dart", "native", "MjcfParser.readWorld returned no skeleton: body(ies) "
                                f"{', '.join(meshy[:4])}" + (", ..." if len(meshy) > 4 else "") + " have a mesh "
                                "geom, on which dartpy 6.20's parser fails (without an <inertial>: '<inertial> "
                                "element must be specified if a <body> include a geom of mesh type'; with one, it "
                                "looks for the mesh file at the wrong path: 'Failed loading mesh')",
                                cause="dart_mjcf_mesh_geom", subject=meshy[0])
        raise EngineFailure("dart", "native", "MjcfParser.readWorld returned no skeleton")
    wanted = [j.name for j in model.dof_joints]
    skels = [world.getSkeleton(i) for i in range(world.getNumSkeletons())]
    skel = max(skels, key=lambda s: (sum(s.getJoint(n) is not None for n in wanted), s.getNumDofs()))
    missing = [n for n in wanted if skel.getJoint(n) is None]
    if missing:
        elsewhere = [n for n in missing if any(s.getJoint(n) is not None for s in skels)]
        raise EngineFailure("dart", "native", f"joint(s) {', '.join(missing[:6])} not in the robot's skeleton"
                            + (": MjcfParser makes one skeleton per child of the world body" if elsewhere else ""),
                            cause="dart_mjcf_one_skeleton_per_tree" if elsewhere else None, subject=missing[0])
    notes = [f"MjcfParser.readWorld: {len(skels)} skeleton(s); the robot's {skel.getName()!r} moved into simmatch's "
             "world, the world geoms' skeletons left out"]
    world.removeSkeleton(skel)
    m = compile_mjcf(path)
    import mujoco

    def body_id(name: str) -> int:
        b = int(mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, name))
        unnamed = re.fullmatch(r"body(\d+)", name)  # simmatch.mjcf's name of an unnamed body
        return int(unnamed.group(1)) if b < 0 and unnamed else b

    virtual = {link.name for link in model.links if link.virtual}
    bodies: dict[str, Any] = {}
    offsets: dict[str, np.ndarray] = {}
    for j in model.joints:
        if j.movable:
            dj = skel.getJoint(j.name)
            bodies[j.child] = dj.getChildBodyNode()
            jid = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, j.name)
            offsets[j.child] = _shift(m.jnt_pos[jid]) if jid >= 0 else np.eye(4)
        else:
            node = skel.getBodyNode(j.child)
            if node is not None:
                bodies[j.child] = node
                offsets[j.child] = np.eye(4)
                parent_joint = node.getParentJoint()
                if parent_joint is not None and parent_joint.getName() != j.name:
                    parent_joint.setName(j.name)  # 'WeldJoint_from_A_to_B': the canonical fixed joint's name
    if model.floating:
        node = skel.getBodyNode(model.root)
        if node is not None:
            bodies[model.root] = node
            offsets[model.root] = np.eye(4)
            root = node.getParentJoint()
            if root is not None and root.getType() == "FreeJoint":
                # MjcfParser puts the body's declared pose in the FreeJoint's parent transform; the
                # canonical root pose is the whole state: identity, the pose moved into the positions
                T = np.asarray(root.getTransformFromParentBodyNode().matrix())
                root.setTransformFromParentBodyNode(isometry(np.eye(4)))
                root.setPositions(dart.dynamics.FreeJoint.convertToPositions(isometry(T)))
    if model.posed:  # a mounted fixed base: every tree's root joint moves from the world origin to the mount
        for t in range(skel.getNumTrees()):
            rj = skel.getRootJoint(t)
            rj.setTransformFromParentBodyNode(isometry(model.base_pose.matrix
                                                       @ np.asarray(rj.getTransformFromParentBodyNode().matrix())))
    for link in bodies:  # a body link: at its last joint's anchor (virtual links: their joint's)
        b = body_id(link)
        if b > 0 and link not in virtual:
            offsets[link] = _shift(link_offset(m, b))
    return skel, bodies, offsets, notes


def degree_ranges(model: RobotModel) -> bool:
    """Whether the MJCF writes angles in degrees (MuJoCo's default, `<compiler angle>`)."""
    try:
        root = ET.parse(os.fspath(model.source)).getroot()
    except (OSError, ET.ParseError):
        return False
    angle = next((c.get("angle") for c in root.iter("compiler") if c.get("angle")), "degree")
    return angle == "degree"


def _xml_facts(file: str) -> tuple[list[str], bool, list[str]]:
    """From the MJCF file itself: names of bodies written without `pos`; whether the compiler sets
    `settotalmass`; names of bodies with several geoms."""
    try:
        root = ET.parse(file).getroot()
    except (OSError, ET.ParseError):
        return [], False, []
    no_pos = [b.get("name", "") for b in root.iter("body") if b.get("name") and b.get("pos") is None]
    total = any(c.get("settotalmass") for c in root.iter("compiler"))
    multi = [b.get("name", "") for b in root.iter("body") if b.get("name") and len(b.findall("geom")) > 1]
    return no_pos, total, multi


def explains(model: RobotModel) -> list[Explanation]:
    """Causes of the differences the comparators find on MjcfParser's skeleton (measured on dartpy
    6.20: see the causes' texts)."""
    out: list[Explanation] = []
    if degree_ranges(model):
        out += [Explanation("joints", q, "dart_mjcf_range_in_degrees", j.name,
                            detail="{detail}; the MJCF writes degrees, MjcfParser keeps the numbers as radians")
                for j in model.dof_joints if j.limited and j.type != "prismatic" for q in ("limit_lower", "limit_upper")]
    out += [Explanation("joints", q, "dart_mjcf_drops_stiffness", j.name)
            for j in model.dof_joints if j.stiffness for q in ("stiffness", "spring_ref")]
    out += [Explanation("joints", "limit", "dart_mjcf_unlimited_zero_range", j.name)
            for j in model.dof_joints if not j.limited]
    no_pos, total, multi = _xml_facts(os.fspath(model.source))
    massive = [link.name for link in model.links if link.inertial is not None and link.inertial.mass > 0]
    out += [Explanation("inertia", "inertia", "dart_mjcf_unit_inertia", name) for name in massive]
    if total:
        out += [Explanation("inertia", "mass", "dart_mjcf_ignores_settotalmass", name) for name in massive]
    for name in multi:
        out += [Explanation("inertia", q, "dart_mjcf_first_geom_inertial", name) for q in ("mass", "com")]
        out.append(Explanation("kinematics", "com_position", "dart_mjcf_first_geom_inertial", name))
    shifted = [name for name in no_pos if name in massive and np.linalg.norm(model.link(name).inertial.com) > 0]  # type: ignore[union-attr]
    for name in shifted:
        out += [Explanation("kinematics", q, "dart_mjcf_body_without_pos", name)
                for q in ("frame_position", "com_position", "frame_orientation")]
    if shifted:
        out += [Explanation("kinematics", q, "dart_mjcf_body_without_pos",
                            detail=f"{{detail}}; bodies without pos placed at their COM: {', '.join(shifted[:6])}")
                for q in ("frame_position", "com_position")]
    world = model.link(model.root)
    if not model.floating and world.collisions:
        out += [Explanation("contact", "collision_shape", "dart_mjcf_one_skeleton_per_tree", model.root, kind,
                            detail="{detail}; MjcfParser makes each world geom a skeleton of its own "
                                   "('__geom_skel__<name>'), not part of the robot")
                for kind in sorted({g.kind for g in world.collisions})]
    armature = [j for j in model.dof_joints if j.armature]
    # one cause per dynamics quantity, the first of what enters it: the gravity torques only the masses
    # and COMs, the bias forces the inertia tensors too, M(q) and qdd the armature as well
    first_geom = [name for name in multi if name in massive]
    chains: dict[str, list[tuple[bool, str]]] = {
        "gravity_torques": [(bool(shifted), "dart_mjcf_body_without_pos"),
                            (total and bool(massive), "dart_mjcf_ignores_settotalmass"),
                            (bool(first_geom), "dart_mjcf_first_geom_inertial")],
        "bias_forces": [(bool(shifted), "dart_mjcf_body_without_pos"), (bool(massive), "dart_mjcf_unit_inertia")]}
    chains["mass_matrix"] = chains["forward_dynamics"] = chains["bias_forces"] + [(bool(armature), "dart_no_armature")]
    detail = "{detail}; MjcfParser: every body's moment of inertia is the identity" + (
        f"; bodies without pos placed at their COM: {', '.join(shifted[:6])}" if shifted else "") + (
        "; settotalmass not applied" if total else "") + (
        f"; mass and COM of the first geom: {', '.join(first_geom[:6])}" if first_geom else "") + (
        "; no armature (" + ", ".join(f"{j.name} {j.armature:g}" for j in armature[:6]) + ")" if armature else "")
    for q, chain in chains.items():
        cause = next((c for present, c in chain if present), "")
        if cause:
            out.append(Explanation("dynamics", q, cause, case="values", detail=detail))
    return out
