"""Strict URDF reader producing a `RobotModel`.

Strict on purpose: PyBullet accepts `lower="-1.57."` and `xyz="0.07, 0, -0.69"`, other loaders do
not, and silently re-reading such a file leniently would change the very thing being measured.
Every problem raises `ModelError(file, element, problem)`.
"""

from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from . import meshes
from .errors import ModelError, UsageError
from .model import (
    GEOMETRY_KINDS,
    JOINT_TYPES,
    MULTI_DOF_TYPES,
    ContactParams,
    Geometry,
    Inertial,
    Joint,
    Limit,
    Link,
    Mimic,
    Pose,
    RobotModel,
    expand_multi_dof,
    is_locked,
    lock_joint,
    vec3,
)

BASE_CHOICES = ("fixed", "floating", "auto")
# A URDF number: optional sign, ASCII digits with an optional fraction, optional exponent. Python's
# float() also takes '1_000', full-width digits, 'nan' and 'infinity'; PyBullet reads '1_000' as 1.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
# Largest magnitude of any number in a model (real robots stay below 1e7): beyond it products such as
# m * r^2 in the mass matrix overflow or lose all precision.
MAGNITUDE_MAX = 1e9
# Joint limits may be huge: Gazebo-style files write lower="-1e16" upper="1e16" (or effort="1e16")
# for "no limit", and PyBullet and Pinocchio load them; they only need to be finite.
LIMIT_MAX = float("inf")
NAME_MAX = 256  # characters in a link, joint or robot name
FILE_MAX = 64 * 2**20  # bytes of a URDF file


def _clip(text: str, n: int = 40) -> str:
    """`text` cut to n characters for an error message."""
    return text if len(text) <= n else text[:n] + f"...({len(text)} characters)"


INERTIA_ROUNDOFF = 1e-9  # a negative eigenvalue within this fraction of the largest one is round-off


def _inertia_from_shapes(inertial: Inertial | None, collisions: tuple[Geometry, ...]) -> Inertial | None:
    """An all-zero inertia tensor on a link with mass means "compute it from the collision shapes"
    (PyBullet's default load and MuJoCo's inertiafromgeom do): the shapes' inertia at the declared
    mass about their own centroid, placed at the declared COM, marked source='collision shapes'.
    Without shapes (or with a mesh that cannot be read) the link stays a point mass as declared."""
    if inertial is None or inertial.mass <= 0 or np.any(inertial.tensor != 0) or not collisions:
        return inertial
    from .compare.inertia import shape_inertia

    try:
        shp = shape_inertia(Link("_", None, collisions), inertial.mass)
    except Exception:  # unreadable mesh: keep the point mass; check reports the mesh itself
        return inertial
    if shp is None:
        return inertial
    return Inertial(inertial.mass, Pose(inertial.origin.xyz), tuple(vec3(row) for row in shp[1]),
                    source="collision shapes")


def balanced_inertia(inertial: Inertial | None) -> Inertial | None:
    """A declared tensor whose principal moments a <= b <= c break the triangle inequality
    (a + b < c: no physical body has it; a 1e-6 'dummy' with six equal entries is [0, 0, 3e-6]) or
    that has a negative moment beyond round-off replaced by the nearest tensor with the same
    principal axes that keeps it: negative moments raised to 0, then each moment moved by
    t = (c - a - b) / 3 towards the plane a + b = c (a + t, b + t, c - t). The engines cannot hold the
    declared tensor alike (PyBullet zeroes it, MuJoCo refuses it or sets all three moments to their
    mean, DART keeps it), so simmatch's model and every matched build hold this one; marked
    source='balanced', the declared tensor kept in `declared_inertia`."""
    if inertial is None or inertial.mass <= 0 or inertial.source != "declared":
        return inertial
    from .compare.inertia import violates_triangle

    I = inertial.tensor
    w, V = np.linalg.eigh(0.5 * (I + I.T))  # ascending
    negative = w[0] < -INERTIA_ROUNDOFF * max(float(np.abs(w).max()), 1e-300)
    if not np.any(I) or not (negative or violates_triangle(I)):
        return inertial
    w = np.maximum(w, 0.0)  # a negative moment (an indefinite tensor: tiago's antenna) raised to 0 first
    d = max(w[2] - w[0] - w[1], 0.0)
    w = np.array([w[0] + d / 3, w[1] + d / 3, w[2] - d / 3])
    w[0] += 1e-12 * w[2]  # strictly inside (a + b > c): PyBullet and MuJoCo test A + B >= C after round-off
    J = V @ np.diag(w) @ V.T
    J = 0.5 * (J + J.T)
    return Inertial(inertial.mass, inertial.origin, tuple(vec3(row) for row in J),
                    source="balanced", declared_inertia=inertial.inertia)


class _Reader:
    def __init__(self, path: Path):
        self.path = path
        self.file = str(path)

    def fail(self, element: str, problem: str) -> ModelError:
        return ModelError(self.file, element, problem)

    # -- numbers ------------------------------------------------------------------------------
    def number(self, text: str | None, where: str, attr: str, default: float | None = None,
               bound: float = MAGNITUDE_MAX) -> float:
        """A decimal number as URDF writes it (`_NUMBER`: no '1_000', no full-width digits, no
        nan/inf, which Python's float() would take and other loaders read differently), |value| <= bound."""
        if text is None:
            if default is None:
                raise self.fail(where, f"missing attribute {attr!r}")
            return default
        if not _NUMBER.fullmatch(text.strip()):
            if text.strip().lstrip("+-").lower() in ("nan", "inf", "infinity"):
                raise self.fail(where, f"attribute {attr}={_clip(text)!r} is not finite")
            raise self.fail(where, f"attribute {attr}={_clip(text)!r} is not a number")
        value = float(text.strip())
        if not math.isfinite(value) or abs(value) > bound:
            raise self.fail(where, f"attribute {attr}={_clip(text)!r} is out of range (|value| > {bound:g})")
        return value

    def one(self, elem: ET.Element, tag: str, where: str) -> ET.Element | None:
        """The single <tag> child of `elem` (None when absent). Two different copies of a
        single-valued element are refused: which one counts is a silent choice of each loader.
        Identical copies (pybullet_data's spirit40newer repeats an `<axis>`) mean the same thing and
        are read once."""
        found = elem.findall(tag)
        if len(found) > 1:
            def canon(e: ET.Element) -> tuple[Any, ...]:
                return (e.tag, sorted(e.attrib.items()), (e.text or "").strip(), [canon(c) for c in e])

            if any(canon(f) != canon(found[0]) for f in found[1:]):
                raise self.fail(where, f"<{tag}> appears {len(found)} times, differently (at most once)")
        return found[0] if found else None

    def name(self, elem: ET.Element, kind: str) -> str:
        name = elem.get("name")
        if not name:
            raise self.fail(kind, "missing attribute 'name'")
        if len(name) > NAME_MAX:
            raise self.fail(f"{kind}[{_clip(name)}]", f"name is {len(name)} characters long (at most {NAME_MAX})")
        if not name.isprintable():
            raise self.fail(f"{kind}[{_clip(name)!r}]", "name holds control characters")
        return name

    def vector(self, text: str | None, where: str, attr: str, n: int,
               default: tuple[float, ...] | None = None) -> tuple[Any, ...]:
        if text is None:
            if default is None:
                raise self.fail(where, f"missing attribute {attr!r}")
            return tuple(default)
        parts = text.split()
        if len(parts) != n:
            raise self.fail(where, f"attribute {attr}={text!r} must hold {n} space-separated numbers")
        return tuple(self.number(p, where, attr) for p in parts)

    def pose(self, elem: ET.Element | None, where: str) -> Pose:
        if elem is None:
            return Pose()
        return Pose(self.vector(elem.get("xyz"), where + "/origin", "xyz", 3, (0, 0, 0)),
                    self.vector(elem.get("rpy"), where + "/origin", "rpy", 3, (0, 0, 0)))

    # -- elements -----------------------------------------------------------------------------
    def inertial(self, elem: ET.Element | None, where: str) -> Inertial | None:
        if elem is None:
            return None
        where = where + "/inertial"
        mass_el = self.one(elem, "mass", where)
        if mass_el is None:
            raise self.fail(where, "missing <mass>")
        mass = self.number(mass_el.get("value"), where + "/mass", "value")
        if mass < 0:
            raise self.fail(where + "/mass", f"negative mass {mass:g}")
        inertia_el = self.one(elem, "inertia", where)
        names = ("ixx", "ixy", "ixz", "iyy", "iyz", "izz")
        if inertia_el is None:
            vals = dict.fromkeys(names, 0.0)
        else:
            vals = {k: self.number(inertia_el.get(k), where + "/inertia", k, 0.0) for k in names}
        inertia = np.array([[vals["ixx"], vals["ixy"], vals["ixz"]],
                            [vals["ixy"], vals["iyy"], vals["iyz"]],
                            [vals["ixz"], vals["iyz"], vals["izz"]]])
        # Zero, singular (point masses, 1e-6 dummies, thin rods), triangle-violating and indefinite
        # tensors are URDF that PyBullet and Pinocchio load: `check` reports them as model findings
        # (`balanced_inertia` repairs the last two once for every build). A tensor whose largest
        # moment is below round-off of the mass (1e-12 m^2 of gyration: iCub's head declares one
        # product of inertia of 2.4e-35) is all zero.
        eig = np.linalg.eigvalsh(inertia)
        if np.any(inertia) and float(np.abs(eig).max()) <= INERTIA_ROUNDOFF * 1e-3 * mass:
            inertia = np.zeros((3, 3))
        return Inertial(mass, self.pose(self.one(elem, "origin", where), where),
                        tuple(vec3(row) for row in inertia))

    def geometry(self, elem: ET.Element, where: str) -> Geometry:
        """Collision shapes must have positive sizes; visuals may be degenerate (laikago's toes
        carry a radius-0 visual sphere), since they never touch the physics."""
        strict = "/collision" in where
        origin = self.pose(self.one(elem, "origin", where), where)
        name = elem.get("name")
        geom = self.one(elem, "geometry", where)
        # a <material> misplaced inside <geometry> (pybullet_data racecar.urdf's laser visual) is
        # visual metadata that PyBullet loads past: not a shape
        shapes = [c for c in (geom if geom is not None else ()) if c.tag != "material"]
        if not shapes:
            raise self.fail(where, "missing <geometry>")
        if len(shapes) > 1:
            raise self.fail(where + "/geometry", f"holds {len(shapes)} shapes (exactly one)")
        shape = shapes[0]
        kind = shape.tag
        gw = f"{where}/geometry/{kind}"
        if kind not in GEOMETRY_KINDS:
            raise self.fail(gw, f"unknown geometry {kind!r} (expected one of {', '.join(GEOMETRY_KINDS)})")
        if kind == "box":
            size = self.vector(shape.get("size"), gw, "size", 3)
            if min(size) < 0 or (strict and min(size) == 0):
                raise self.fail(gw, f"box size {size} must be positive")
            return Geometry("box", origin, size=size, name=name)
        if kind == "sphere":
            r = self.number(shape.get("radius"), gw, "radius")
            if r < 0 or (strict and r == 0):
                raise self.fail(gw, f"radius {r:g} must be positive")
            return Geometry("sphere", origin, radius=r, name=name)
        if kind in ("cylinder", "capsule"):
            r = self.number(shape.get("radius"), gw, "radius")
            length = self.number(shape.get("length"), gw, "length")
            if r < 0 or length < 0 or (strict and (r == 0 or (kind == "cylinder" and length == 0))):
                raise self.fail(gw, f"radius {r:g} / length {length:g} out of range")
            return Geometry(kind, origin, radius=r, length=length, name=name)
        if kind == "plane":
            # PyBullet's extension: the plane through the geometry origin, solid below `normal`
            normal = self.vector(shape.get("normal"), gw, "normal", 3, (0, 0, 1))
            norm = float(np.linalg.norm(normal))
            if norm < 1e-12:
                raise self.fail(gw, "normal has zero length")
            return Geometry("plane", origin, normal=vec3(v / norm for v in normal), name=name)
        fn = shape.get("filename")
        if not fn:
            raise self.fail(gw, "missing attribute 'filename'")
        scale = meshes.parse_scale(shape.get("scale"), lambda t: self.number(t, gw, "scale"),
                                   lambda problem: self.fail(gw, problem))
        if strict and min(abs(v) for v in scale) == 0:
            raise self.fail(gw, f"scale {scale} has a zero component: the collision mesh would be flat")
        if strict:  # collision meshes are read by every engine: an unusable file is bad input
            path = meshes.check(fn, meshes.resolve(fn, self.path), self.file, gw, self.path)
            concave = elem.get("concave", "").strip().lower() in ("yes", "true", "1")
            return Geometry("mesh", origin, filename=path, scale=scale, name=name, concave=concave)
        # visuals never touch the physics: a missing one keeps its name as written, and `check` warns
        found = meshes.resolve(fn, self.path)
        return Geometry("mesh", origin, filename=found or fn, scale=scale, name=name, missing=found is None)

    def contact(self, elem: ET.Element | None, where: str) -> ContactParams | None:
        if elem is None:
            return None
        where = where + "/contact"
        vals = {}
        for key in ("lateral_friction", "rolling_friction", "spinning_friction", "restitution",
                    "stiffness", "damping"):
            child = elem.find(key)
            if child is not None:
                vals[key] = self.number(child.get("value"), f"{where}/{key}", "value")
        cdamp = self.one(elem, "contact_damping", where)
        cstiff = self.one(elem, "contact_stiffness", where)
        if cdamp is not None:
            vals["damping"] = self.number(cdamp.get("value"), f"{where}/contact_damping", "value")
        if cstiff is not None:
            vals["stiffness"] = self.number(cstiff.get("value"), f"{where}/contact_stiffness", "value")
        return ContactParams(**vals)

    def link(self, elem: ET.Element) -> Link:
        name = self.name(elem, "link")
        where = f"link[{name}]"
        collisions = tuple(self.geometry(c, f"{where}/collision") for c in elem.findall("collision"))
        visuals = tuple(self.geometry(v, f"{where}/visual") for v in elem.findall("visual"))
        inertial = balanced_inertia(_inertia_from_shapes(self.inertial(self.one(elem, "inertial", where), where),
                                                         collisions))
        return Link(name, inertial, collisions, visuals, self.contact(self.one(elem, "contact", where), where))

    def joint(self, elem: ET.Element) -> Joint:
        name = self.name(elem, "joint")
        where = f"joint[{name}]"
        jtype = elem.get("type")
        if jtype not in JOINT_TYPES:
            raise self.fail(where, f"unknown joint type {jtype!r} (expected one of {', '.join(JOINT_TYPES)})")
        parent, child = self.one(elem, "parent", where), self.one(elem, "child", where)
        parent_link = None if parent is None else parent.get("link")
        child_link = None if child is None else child.get("link")
        if not parent_link:
            raise self.fail(where, "missing <parent link=...>")
        if not child_link:
            raise self.fail(where, "missing <child link=...>")
        axis = (1.0, 0.0, 0.0)
        axis_el = self.one(elem, "axis", where)
        if axis_el is not None:
            axis = self.vector(axis_el.get("xyz"), where + "/axis", "xyz", 3)
        norm = float(np.linalg.norm(axis))
        if jtype in ("revolute", "continuous", "prismatic") and norm < 1e-12:
            raise self.fail(where + "/axis", "axis has zero length")
        if norm > 0:
            axis = vec3(a / norm for a in axis)
        limit = None
        lim = self.one(elem, "limit", where)
        if lim is not None:
            lw = where + "/limit"
            limit = Limit(
                lower=self.number(lim.get("lower"), lw, "lower", 0.0, LIMIT_MAX) if jtype != "continuous" else None,
                upper=self.number(lim.get("upper"), lw, "upper", 0.0, LIMIT_MAX) if jtype != "continuous" else None,
                effort=self.number(lim.get("effort"), lw, "effort", 0.0, LIMIT_MAX),
                velocity=self.number(lim.get("velocity"), lw, "velocity", 0.0, LIMIT_MAX),
            )
            for key in ("effort", "velocity"):
                if getattr(limit, key) < 0:
                    raise self.fail(lw, f"attribute {key}={lim.get(key)!r} is negative")
            if limit.lower is not None and limit.upper is not None and limit.lower > limit.upper:
                # PyBullet's idiom for 'no limit' (its own data uses it); PyBullet, DART, MuJoCo and
                # Pinocchio all load it and none of them enforces it (measured): an unlimited joint
                limit = replace(limit, lower=None, upper=None, declared=(limit.lower, limit.upper))
            if jtype == "continuous" and lim.get("lower") is not None and lim.get("upper") is not None:
                # URDF: a continuous joint has no position limits; no engine enforces declared ones
                limit = replace(limit, declared=(self.number(lim.get("lower"), lw, "lower"),
                                                 self.number(lim.get("upper"), lw, "upper")))
        elif jtype in ("revolute", "prismatic"):
            raise self.fail(where, f"{jtype} joint needs a <limit> element")
        damping = friction = 0.0
        dyn = self.one(elem, "dynamics", where)
        if dyn is not None:
            damping = self.number(dyn.get("damping"), where + "/dynamics", "damping", 0.0)
            friction = self.number(dyn.get("friction"), where + "/dynamics", "friction", 0.0)
            if damping < 0 or friction < 0:
                raise self.fail(where + "/dynamics", "damping and friction must be >= 0")
        mimic = None
        mim = self.one(elem, "mimic", where)
        if mim is not None:
            mw = where + "/mimic"
            leader = mim.get("joint")
            if not leader:
                raise self.fail(mw, "missing attribute 'joint'")
            mimic = Mimic(leader, self.number(mim.get("multiplier"), mw, "multiplier", 1.0),
                          self.number(mim.get("offset"), mw, "offset", 0.0))
        return Joint(name, jtype, parent_link, child_link,
                     self.pose(self.one(elem, "origin", where), where), axis, limit, damping, friction, mimic)


# XML namespace of Drake's URDF extensions (`xmlns:drake=...`); its parser matches the prefix
# `drake:` itself, simmatch matches the local name in any declared namespace
DRAKE_NS = "http://drake.mit.edu"
_SPRING_TYPES = ("revolute", "continuous", "prismatic")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _drake_child(elem: ET.Element, name: str) -> list[ET.Element]:
    """Children of `elem` named `drake:<name>` (a namespaced tag with that local name)."""
    return [c for c in elem if isinstance(c.tag, str) and c.tag.startswith("{") and _local(c.tag) == name]


def _joint_extensions(root_el: ET.Element, joints: list[Joint],
                      reader: _Reader) -> tuple[list[Joint], list[tuple[str, str, str]]]:
    """Armature and joint springs from the two URDF extensions real tools read:

    - Drake's `<transmission>` (type `...SimpleTransmission`, `<joint name=J>`, `<actuator>` holding
      `<drake:rotor_inertia value=I/>` and optionally `<drake:gear_ratio value=G/>`): Drake reflects
      I G^2 onto J's mass-matrix diagonal, which is MuJoCo's `armature` (kg m^2 for a revolute joint,
      kg for a prismatic one);
    - SDFormat's `<gazebo reference=J><springStiffness>k</springStiffness><springReference>q0
      </springReference></gazebo>` (Gazebo's URDF parser writes them as the joint's
      `axis/dynamics/spring_stiffness` and `spring_reference`): a spring -k (q - q0), N m/rad or N/m.

    PyBullet's, DART's and MuJoCo's URDF importers read neither. A transmission without
    `drake:rotor_inertia` is metadata and left alone; one on a joint that does not move (fixed,
    locked, planar, floating) is returned as an ignored (element, joint, why) entry. Returns the
    joints with them and those entries. Raises ModelError for a negative or malformed value, an
    unknown joint, or two of them on one joint."""
    by_name = {j.name: i for i, j in enumerate(joints)}
    armature: dict[str, float] = {}
    springs: dict[str, tuple[float, float]] = {}
    for t in root_el.findall("transmission"):
        actuator = t.find("actuator")
        inertia = _drake_child(actuator, "rotor_inertia") if actuator is not None else []
        if not inertia:
            continue
        where = f"transmission[{t.get('name') or ''}]"
        type_el = t.find("type")
        ttype = (type_el.text or "") if type_el is not None else (t.get("type") or "")
        if "SimpleTransmission" not in ttype:
            raise reader.fail(where, f"type {_clip(ttype)!r} is not a SimpleTransmission, the only kind whose "
                              "drake:rotor_inertia Drake reads")
        joint_el = t.find("joint")
        jname = joint_el.get("name") if joint_el is not None else None
        if not jname or jname not in by_name:
            raise reader.fail(where + "/joint", f"names no joint of this robot ({jname!r})")
        if len(inertia) > 1 or len(_drake_child(actuator, "gear_ratio")) > 1:  # type: ignore[arg-type]
            raise reader.fail(where + "/actuator", "more than one drake:rotor_inertia or drake:gear_ratio")
        rotor = reader.number(inertia[0].get("value"), where + "/actuator/drake:rotor_inertia", "value")
        gears = _drake_child(actuator, "gear_ratio")  # type: ignore[arg-type]
        gear = reader.number(gears[0].get("value"), where + "/actuator/drake:gear_ratio", "value") if gears else 1.0
        if rotor < 0:
            raise reader.fail(where + "/actuator/drake:rotor_inertia",
                              f"attribute value={inertia[0].get('value')!r} is negative")
        if jname in armature:
            raise reader.fail(where, f"joint {jname!r} has a second transmission with a drake:rotor_inertia")
        armature[jname] = rotor * gear * gear
    for g in root_el.findall("gazebo"):
        stiff, ref = g.find("springStiffness"), g.find("springReference")
        jname = g.get("reference")
        if (stiff is None and ref is None) or not jname or jname not in by_name:
            continue  # a link's or the robot's extension: springs are only read for joints
        where = f"gazebo[{jname}]"
        k = reader.number(stiff.text if stiff is not None else "0", where + "/springStiffness", "text")
        q0 = reader.number(ref.text if ref is not None else "0", where + "/springReference", "text")
        if k < 0:
            raise reader.fail(where + "/springStiffness", f"value {k:g} is negative")
        if jname in springs:
            raise reader.fail(where, "a second <gazebo> spring for this joint")
        springs[jname] = (k, q0)
    out = list(joints)
    ignored: list[tuple[str, str, str]] = []
    for name, value in armature.items():
        j = out[by_name[name]]
        if j.type in _SPRING_TYPES and not is_locked(j):
            out[by_name[name]] = replace(j, armature=value)
        else:
            ignored.append(("drake:rotor_inertia", name, f"armature {value:g} on a {j.type} joint that does not "
                            "move (Drake skips a transmission on it too)"))
    for name, (k, q0) in springs.items():
        j = out[by_name[name]]
        if j.type in _SPRING_TYPES and not is_locked(j):
            out[by_name[name]] = replace(j, stiffness=k, spring_ref=q0)
        elif k:
            ignored.append(("springStiffness", name, f"spring {k:g} on a {j.type} joint that does not move"))
    return out, ignored


def resolve_base(model: RobotModel, base: str) -> RobotModel:
    """Decide whether the root is welded to the world. 'auto': a massless root link is the world
    (the common URDF idiom `<link name="world"/>`), a root with mass floats."""
    if base not in BASE_CHOICES:
        raise UsageError(f"--base must be one of {', '.join(BASE_CHOICES)}, not {base!r}")
    root = model.link(model.root)
    if base == "auto":
        if root.mass == 0.0:
            return replace(model, base="fixed",
                           base_reason=f"auto: root link {root.name!r} has no mass, taken as the world")
        reason = f"auto: root link {root.name!r} has mass {root.mass:g} kg, taken as floating"
        children = model.child_joints(root.name)
        if not root.collisions and children and all(j.movable for j in children):
            # the world-anchor idiom (e.g. a planar hopper's heavy root heading prismatic/revolute
            # root joints, loaded with useFixedBase=1): a floating anchor falls with the robot
            reason += (f"; it has no collision shape and only joints that move its children "
                       f"({', '.join(j.type for j in children)}): a world anchor? use --base fixed")
        return replace(model, base="floating", base_reason=reason)
    return replace(model, base=base, base_reason=f"--base {base}")


def _looks_utf16(head: bytes) -> bool:
    """Whether `head` (a file's first bytes, without a byte-order mark) reads as UTF-16 text: every
    other byte NUL (UTF-16 of ASCII markup, little- or big-endian)."""
    even, odd = head[0::2], head[1::2]
    return len(head) >= 4 and (set(odd) == {0} or set(even) == {0})


def _parse_xml(p: Path, file: str) -> ET.Element:
    """The root element of a UTF-8 XML file, or ModelError (unreadable, too big, empty, not UTF-8,
    malformed)."""
    try:
        size = p.stat().st_size
        if size > FILE_MAX:
            raise ModelError(file, "file", f"is {size} bytes long (at most {FILE_MAX})")
        data = p.read_bytes()
    except OSError as exc:
        raise ModelError(file, "file", f"cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise ModelError(file, "file", "is empty")
    head = data[:200]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (b"\x00" in head and _looks_utf16(head)):
        raise ModelError(file, "file", "is UTF-16 (URDF files are UTF-8, the only encoding URDF loaders read)")
    if b"\x00" in head:
        raise ModelError(file, "file", "is a binary file, not XML text (NUL bytes in its first 200)")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelError(file, "file", f"is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})") from None
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise ModelError(file, "xml", f"malformed XML: {exc}") from None
    except (ValueError, LookupError) as exc:  # e.g. an unknown encoding named in the XML declaration
        raise ModelError(file, "xml", f"unreadable XML ({exc})") from None


def load_urdf(path: str | os.PathLike[str], base: str = "auto") -> RobotModel:
    """Parse and validate a URDF file. Raises ModelError with a one-line message on any problem."""
    p = Path(path)
    file = str(p)
    if not p.exists():
        raise ModelError(file, "file", "does not exist")
    if not p.is_file():
        raise ModelError(file, "file", "is not a regular file")
    root_el = _parse_xml(p, file)
    reader = _Reader(p.resolve())
    reader.file = file
    if root_el.tag != "robot":
        raise reader.fail(root_el.tag, "root element must be <robot>" + (
            " (a URDF) or <mujoco> (an MJCF)" if p.suffix.lower() == ".xml" else ""))
    links = [reader.link(e) for e in root_el.findall("link")]
    if not links:
        raise reader.fail("robot", "has no <link>")
    names = [link.name for link in links]
    dup = {n for n, c in Counter(names).items() if c > 1}
    if dup:
        raise reader.fail(f"link[{sorted(dup)[0]}]", "link name used more than once")
    joints, ignored_joint_extensions = _joint_extensions(root_el, [reader.joint(e) for e in root_el.findall("joint")],
                                                         reader)
    jnames = [j.name for j in joints]
    jdup = {n for n, c in Counter(jnames).items() if c > 1}
    if jdup:
        raise reader.fail(f"joint[{sorted(jdup)[0]}]", "joint name used more than once")
    known = set(names)
    parent_of: dict[str, str] = {}
    for j in joints:
        for role, ln in (("parent", j.parent), ("child", j.child)):
            if ln not in known:
                raise reader.fail(f"joint[{j.name}]/{role}", f"names missing link {ln!r}")
        if j.child in parent_of:
            raise reader.fail(f"joint[{j.name}]/child",
                              f"link {j.child!r} already has parent joint {parent_of[j.child]!r} (cycle or second parent)")
        parent_of[j.child] = j.name
    roots = [n for n in names if n not in parent_of]
    if not roots:
        raise reader.fail("robot", "kinematic cycle: every link has a parent")
    if len(roots) > 1:
        raise reader.fail("robot", f"more than one root link (not a single tree): {', '.join(roots)}")
    robot_name = reader.name(root_el, "robot") if root_el.get("name") else p.stem
    model = RobotModel(robot_name, tuple(links), tuple(joints), roots[0], source=file)
    reached = set(model.link_order)
    if reached != known:
        missing = sorted(known - reached)
        raise reader.fail(f"link[{missing[0]}]", "kinematic cycle: link is not reachable from the root")
    model = replace(model, ignored=_ignored_extensions(root_el) + tuple(ignored_joint_extensions))
    return resolve_base(_canonical_joints(model, reader), base)


# PyBullet's <contact> extensions that change its physics and that simmatch's model leaves out
# (measured on pybullet 3.2.7; DART's loader and MuJoCo's importer do not read them)
_IGNORED_CONTACT = {
    "inertia_scaling": "PyBullet multiplies the link's inertia tensor by it (3.0: a declared diag(0.01, 0.02, "
                       "0.03) loads as diag(0.03, 0.06, 0.09), also with URDF_USE_INERTIA_FROM_FILE)",
    "contact_cfm": "PyBullet reads it as this link's contact constraint force mixing (no effect measured on a "
                   "box resting and sliding on a plane: cfm 0.5 with erp 0.01, same z and x to 1e-4 m)",
    "contact_erp": "PyBullet reads it as this link's contact error reduction (see contact_cfm: no effect "
                   "measured on a resting, sliding box)",
    "friction_anchor": "PyBullet anchors this link's friction contacts (a box sliding at 1 m/s travels "
                       "0.1977 m in 1 s instead of 0.1991 m)",
}


def _ignored_extensions(root_el: ET.Element) -> tuple[tuple[str, str, str], ...]:
    """(element, link, what PyBullet does with it) for each PyBullet-only `<contact>` extension the
    model does not hold. Pure metadata (calibration, safety_controller, transmission, gazebo, a
    robot-level material) changes no engine's physics here and is not listed."""
    out = []
    for link in root_el.findall("link"):
        contact = link.find("contact")
        if contact is None:
            continue
        for key, what in _IGNORED_CONTACT.items():
            if contact.find(key) is not None:
                out.append((key, link.get("name") or "", what))
    return tuple(out)


def _canonical_joints(model: RobotModel, reader: _Reader) -> RobotModel:
    """Every joint as 0 or 1 DoF (see `Joint`): planar and floating joints expanded into their
    coordinates, locked joints (lower == upper) made fixed; mimic leaders checked."""
    by_name = {j.name: j for j in model.joints}
    for j in model.joints:
        # a <mimic> on a joint that does not move (talos' fixed gripper joints) has no effect: kept in
        # the model and reported at model level (compare.joints.model_checks), never validated
        if j.mimic is not None and j.type in ("revolute", "continuous", "prismatic") and not is_locked(j):
            leader = by_name.get(j.mimic.joint)
            if leader is None or leader.type not in ("revolute", "continuous", "prismatic") or is_locked(leader):
                continue  # nothing to follow: ignored (RobotModel.mimic_joints), reported at model level
            seen, k = {j.name}, leader
            while k.mimic is not None and k.mimic.joint in by_name:
                if k.mimic.joint in seen:
                    raise reader.fail(f"joint[{j.name}]/mimic", f"mimic cycle through joint {k.name!r}: no joint "
                                      "of it moves on its own")
                seen.add(k.mimic.joint)
                k = by_name[k.mimic.joint]
    if not any(j.type in MULTI_DOF_TYPES or is_locked(j) for j in model.joints):
        return model
    links, joints = list(model.links), []
    taken = {link.name for link in links} | set(by_name)
    for j in model.joints:
        if j.type in MULTI_DOF_TYPES:
            new_links, coords = expand_multi_dof(j)
            for x_name in [x.name for x in new_links] + [c.name for c in coords]:
                if x_name in taken:
                    raise reader.fail(f"joint[{j.name}]", f"the name {x_name!r} of one of its coordinates is taken")
            links.extend(new_links)
            joints.extend(coords)
        elif is_locked(j):
            joints.append(lock_joint(j))
        else:
            joints.append(j)
    return replace(model, links=tuple(links), joints=tuple(joints))


def empty_dynamics_joints(path: str | os.PathLike[str]) -> list[str]:
    """Joints of the URDF file at `path` whose `<dynamics>` has neither damping nor friction. URDF
    reads that as 0 and 0 (so does simmatch); urdfdom (DART's loader) and PyBullet 3.2.7 refuse the
    whole file on it (measured). [] when the file cannot be read."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return []
    return [j.get("name") or "" for j in root.findall("joint")
            for d in j.findall("dynamics") if d.get("damping") is None and d.get("friction") is None]
