"""A RobotModel as URDF (xml.etree): what `simmatch.urdf` reads back as the same canonical model.

- links in canonical order, each with its inertial (origin xyz/rpy, mass, the full tensor in that
  frame), collision and visual shapes (box, sphere, cylinder, capsule and plane, the last two
  PyBullet's URDF extensions that simmatch reads; meshes by absolute file path and scale) and
  PyBullet's `<contact>` extension for declared friction, restitution and contact stiffness;
- joints with origin, axis, `<limit>` (a limited joint's range, effort and velocity; a prismatic
  joint without a limit as lower > upper, PyBullet's and simmatch's "no limit"), `<dynamics>` and
  `<mimic>`; a locked joint as the revolute or prismatic joint with lower = upper it was declared;
- the coordinates of a multi-DoF joint (planar, floating, spherical: see `model.expand_multi_dof`)
  collapsed back into that one joint wherever the chain is exactly its expansion (named `J[x]`...,
  massless frames between, the axes and origins of the expansion), whether the model was read from
  a URDF or an MJCF (a ball joint, a body with slide, slide, hinge coordinates named so);
- armature as Drake's URDF extension (a `<transmission>` whose actuator holds `drake:rotor_inertia`
  with `drake:gear_ratio` 1; the `drake` namespace declared on `<robot>`) and joint springs as
  SDFormat's (`<gazebo reference=JOINT><springStiffness>/<springReference>`), both read back by
  `simmatch.urdf` and by Drake / Gazebo, ignored by PyBullet's, DART's and MuJoCo's importers;
- what URDF cannot hold (the armature or spring of one coordinate of a planar, floating or
  spherical joint, the base being fixed or floating when the root's mass does not say it, a
  mounted base) is listed in `Notes.lost` for the file's header.

Numbers are written with `repr` (the shortest text that reads back as the same double).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np

from ..model import (
    FLOATING_COORDINATES,
    PLANAR_COORDINATES,
    SPHERICAL_COORDINATES,
    Geometry,
    Joint,
    Link,
    Pose,
    RobotModel,
    coordinate_name,
    expand_multi_dof,
    locked_motion,
)
from ..urdf import DRAKE_NS
from . import Notes

ET.register_namespace("drake", DRAKE_NS)  # written as xmlns:drake on <robot>, the prefix Drake matches

CHAIN_TOL = 1e-12  # origins and axes of a coordinate chain vs the expansion of the joint it stands for


def _num(v: float) -> str:
    v = float(v)
    return "0" if v == 0.0 else repr(v)


def _vec(values) -> str:
    return " ".join(_num(v) for v in values)


def _origin(parent: ET.Element, pose: Pose) -> None:
    if any(pose.xyz) or any(pose.rpy):
        ET.SubElement(parent, "origin", xyz=_vec(pose.xyz), rpy=_vec(pose.rpy))


def _same_joint(a: Joint, b: Joint) -> bool:
    return (a.name == b.name and a.type == b.type and a.parent == b.parent and a.child == b.child
            and float(np.abs(a.origin.matrix - b.origin.matrix).max()) <= CHAIN_TOL
            and float(np.abs(np.asarray(a.axis) - np.asarray(b.axis)).max()) <= CHAIN_TOL)


def _bare(link: Link) -> bool:
    """A frame only: no mass, no shapes (what the virtual links of an expansion are)."""
    return link.mass == 0.0 and not link.collisions and not link.visuals


def collapsible(model: RobotModel) -> dict[str, tuple[Joint, list[Joint]]]:
    """First coordinate's name -> (the multi-DoF joint, its coordinate joints) for every chain of
    `model` that is exactly `expand_multi_dof` of one planar, floating or spherical joint."""
    out: dict[str, tuple[Joint, list[Joint]]] = {}
    taken: set[str] = set()
    for j in model.walk():
        m = re.fullmatch(r"(.*)\[(x|yaw)\]", j.name)
        if m is None or not j.movable or j.name in taken:
            continue
        group = m.group(1)
        kinds = ("floating", "planar") if m.group(2) == "x" else ("spherical",)
        for kind in kinds:
            coords = {"floating": FLOATING_COORDINATES, "planar": PLANAR_COORDINATES,
                      "spherical": SPHERICAL_COORDINATES}[kind]
            chain = [j]
            while len(chain) < len(coords):
                kids = model.child_joints(chain[-1].child)
                if len(kids) != 1 or not _bare(model.link(chain[-1].child)):
                    break
                chain.append(kids[0])
            if len(chain) != len(coords) or [c.name for c in chain] != [coordinate_name(group, c) for c in coords]:
                continue
            axis = chain[-1].axis if kind == "planar" else (0.0, 0.0, 1.0)
            whole = Joint(group, kind, j.parent, chain[-1].child, j.origin, axis, None, j.damping, j.friction)
            links, expected = expand_multi_dof(whole)
            if all(_same_joint(a, b) for a, b in zip(expected, chain)) and \
                    [link.name for link in links] == [c.child for c in chain[:-1]]:
                out[j.name] = (whole, chain)
                taken.update(c.name for c in chain)
                break
    return out


def _geometry(parent: ET.Element, tag: str, g: Geometry) -> None:
    el = ET.SubElement(parent, tag, {"name": g.name} if g.name else {})
    _origin(el, g.origin)
    geo = ET.SubElement(el, "geometry")
    if g.kind == "box":
        ET.SubElement(geo, "box", size=_vec(g.size or (0.0, 0.0, 0.0)))
    elif g.kind == "sphere":
        ET.SubElement(geo, "sphere", radius=_num(g.radius or 0.0))
    elif g.kind in ("cylinder", "capsule"):
        ET.SubElement(geo, g.kind, radius=_num(g.radius or 0.0), length=_num(g.length or 0.0))
    elif g.kind == "plane":
        ET.SubElement(geo, "plane", normal=_vec(g.normal or (0.0, 0.0, 1.0)))
    else:
        attrs = {"filename": g.filename or ""}
        if tuple(g.scale) != (1.0, 1.0, 1.0):
            attrs["scale"] = _vec(g.scale)
        ET.SubElement(geo, "mesh", attrs)
        if g.concave:
            el.set("concave", "yes")


def _link(robot: ET.Element, link: Link) -> None:
    el = ET.SubElement(robot, "link", name=link.name)
    if link.inertial is not None and link.inertial.mass > 0:
        ine = ET.SubElement(el, "inertial")
        _origin(ine, link.inertial.origin)
        ET.SubElement(ine, "mass", value=_num(link.inertial.mass))
        t = link.inertial.tensor
        ET.SubElement(ine, "inertia", ixx=_num(t[0, 0]), ixy=_num(t[0, 1]), ixz=_num(t[0, 2]),
                      iyy=_num(t[1, 1]), iyz=_num(t[1, 2]), izz=_num(t[2, 2]))
    for g in link.visuals:
        _geometry(el, "visual", g)
    for g in link.collisions:
        _geometry(el, "collision", g)
    declared = link.contact.declared() if link.contact is not None else {}
    if declared:
        c = ET.SubElement(el, "contact")
        for key in ("lateral_friction", "rolling_friction", "spinning_friction", "restitution"):
            if key in declared:
                ET.SubElement(c, key, value=_num(declared[key]))
        if "stiffness" in declared:
            ET.SubElement(c, "contact_stiffness", value=_num(declared["stiffness"]))
        if "damping" in declared:
            ET.SubElement(c, "contact_damping", value=_num(declared["damping"]))


def _unlocked_origin(j: Joint) -> Pose:
    """The declared origin of a locked joint (its canonical origin includes the motion at q: undone)."""
    return Pose.from_matrix(j.origin.matrix @ np.linalg.inv(locked_motion(j, j.locked_type)))


def _joint(robot: ET.Element, j: Joint, notes: Notes, extensions: list[ET.Element]) -> None:
    jtype = j.locked_type or j.type
    el = ET.SubElement(robot, "joint", name=j.name, type=jtype)
    ET.SubElement(el, "parent", link=j.parent)
    ET.SubElement(el, "child", link=j.child)
    _origin(el, _unlocked_origin(j) if j.locked_type else j.origin)
    if jtype in ("revolute", "continuous", "prismatic", "planar"):
        ET.SubElement(el, "axis", xyz=_vec(j.axis))
    lim = j.limit
    effort = lim.effort if lim is not None and lim.effort is not None else 0.0
    velocity = lim.velocity if lim is not None and lim.velocity is not None else 0.0
    if jtype in ("revolute", "prismatic"):
        if j.locked_type:
            assert lim is not None and lim.lower is not None
            lo, hi = float(lim.lower), float(lim.lower)
        elif j.limited:
            assert lim is not None and lim.lower is not None and lim.upper is not None
            lo, hi = float(lim.lower), float(lim.upper)
        else:  # no limit: lower > upper, which PyBullet and simmatch read as none
            lo, hi = lim.declared if lim is not None and lim.declared else (1.0, -1.0)
            notes.carried.append(f"joint '{j.name}': a {jtype} joint without a limit, written as lower {lo:g} > "
                                 f"upper {hi:g} (PyBullet's and simmatch's 'no limit')")
        ET.SubElement(el, "limit", lower=_num(lo), upper=_num(hi), effort=_num(effort), velocity=_num(velocity))
    elif jtype == "continuous" and (effort or velocity or (lim is not None and lim.declared)):
        attrs = {"effort": _num(effort), "velocity": _num(velocity)}
        if lim is not None and lim.declared:
            attrs.update(lower=_num(lim.declared[0]), upper=_num(lim.declared[1]))
        ET.SubElement(el, "limit", attrs)
    if j.damping or j.friction:
        ET.SubElement(el, "dynamics", damping=_num(j.damping), friction=_num(j.friction))
    if j.mimic is not None:
        ET.SubElement(el, "mimic", joint=j.mimic.joint, multiplier=_num(j.mimic.multiplier),
                      offset=_num(j.mimic.offset))
    if j.armature:
        extensions.append(_transmission(j))
        if not effort:
            notes.carried.append(f"armature '{j.name}': the joint has no effort limit, and Drake skips a "
                                 "transmission on a joint whose effort limit is 0 (simmatch reads it)")
    if j.stiffness:
        extensions.append(_spring(j))


def _transmission(j: Joint) -> ET.Element:
    """Drake's URDF extension for a rotor: a SimpleTransmission whose actuator holds
    `drake:rotor_inertia` (the armature) and `drake:gear_ratio` 1 (Drake reflects I G^2)."""
    t = ET.Element("transmission", name=f"{j.name}_transmission")
    ET.SubElement(t, "type").text = "transmission_interface/SimpleTransmission"
    jt = ET.SubElement(t, "joint", name=j.name)
    ET.SubElement(jt, "hardwareInterface").text = "hardware_interface/EffortJointInterface"
    act = ET.SubElement(t, "actuator", name=f"{j.name}_actuator")
    ET.SubElement(act, f"{{{DRAKE_NS}}}rotor_inertia", value=_num(j.armature))
    ET.SubElement(act, f"{{{DRAKE_NS}}}gear_ratio", value="1")
    return t


def _spring(j: Joint) -> ET.Element:
    """SDFormat's URDF extension for a joint spring (Gazebo: axis/dynamics/spring_stiffness and
    spring_reference of the joint)."""
    g = ET.Element("gazebo", reference=j.name)
    ET.SubElement(g, "springStiffness").text = _num(j.stiffness)
    ET.SubElement(g, "springReference").text = _num(j.spring_ref)
    return g


def to_urdf(model: RobotModel, notes: Notes) -> str:
    """`model` as URDF text (no header; see `simmatch.export.export_model`). Armature and joint
    springs go into the two extensions `simmatch.urdf` reads (Drake's `<transmission>` with
    `drake:rotor_inertia`, SDFormat's `<gazebo reference=JOINT><springStiffness>`), after the joints;
    the `drake` namespace is declared on `<robot>` when used."""
    robot = ET.Element("robot", name=model.name)
    extensions: list[ET.Element] = []
    chains = collapsible(model)
    inner = {c.child for _, chain in chains.values() for c in chain[:-1]}
    for name in model.link_order:
        if name not in inner:
            _link(robot, model.link(name))
    coords = {c.name for _, chain in chains.values() for c in chain}
    for j in model.walk():
        if j.name in chains:
            whole, chain = chains[j.name]
            _joint(robot, whole, notes, extensions)
            for c in chain:
                if c.armature:
                    notes.lost.append(f"armature '{c.name}': {c.armature:g}; a coordinate of a {whole.type} joint "
                                      "has no URDF joint of its own for a transmission to name")
                if c.stiffness:
                    notes.lost.append(f"spring '{c.name}': stiffness {c.stiffness:g} towards {c.spring_ref:g}; a "
                                      f"coordinate of a {whole.type} joint has no URDF joint of its own")
            notes.carried.append(f"joint '{whole.name}': its {len(chain)} coordinates as one {whole.type} joint")
        elif j.name not in coords:
            _joint(robot, j, notes, extensions)
    root = model.link(model.root)
    if model.floating and root.mass == 0.0:
        notes.lost.append(f"floating base: root link '{root.name}' has no mass, so a URDF reader takes it as the "
                          "world; load the file as floating (simmatch: base 'floating')")
    elif not model.floating and root.mass > 0.0:
        notes.lost.append(f"fixed base: root link '{root.name}' has mass {root.mass:g} kg, so simmatch's 'auto' "
                          "base takes it as floating; load the file as fixed (simmatch: base 'fixed')")
    if model.posed:
        notes.lost.append(f"base pose: the fixed base is mounted at {model.base_text}; URDF does not say where "
                          "(simmatch: the base pose option)")
    robot.extend(extensions)
    if any(x.tag == "transmission" for x in extensions):
        notes.carried.append("armature as Drake's URDF extension (<transmission> whose actuator holds "
                             "drake:rotor_inertia, gear_ratio 1: Drake's reflected inertia I G^2 is the armature): "
                             "read by Drake and simmatch, ignored by PyBullet's, DART's and MuJoCo's URDF importers")
    if any(x.tag == "gazebo" for x in extensions):
        notes.carried.append("joint springs as SDFormat's URDF extension (<gazebo reference=JOINT> with "
                             "<springStiffness> and <springReference>): read by Gazebo and simmatch, ignored by "
                             "PyBullet's, DART's and MuJoCo's URDF importers")
    ET.indent(robot, "  ")
    return ET.tostring(robot, encoding="unicode") + "\n"
