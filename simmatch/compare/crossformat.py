"""A model held against a reference model of the same robot, across formats (`check MODEL --reference REF`:
URDF against MJCF, MJCF against URDF, or within one format).

Conversions legitimately change the representation, so the two models are not compared element by
element in their own frames. Instead:

1. **Matching** (`match_models`). Movable joints are the robot's skeleton: they are matched by name
   first, then by tree position (children of already matched joints, in depth-first order, with
   their joint type class and the number of movable joints below them as signature). Every pair
   says which matching it used (`JointPair.how`). Links are grouped into *composite bodies*: a
   matched joint's child and everything welded to it (fixed joints, unmatched joints held at 0), so
   a fixed chain one format merges into one body, a massless frame link, and MJCF's world body
   against a URDF's root link all compare as what they are physically. What exists on one side
   only is listed (`Matching.only_model`, `only_reference`).
2. **Static comparison** at q = 0, in world, each element relative to its own matched joint (a
   rotational joint's axis line, the anchor slid along the axis to the nearest point: a frame placed
   elsewhere on the axis or turned about it is a representation, not a difference): joint types,
   axes (a negated axis is reported and its coordinate mapped with a sign), anchors, ranges,
   damping, friction, armature, springs, effort limits; composite mass, COM and inertia about the
   COM in world; collision shapes (type, size, pose) and contact friction.
3. **Dynamics**: the model's samples mapped through the matching (name or position, with the axis
   sign) into the reference, M(q), gravity torques, bias forces and forward dynamics of the
   reference mapped back into the model's joint order (`expected_snapshot`), compared by the
   ordinary dynamics comparator.

Every difference is a `Finding` of source model/declared with `expected` = the reference's value,
`actual` = the model's, a `conversion_*` cause (`simmatch causes`) and in `extra`: the reference's
name of the subject (`counterpart`), how the pair was matched (`matched_by`) and the side
that is likely wrong (`likely_wrong`: 'model' (the converted side, by default), or 'reference',
with `why`). Physical differences are errors; what is declared on one side only is a warning
(effort limits, contact friction) or info (velocity limits, restitution, rolling friction).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..causes import lookup
from ..config import SimConfig
from ..findings import Finding, Tolerances, make
from ..kinematics import link_frames
from ..model import Geometry, Joint, RobotModel, State
from .snapshot import Samples, Snapshot, model_snapshot

ROTATIONAL = ("revolute", "continuous")


@dataclass(frozen=True)
class JointPair:
    """Two movable joints matched: `model`'s and `reference`'s names, `how` ('name' or 'position'),
    `sign`: +1, or -1 when the reference's axis is the model's negated (its coordinate is
    q_ref = -q_model, and so are its velocity and torque)."""

    model: str
    reference: str
    how: str
    sign: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "reference": self.reference, "matched_by": self.how, "sign": self.sign}


@dataclass(frozen=True)
class BodyPair:
    """Two composite bodies matched: the links of each (the first is the holder: the child of the
    matched joint `joint` (model's name), or the root for `joint` None)."""

    model: tuple[str, ...]
    reference: tuple[str, ...]
    joint: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"model": list(self.model), "reference": list(self.reference), "joint": self.joint}


@dataclass(frozen=True)
class Matching:
    """How the two models' elements were paired. `joints`: the movable joints, in the model's
    canonical order; `bodies`: the composite bodies; `only_model`, `only_reference`: (name, what)
    of each link or movable joint that has no counterpart (what: 'massless link', 'link (merged
    into X)', 'movable joint', 'world body'...); `notes`: representation differences that were
    aligned (a fixed base mounted elsewhere)."""

    joints: tuple[JointPair, ...]
    bodies: tuple[BodyPair, ...]
    only_model: tuple[tuple[str, str], ...] = ()
    only_reference: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def by_name(self) -> int:
        return sum(p.how == "name" for p in self.joints)

    @property
    def by_position(self) -> int:
        return sum(p.how == "position" for p in self.joints)

    def summary(self) -> str:
        """One line: how many joints were matched by name and by position, how many are one-sided."""
        text = f"{len(self.joints)} joint(s) matched: {self.by_name} by name, {self.by_position} by tree position"
        if self.only_model or self.only_reference:
            text += (f"; {len(self.only_model)} element(s) only in the model, "
                     f"{len(self.only_reference)} only in the reference")
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"joints": [p.to_dict() for p in self.joints], "bodies": [b.to_dict() for b in self.bodies],
                "only_model": [{"name": n, "what": w} for n, w in self.only_model],
                "only_reference": [{"name": n, "what": w} for n, w in self.only_reference],
                "by_name": self.by_name, "by_position": self.by_position, "notes": list(self.notes)}


@dataclass
class CrossResult:
    """What `compare_models` found: the matching and the findings (source model/declared)."""

    matching: Matching
    findings: list[Finding] = field(default_factory=list)


# -- matching -----------------------------------------------------------------------------------------

def _movable_tree(model: RobotModel) -> tuple[dict[str | None, list[str]], dict[str, int]]:
    """Children (movable joints, canonical order) of each movable joint (None: the root), and the
    number of movable joints below each movable joint."""
    parent: dict[str, str | None] = {}
    above: dict[str, str | None] = {model.root: None}  # link -> nearest movable joint above it
    for j in model.walk():
        up = above[j.parent]
        if j.movable:
            parent[j.name] = up
            above[j.child] = j.name
        else:
            above[j.child] = up
    kids: dict[str | None, list[str]] = {}
    for name in model.joint_names:
        kids.setdefault(parent[name], []).append(name)
    below: dict[str, int] = {}
    for name in reversed(model.joint_names):
        below[name] = sum(1 + below[c] for c in kids.get(name, []))
    return kids, below


def _type_class(joint: Joint) -> str:
    return "rotational" if joint.type in ROTATIONAL else joint.type


def _pair_siblings(a: list[str], b: list[str], sig_a: dict[str, tuple[Any, ...]], sig_b: dict[str, tuple[Any, ...]],
                   place_a: dict[str, np.ndarray], place_b: dict[str, np.ndarray]) -> list[tuple[str, str]]:
    """Pairs of sibling joints `a` (model) and `b` (reference), each list in tree order: those with
    the same signature (type class, movable joints below), assigned to each other by where they are
    (`place_*`: the joint's anchor relative to its parent's, world at q = 0: a left and a right leg
    listed in another order, or named otherwise, still find each other), ties in tree order; then
    what is left, in order, when as many are left on both sides (a joint whose type changed is still
    the joint at that position)."""
    from scipy.optimize import linear_sum_assignment

    n, m = len(a), len(b)
    cost = np.zeros((n, m))
    big = 1e9
    for i, x in enumerate(a):
        for k, y in enumerate(b):
            d = float(np.linalg.norm(place_a.get(x, np.zeros(3)) - place_b.get(y, np.zeros(3))))
            cost[i, k] = (0.0 if sig_a[x] == sig_b[y] else big) + d + 1e-9 * abs(i - k)
    rows, cols = linear_sum_assignment(cost)
    out = sorted((int(i), int(k)) for i, k in zip(rows, cols) if cost[i, k] < big)
    pairs = [(a[i], b[k]) for i, k in out]
    left_a = [x for i, x in enumerate(a) if i not in {i for i, _ in out}]
    left_b = [y for k, y in enumerate(b) if k not in {k for _, k in out}]
    if len(left_a) == len(left_b):
        pairs += list(zip(left_a, left_b))
    return pairs


def _places(model: RobotModel) -> dict[str, np.ndarray]:
    """Each movable joint's anchor relative to the anchor of the movable joint above it (the root
    link's frame origin for the first ones), world at q = 0."""
    frames = _Side.at_zero(model).frames
    above: dict[str, np.ndarray] = {model.root: frames[model.root][:3, 3]}
    out: dict[str, np.ndarray] = {}
    for j in model.walk():
        here = frames[j.child][:3, 3]
        if j.movable:
            out[j.name] = here - above[j.parent]
            above[j.child] = here
        else:
            above[j.child] = above[j.parent]
    return out


def match_joints(model: RobotModel, reference: RobotModel) -> list[tuple[str, str, str]]:
    """(model joint, reference joint, 'name' | 'position') for every movable joint pair: equal names
    first, then, below every matched pair (and the two roots), the unmatched children by signature
    and place (`_pair_siblings`)."""
    kids_m, below_m = _movable_tree(model)
    kids_r, below_r = _movable_tree(reference)
    movable_r = set(reference.joint_names)
    pairs: dict[str, tuple[str, str]] = {}
    for name in model.joint_names:
        if name in movable_r:
            pairs[name] = (name, "name")
    used_r = {r for r, _ in pairs.values()}
    sig_m = {n: (_type_class(model.joint(n)), below_m[n]) for n in model.joint_names}
    sig_r = {n: (_type_class(reference.joint(n)), below_r[n]) for n in reference.joint_names}
    place_m, place_r = _places(model), _places(reference)
    queue: list[tuple[str | None, str | None]] = [(None, None)] + [(m, r) for m, (r, _) in pairs.items()]
    while queue:
        pm, pr = queue.pop(0)
        a = [c for c in kids_m.get(pm, []) if c not in pairs]
        b = [c for c in kids_r.get(pr, []) if c not in used_r]
        if not a or not b:
            continue
        for cm, cr in _pair_siblings(a, b, sig_m, sig_r, place_m, place_r):
            pairs[cm] = (cr, "position")
            used_r.add(cr)
            queue.append((cm, cr))
    return [(m, *pairs[m]) for m in model.joint_names if m in pairs]


def _composites(model: RobotModel, matched: set[str]) -> dict[str | None, list[str]]:
    """Links grouped by the nearest matched movable joint above them (None: the root's body); the
    first link of each group is the joint's child (the root)."""
    owner: dict[str, str | None] = {model.root: None}
    out: dict[str | None, list[str]] = {None: [model.root]}
    for j in model.walk():
        o = j.name if j.name in matched else owner[j.parent]
        owner[j.child] = o
        out.setdefault(o, []).append(j.child)
    return out


def _what(model: RobotModel, link: str, other_holder: str, root: bool) -> str:
    """What a link without a same-named counterpart is: its composite body is matched with the other
    side's body `other_holder` (the representation differs, the body is compared as a whole)."""
    lk = model.link(link)
    if lk.virtual:
        return "virtual link (between the coordinates of a multi-DoF joint)"
    if link == model.root and model.source_format == "mjcf" and not model.floating:
        return "world body"
    where = "the world" if root and not model.floating else repr(other_holder)
    if lk.mass == 0.0:
        return f"massless link, part of the body matched with {where}"
    return f"link merged with others into the body matched with {where}"


def match_models(model: RobotModel, reference: RobotModel) -> Matching:
    """Pair `model`'s and `reference`'s movable joints and composite bodies (see the module
    docstring). Axis signs are set by `compare_models`; here they are +1."""
    triples = match_joints(model, reference)
    jpairs = tuple(JointPair(m, r, how) for m, r, how in triples)
    comp_m = _composites(model, {p.model for p in jpairs})
    comp_r = _composites(reference, {p.reference for p in jpairs})
    bodies = [BodyPair(tuple(comp_m[None]), tuple(comp_r[None]), None)]
    bodies += [BodyPair(tuple(comp_m[p.model]), tuple(comp_r[p.reference]), p.model) for p in jpairs]
    only_m: list[tuple[str, str]] = []
    only_r: list[tuple[str, str]] = []
    paired_r = {p.reference for p in jpairs}
    paired_m = {p.model for p in jpairs}
    only_m += [(n, "movable joint") for n in model.joint_names if n not in paired_m]
    only_r += [(n, "movable joint") for n in reference.joint_names if n not in paired_r]
    for b in bodies:
        names_r = set(b.reference)
        names_m = set(b.model)
        root = b.joint is None
        only_m += [(n, _what(model, n, b.reference[0], root)) for n in b.model if n not in names_r]
        only_r += [(n, _what(reference, n, b.model[0], root)) for n in b.reference if n not in names_m]
    return Matching(jpairs, tuple(bodies), tuple(only_m), tuple(only_r))


# -- static comparison ----------------------------------------------------------------------------------

@dataclass
class _Side:
    """One model's world-frame quantities at q = 0."""

    model: RobotModel
    frames: dict[str, np.ndarray]

    @classmethod
    def at_zero(cls, model: RobotModel) -> _Side:
        state = State.zeros(model) if model.floating else None
        return cls(model, link_frames(model, state))

    def axis(self, joint: str) -> np.ndarray:
        j = self.model.joint(joint)
        a = self.frames[j.child][:3, :3] @ np.asarray(j.axis, float)
        return a / max(float(np.linalg.norm(a)), 1e-300)

    def anchor(self, joint: str) -> np.ndarray:
        return np.asarray(self.frames[self.model.joint(joint).child][:3, 3], dtype=float)

    def composite(self, links: tuple[str, ...]) -> tuple[float, np.ndarray, np.ndarray]:
        """(mass kg, COM (3,) world m, inertia (3, 3) about the COM in world kg m^2) of `links`."""
        parts = []
        for name in links:
            lk = self.model.link(name)
            if lk.inertial is None or lk.inertial.mass <= 0.0:
                continue
            T = self.frames[name]
            R = T[:3, :3]
            parts.append((lk.inertial.mass, (T @ np.append(lk.inertial.com, 1.0))[:3],
                          R @ lk.inertial.tensor_in_link @ R.T))
        mass = float(sum(p[0] for p in parts))
        if mass <= 0.0:
            return 0.0, np.zeros(3), np.zeros((3, 3))
        com = sum(m * c for m, c, _ in parts) / mass
        inertia = np.zeros((3, 3))
        for m, c, Ic in parts:
            d = c - com
            inertia += Ic + m * (float(d @ d) * np.eye(3) - np.outer(d, d))
        return mass, np.asarray(com, dtype=float), inertia


def _line_foot(point: np.ndarray, origin: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """The point of the line (origin, unit direction) nearest `point`."""
    return origin + float((point - origin) @ direction) * direction


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.arccos(np.clip(float(a @ b), -1.0, 1.0)))


class _Builder:
    """Collects the findings of one model/reference pair."""

    def __init__(self, model: RobotModel, reference: RobotModel, tol: Tolerances, floors: dict[str, float]):
        self.model, self.reference, self.tol, self.floors = model, reference, tol, floors
        self.default_friction: float | None = None
        self.out: list[Finding] = []

    def add(self, category: str, quantity: str, subject: str, cause: str = "", *, ref_subject: str | None = None,
            how: str = "", expected: Any = None, actual: Any = None, abs_error: float | None = None,
            rel_error: float | None = None, tolerance: float | None = None, severity: str = "error",
            detail: str = "", likely: str = "model", why: str = "") -> None:
        extra: dict[str, Any] = {"counterpart": subject if ref_subject is None else ref_subject}
        if ref_subject is not None and ref_subject != subject and repr(ref_subject) not in detail:
            detail = f"{detail}; the reference's is {ref_subject!r}"
        if how:
            extra["matched_by"] = how
        if severity != "info":
            extra["likely_wrong"] = likely
            extra["why"] = why or ("the model is the converted side: it should reproduce the reference"
                                   if likely == "model" else "")
        self.out.append(make("model", "declared", category, quantity, subject, expected=expected, actual=actual,
                             abs_error=abs_error, rel_error=rel_error, tolerance=tolerance, severity=severity,
                             cause=cause, detail=detail, extra=extra))


def _fmt(v: np.ndarray) -> list[float]:
    return [round(float(x), 9) for x in np.asarray(v).ravel()]


ROUNDING = 5e-6  # half a unit in the 6th significant digit (MuJoCo's mj_saveLastXML writes 6)


def rounded(e: float, a: float) -> bool:
    """Whether two numbers differ by no more than writing one with 6 significant digits does (the
    difference is then reported as a warning, `conversion_rounding`, not as an error)."""
    return abs(e - a) <= ROUNDING * max(abs(e), abs(a))


def _severity(e: float, a: float, cause: str) -> dict[str, Any]:
    if rounded(e, a):
        return {"severity": "warning", "cause": "conversion_rounding"}
    return {"cause": cause}


def _name_note(a: str, b: str) -> str:
    return "" if a == b else f" (reference: {b!r})"


def _joint_findings(bld: _Builder, pair: JointPair, jm: Joint, jr: Joint) -> None:
    tol = bld.tol
    s, sub, how = pair.sign, pair.model, pair.how
    note = _name_note(pair.model, pair.reference)
    kw: dict[str, Any] = {"ref_subject": pair.reference, "how": how}
    if _type_class(jm) != _type_class(jr):
        bld.add("structure", "joint_type", sub, "conversion_joint_type", expected=jr.type, actual=jm.type,
                detail=f"a {jr.type} joint in the reference{note} is {jm.type} in the model", **kw)
        return
    # range: the reference's, read in the model's coordinate (negated and swapped for sign -1)
    br, bm = jr.bounds, jm.bounds
    if br is not None:
        br = (br[0], br[1]) if s > 0 else (-br[1], -br[0])
    if (br is None) != (bm is None):
        bld.add("joints", "limit", sub, "conversion_joint_range", expected=list(br) if br else "unlimited",
                actual=list(bm) if bm else "unlimited",
                detail=f"limited on one side only{note}: the other side's joint moves freely", **kw)
    elif br is not None and bm is not None:
        for qty, e, a in (("limit_lower", br[0], bm[0]), ("limit_upper", br[1], bm[1])):
            if abs(e - a) > tol.joint_limit:
                flipped = " (the reference's range negated: its axis is the model's negated)" if s < 0 else ""
                bld.add("joints", qty, sub, expected=e, actual=a, abs_error=abs(e - a),
                        tolerance=tol.joint_limit, detail=f"{qty} differs{note}{flipped}",
                        **_severity(e, a, "conversion_joint_range"), **kw)
    for qty, e, a, cause in (("damping", jr.damping, jm.damping, "conversion_joint_dynamics"),
                             ("friction", jr.friction, jm.friction, "conversion_joint_dynamics"),
                             ("armature", jr.armature, jm.armature, "conversion_armature_dropped"),
                             ("stiffness", jr.stiffness, jm.stiffness, "conversion_joint_spring")):
        if abs(e - a) <= tol.joint_param:
            continue
        likely, why = "model", ""
        if qty == "armature" and (e == 0.0) != (a == 0.0):
            likely = "model" if a == 0.0 else "reference"
            lossy = bld.model if likely == "model" else bld.reference
            why = ("the URDF has no armature (plain URDF has no element for it; Drake's drake:rotor_inertia "
                   "transmission would carry it): it was lost in the conversion" if lossy.source_format == "urdf"
                   else "armature on one side only: the side without it was stripped of it")
        # an armature on one side only was dropped; two different ones are a joint parameter that differs
        cause_used = "conversion_joint_dynamics" if qty == "armature" and e != 0.0 and a != 0.0 else cause
        what = {"armature": "rotor inertia on M(q)'s diagonal", "damping": "viscous damping",
                "friction": "dry friction (MJCF frictionloss)", "stiffness": "joint spring"}[qty]
        bld.add("joints", qty, sub, expected=e, actual=a, abs_error=abs(e - a), **_severity(e, a, cause_used),
                rel_error=abs(e - a) / max(abs(e), abs(a)), tolerance=tol.joint_param,
                detail=f"{what}: reference{note} {e:g}, model {a:g}", likely=likely, why=why, **kw)
    if jm.stiffness != 0.0 and jr.stiffness != 0.0 and abs(s * jr.spring_ref - jm.spring_ref) > tol.joint_limit:
        bld.add("joints", "spring_ref", sub, "conversion_joint_spring", expected=s * jr.spring_ref,
                actual=jm.spring_ref, abs_error=abs(s * jr.spring_ref - jm.spring_ref), tolerance=tol.joint_limit,
                detail=f"the spring's rest position differs{note}", **kw)
    em = jm.limit.effort if jm.limit is not None and jm.limit.effort else None
    er = jr.limit.effort if jr.limit is not None and jr.limit.effort else None
    if em is not None and er is not None and abs(em - er) > tol.joint_param:
        bld.add("joints", "effort", sub, expected=er, actual=em, abs_error=abs(em - er),
                **_severity(er, em, "conversion_effort"),
                rel_error=abs(em - er) / er, tolerance=tol.joint_param,
                detail=f"largest torque (force): reference{note} {er:g}"
                       + (" (an MJCF motor's |gear| x max |ctrl|)" if bld.reference.source_format == "mjcf" else "")
                       + f", model {em:g}", **kw)
    elif (em is None) != (er is None):
        bld.add("joints", "effort", sub, "conversion_one_sided", expected=er, actual=em, severity="warning",
                detail=f"an effort limit on one side only{note}", **kw)


def _shape_key(g: Geometry, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(center (3,) world, (3, 3) world rotation) of a shape placed by the link's world frame `T`."""
    G = T @ g.origin.matrix
    return G[:3, 3], G[:3, :3]


def _shape_size(g: Geometry, R: np.ndarray) -> tuple[str, np.ndarray]:
    """(text, numbers) describing a shape's size independently of its frame: box: its extents along
    the world axes; cylinder/capsule: radius, length and the axis (up to sign); sphere: radius."""
    if g.kind == "box":
        ext = np.abs(R) @ np.asarray(g.size or (0.0, 0.0, 0.0), dtype=float)
        return "world extents", ext
    if g.kind in ("cylinder", "capsule"):
        return "radius, length", np.array([g.radius or 0.0, g.length or 0.0])
    if g.kind == "sphere":
        return "radius", np.array([g.radius or 0.0])
    if g.kind == "mesh":
        return "scale", np.asarray(g.scale, dtype=float)
    return "", np.zeros(0)


def _shape_findings(bld: _Builder, body: BodyPair, sm: _Side, sr: _Side, shift: np.ndarray, how: str) -> None:
    tol = bld.tol
    sub = body.model[0]
    kw: dict[str, Any] = {"ref_subject": body.reference[0], "how": how}
    shapes_m = [(g, *_shape_key(g, sm.frames[n])) for n in body.model for g in bld.model.link(n).collisions
                if g.kind != "plane"]
    shapes_r = [(g, *_shape_key(g, sr.frames[n])) for n in body.reference for g in bld.reference.link(n).collisions
                if g.kind != "plane"]
    free = list(range(len(shapes_r)))
    scale = max(bld.floors.get("length", 1e-3) * 100.0, 1e-3)
    for gm, cm, Rm in shapes_m:
        if not free:
            bld.add("contact", "collision_shape", sub, "conversion_geometry", expected="missing",
                    actual=gm.describe(), detail="a collision shape only in the model", **kw)
            continue

        def cost(k: int, gm: Geometry = gm, cm: np.ndarray = cm) -> float:
            gr, cr, _ = shapes_r[k]
            return float(np.linalg.norm(cm - (cr + shift))) + (0.0 if gr.kind == gm.kind else scale)

        k = min(free, key=cost)
        free.remove(k)
        gr, cr, Rr = shapes_r[k]
        if gr.kind != gm.kind:
            likely, why = "model", ""
            if {gr.kind, gm.kind} == {"capsule", "cylinder"}:
                side, model = ("model", bld.model) if gm.kind == "cylinder" else ("reference", bld.reference)
                if model.source_format == "urdf":
                    likely, why = side, "URDF 1.0 has no capsule: converters write a cylinder instead"
            bld.add("contact", "shape_type", sub, "conversion_geometry", expected=gr.describe(), actual=gm.describe(),
                    detail=f"the reference's {gr.kind} is a {gm.kind} in the model: another contact surface "
                           "(a cylinder's rim against a capsule's round end)", likely=likely, why=why, **kw)
        else:
            what, vr = _shape_size(gr, Rr)
            _, vm = _shape_size(gm, Rm)
            if gm.kind == "mesh" and gr.filename != gm.filename:  # a copy, or rewritten in another format
                _mesh_volume(bld, sub, gr, gm, kw)
            elif vr.shape == vm.shape and vr.size and float(np.max(np.abs(vr - vm))) > tol.shape_size_m:
                qty = "mesh_scale" if gm.kind == "mesh" else "shape_size"
                err = float(np.max(np.abs(vr - vm)))
                bld.add("contact", qty, sub, "conversion_geometry", expected=_fmt(vr), actual=_fmt(vm), abs_error=err,
                        rel_error=err / max(float(np.max(np.abs(vr))), 1e-12), tolerance=tol.shape_size_m,
                        detail=f"{gm.kind} {what}: reference {gr.describe()}, model {gm.describe()}", **kw)
            if gm.kind in ("cylinder", "capsule"):
                ang = _angle(Rm[:, 2], Rr[:, 2])
                ang = min(ang, np.pi - ang)
                if ang > tol.axis_rad:
                    bld.add("contact", "shape_axis", sub, "conversion_geometry", expected=_fmt(Rr[:, 2]),
                            actual=_fmt(Rm[:, 2]), abs_error=ang, tolerance=tol.axis_rad,
                            detail=f"the {gm.kind}'s axis differs by {np.degrees(ang):.3g} deg (in world at q = 0)",
                            **kw)
        d = float(np.linalg.norm(cm - (cr + shift)))
        if d > tol.shape_size_m:
            bld.add("contact", "shape_position", sub, "conversion_geometry", expected=_fmt(cr + shift), actual=_fmt(cm),
                    abs_error=d, tolerance=tol.shape_size_m,
                    detail=f"the {gm.kind}'s center is {d:.3g} m away from the reference's (relative to the body's "
                           "joint, at q = 0)", **kw)
    for k in free:
        gr = shapes_r[k][0]
        bld.add("contact", "collision_shape", sub, "conversion_geometry", expected=gr.describe(), actual="missing",
                detail="a collision shape of the reference is missing in the model", **kw)


MESH_VOLUME_REL = 0.01  # two mesh files of one shape (converted .dae -> .stl, re-tessellated) differ less


def _mesh_volume(bld: _Builder, sub: str, gr: Geometry, gm: Geometry, kw: dict[str, Any]) -> None:
    """Two mesh files for one shape (a copy, or a converter rewrote .dae as .stl or .obj, perhaps with
    the unit baked into the vertices, so their scales say nothing alone): their scaled
    volumes (trimesh; the convex hull's for an open mesh) compared, an error beyond MESH_VOLUME_REL (a
    scale lost or a unit changed); info when a volume cannot be computed."""
    from .. import meshes

    try:
        vr = meshes.props(gr.filename or "", gr.scale).volume
        vm = meshes.props(gm.filename or "", gm.scale).volume
    except Exception as exc:  # an unreadable or flat mesh: nothing to compare
        bld.add("contact", "mesh_file", sub, "conversion_one_sided", expected=gr.filename, actual=gm.filename,
                severity="info", detail=f"different mesh files whose volumes cannot be compared ({exc})", **kw)
        return
    rel = abs(vm - vr) / max(vr, vm, 1e-300)
    if rel > MESH_VOLUME_REL:
        ratio = (vm / vr) ** (1.0 / 3.0) if vr > 0 else float("inf")
        bld.add("contact", "mesh_volume", sub, "conversion_geometry", expected=vr, actual=vm, abs_error=abs(vm - vr),
                rel_error=rel, tolerance=MESH_VOLUME_REL,
                detail=f"different mesh files ({Path(gr.filename or '').name} scale {gr.scale}, "
                       f"{Path(gm.filename or '').name} scale {gm.scale}) of volumes {vr:.4g} and {vm:.4g} m^3: "
                       f"a length scale of {ratio:.4g}", **kw)


def _contact_params(model: RobotModel, links: tuple[str, ...]) -> dict[str, float]:
    for n in links:
        c = model.link(n).contact
        if c is not None and c.declared():
            return c.declared()
    return {}


def _body_findings(bld: _Builder, body: BodyPair, sm: _Side, sr: _Side, shift: np.ndarray, how: str,
                   one_sided: dict[str, list[str]]) -> None:
    tol, floors = bld.tol, bld.floors
    sub = body.model[0]
    kw: dict[str, Any] = {"ref_subject": body.reference[0], "how": how}
    mm, cm, Im = sm.composite(body.model)
    mr, cr, Ir = sr.composite(body.reference)
    if body.joint is None and not (bld.model.floating and bld.reference.floating):
        # a root welded to the world (on either side: a base difference is its own finding) moves
        # with the world: its mass is no part of the dynamics (MJCF's world body has none)
        mm = mr = 0.0
    merged = ""
    if len([n for n in body.model if bld.model.link(n).mass > 0]) > 1 or \
            len([n for n in body.reference if bld.reference.link(n).mass > 0]) > 1:
        merged = (f"; composite bodies: model {'+'.join(body.model)}, reference {'+'.join(body.reference)}")
    if abs(mm - mr) > tol.mass_rel * max(mr, floors["mass"]):
        bld.add("inertia", "mass", sub, expected=mr, actual=mm, abs_error=abs(mm - mr),
                **_severity(mr, mm, "conversion_inertial"),
                rel_error=abs(mm - mr) / max(mr, floors["mass"]), tolerance=tol.mass_rel,
                detail=f"mass {mr:.6g} kg in the reference, {mm:.6g} kg in the model{merged}", **kw)
    if mm > 0 and mr > 0:
        d = float(np.linalg.norm(cm - (cr + shift)))
        if d > tol.com_m:
            bld.add("inertia", "com", sub, "conversion_inertial", expected=_fmt(cr + shift), actual=_fmt(cm),
                    abs_error=d, rel_error=d / max(float(np.linalg.norm(cm)), floors["length"]), tolerance=tol.com_m,
                    detail=f"the COM (in world at q = 0, relative to the body's joint) is {d:.3g} m off{merged}", **kw)
        scale = max(float(np.max(np.abs(Ir))), floors["tensor_per_kg"] * mr)
        err = float(np.max(np.abs(Im - Ir)))
        if err / scale > tol.inertia_rel:
            bld.add("inertia", "inertia", sub, "conversion_inertial", expected=np.round(Ir, 9).tolist(), actual=np.round(Im, 9).tolist(), abs_error=err, rel_error=err / scale,
                    tolerance=tol.inertia_rel,
                    detail=f"the inertia about the COM (in world at q = 0) differs by {err:.3g} kg m^2{merged}",
                    **_likely_inertia(body, sm, sr, mm, mr, Im, Ir), **kw)
    _shape_findings(bld, body, sm, sr, shift, how)
    pm, pr = _contact_params(bld.model, body.model), _contact_params(bld.reference, body.reference)
    for key in sorted(set(pm) | set(pr)):
        if key in pm and key in pr:
            if abs(pm[key] - pr[key]) > tol.friction:
                bld.add("contact", key, sub, "conversion_contact", expected=pr[key], actual=pm[key],
                        abs_error=abs(pm[key] - pr[key]), rel_error=abs(pm[key] - pr[key]) / max(abs(pr[key]), abs(pm[key])),
                        tolerance=tol.friction, detail=f"{key}: reference {pr[key]:g}, model {pm[key]:g}", **kw)
        elif pm or pr:
            value = (pm if key in pm else pr)[key]
            if key == "lateral_friction" and bld.default_friction is not None and \
                    abs(value - bld.default_friction) <= bld.tol.friction:
                continue  # the undeclared side gets the same friction in every build
            side = "model" if key in pm else "reference"
            one_sided.setdefault(key, []).append(f"{sub} ({side} {(pm if key in pm else pr)[key]:g})")


def _shape_tensor(side: _Side, links: tuple[str, ...], mass: float) -> np.ndarray | None:
    """The inertia (about the COM, world at q = 0) that a single link's collision shapes would have
    filled uniformly to `mass`; None for a composite or a link without a usable shape."""
    from .inertia import shape_inertia

    heavy = [n for n in links if side.model.link(n).mass > 0.0]
    if len(heavy) != 1 or mass <= 0.0:
        return None
    try:
        got = shape_inertia(side.model.link(heavy[0]), mass)
    except Exception:  # a mesh that cannot be read or encloses no volume: no opinion
        return None
    if got is None:
        return None
    R = side.frames[heavy[0]][:3, :3]
    return np.asarray(R @ got[1] @ R.T)


def _likely_inertia(body: BodyPair, sm: _Side, sr: _Side, mm: float, mr: float, Im: np.ndarray,
                    Ir: np.ndarray) -> dict[str, str]:
    """The side whose tensor no body can have (principal moments break A + B >= C), if only one;
    else the side whose tensor is far (> 30%) from its own collision shapes' while the other's is
    near them (< 10%)."""
    from .inertia import violates_triangle

    if violates_triangle(Im) != violates_triangle(Ir):
        side = "model" if violates_triangle(Im) else "reference"
        return {"likely": side, "why": f"the {side}'s tensor breaks the triangle inequality: no body has it"}
    Sm, Sr = _shape_tensor(sm, body.model, mm), _shape_tensor(sr, body.reference, mr)
    if Sm is None or Sr is None:
        return {}

    def off(I: np.ndarray, S: np.ndarray) -> float:
        return float(np.max(np.abs(I - S)) / max(float(np.max(np.abs(S))), 1e-300))

    em, er = off(Im, Sm), off(Ir, Sr)
    if em > 0.3 and er < 0.1:
        return {"likely": "model", "why": f"the model's tensor is {em:.0%} off its own collision shapes' at its mass, "
                                          f"the reference's {er:.0%}"}
    if er > 0.3 and em < 0.1:
        return {"likely": "reference", "why": f"the reference's tensor is {er:.0%} off its own collision shapes' at "
                                              f"its mass, the model's {em:.0%}"}
    return {}


def compare_models(model: RobotModel, reference: RobotModel, tol: Tolerances, floors: dict[str, float],
                   default_friction: float | None = None) -> CrossResult:
    """Every physical difference between `model` and `reference` found statically (structure,
    joints, inertia, contact) after matching them (`match_models`); the axis signs of the matching
    are set. `floors`: the absolute floors of the relative comparisons (`Tolerances.floors` of the
    model). `default_friction`: the lateral friction a body that declares none gets in the builds
    (`SimConfig.contact.friction`): a friction declared on one side only that equals it (to
    `tol.friction`) is the same physics and no finding (an MJCF states every geom's friction, a URDF
    leaves it to the engine); None: every one-sided friction is a finding. Dynamics:
    `expected_snapshot` then the dynamics comparator."""
    matching = match_models(model, reference)
    bld = _Builder(model, reference, tol, floors)
    bld.default_friction = default_friction
    sm, sr = _Side.at_zero(model), _Side.at_zero(reference)
    if model.base != reference.base:
        bld.add("structure", "root_joint", model.root, "conversion_base", ref_subject=reference.root,
                expected=reference.base, actual=model.base,
                detail=f"the reference's base is {reference.base} ({reference.base_reason}), the model's {model.base} "
                       f"({model.base_reason})")
    for name, what in matching.only_model:
        if what == "movable joint":
            bld.add("structure", "joint", name, "conversion_dof", expected=_fixed_text(reference, name),
                    actual=model.joint(name).type,
                    detail="a movable joint of the model has no counterpart in the reference (by name or tree "
                           f"position): the two robots have different degrees of freedom{_fixed_note(reference, name)}")
    for name, what in matching.only_reference:
        if what == "movable joint":
            bld.add("structure", "joint", name, "conversion_dof", expected=reference.joint(name).type,
                    actual=_fixed_text(model, name),
                    detail="a movable joint of the reference has no counterpart in the model: the two robots have "
                           f"different degrees of freedom{_fixed_note(model, name)}")
    # joints, in tree order; each rotational joint's anchor (and what hangs below it) is compared
    # relative to its parent's reference point, so a misplaced joint is named once
    # the root: a link both root bodies have (a URDF's root link welded into MJCF's world body at some
    # position: where a fixed base is mounted is no part of the robot), else the two roots
    root_body = matching.bodies[0]
    common = [n for n in root_body.model if n in set(root_body.reference)]
    anchor_m = common[-1] if common else model.root
    anchor_r = common[-1] if common else reference.root
    ref_point: dict[str | None, tuple[np.ndarray, np.ndarray]] = {
        None: (sm.frames[anchor_m][:3, 3], sr.frames[anchor_r][:3, 3])}
    notes: list[str] = []
    offset = ref_point[None][1] - ref_point[None][0]
    if float(np.linalg.norm(offset)) > tol.position_m:
        notes.append(f"root link {anchor_r!r} sits at {_fmt(ref_point[None][1])} in the reference's world and "
                     f"{anchor_m!r} at {_fmt(ref_point[None][0])} in the model's: compared relative to it")
    owner_m = {lk: b.joint for b in matching.bodies for lk in b.model}
    pairs = []
    for p in matching.joints:
        jm, jr = model.joint(p.model), reference.joint(p.reference)
        pm, pr = ref_point[owner_m[jm.parent]]
        shift = pm - pr
        am, ar = sm.axis(p.model), sr.axis(p.reference)
        sign = -1.0 if float(am @ ar) < 0.0 else 1.0
        p = replace(p, sign=sign)
        pairs.append(p)
        note = _name_note(p.model, p.reference)
        kw: dict[str, Any] = {"ref_subject": p.reference, "how": p.how}
        ang = _angle(am, sign * ar)
        if sign < 0:
            bld.add("structure", "joint_axis", p.model, "conversion_axis_flipped", expected=_fmt(ar), actual=_fmt(am),
                    abs_error=np.pi - ang, tolerance=tol.axis_rad,
                    detail=f"the axis is the reference's negated{note} (in world at q = 0): the joint's coordinate, "
                           "velocity and torque change sign (the dynamics below are compared with q mapped as -q)",
                    **kw)
        if ang > tol.axis_rad and _type_class(jm) == _type_class(jr):
            bld.add("structure", "joint_axis", p.model, "conversion_joint_axis", expected=_fmt(sign * ar),
                    actual=_fmt(am), abs_error=ang, tolerance=tol.axis_rad,
                    detail=f"axes {np.degrees(ang):.3g} deg apart (in world at q = 0){note}", **kw)
        a_m, a_r = sm.anchor(p.model), sr.anchor(p.reference) + shift
        if jm.type in ROTATIONAL and jr.type in ROTATIONAL:
            foot = _line_foot(a_m, a_r, sign * ar)
            d = float(np.linalg.norm(a_m - foot))
            if d > tol.position_m:
                bld.add("kinematics", "joint_anchor", p.model, "conversion_joint_placement", expected=_fmt(foot),
                        actual=_fmt(a_m), abs_error=d, rel_error=d / max(float(np.linalg.norm(a_m - pm)),
                                                                          floors["length"]),
                        tolerance=tol.position_m,
                        detail=f"the joint's axis line is {d:.3g} m away from the reference's{note} (in world at "
                               "q = 0, relative to the joint above it)", **kw)
            ref_point[p.model] = (a_m, foot - shift)
        else:
            ref_point[p.model] = (pm, pr)
        _joint_findings(bld, p, jm, jr)
    matching = replace(matching, joints=tuple(pairs), notes=tuple(notes))
    how_of = {p.model: p.how for p in pairs}
    one_sided: dict[str, list[str]] = {}
    for body in matching.bodies:
        pm, pr = ref_point[body.joint]
        _body_findings(bld, body, sm, sr, pm - pr, how_of.get(body.joint or "", "root"), one_sided)
    for key, where in sorted(one_sided.items()):
        severity = "warning" if key == "lateral_friction" else "info"
        bld.add("contact", key, "*", "conversion_one_sided", severity=severity, expected=None, actual=None,
                detail=f"{key} declared on one side only (the other uses its engine's default): {', '.join(where)}")
    vel = [f"{p.model} ({'model' if vm is not None else 'reference'} {vm if vm is not None else vr:g})"
           for p in pairs
           for vm, vr in [(_velocity(model.joint(p.model)), _velocity(reference.joint(p.reference)))]
           if (vm is None) != (vr is None)]
    if vel:
        bld.add("joints", "velocity", "*", "conversion_one_sided", severity="info",
                detail=f"a velocity limit on one side only (MJCF has none; engines do not enforce URDF's): "
                       f"{', '.join(vel)}")
    return CrossResult(matching, bld.out)


def _fixed_text(model: RobotModel, name: str) -> str:
    """'missing', or how the other model holds a joint of that name that does not move."""
    try:
        j = model.joint(name)
    except KeyError:
        return "missing"
    return f"fixed ({j.locked_type}, locked)" if j.locked_type else "fixed"


def _fixed_note(model: RobotModel, name: str) -> str:
    """Why the other model's joint of the same name does not move, when it has one."""
    try:
        j = model.joint(name)
    except KeyError:
        return ""
    if j.locked_type:
        return (f"; the other model declares it {j.locked_type} with lower == upper, which URDF locks (MuJoCo's "
                "URDF importer ignores an equal range and lets it move: urdf_revolute_zero_range)")
    return "; the other model has it as a fixed joint (welded in the conversion)"


def _velocity(j: Joint) -> float | None:
    return j.limit.velocity if j.limit is not None and j.limit.velocity else None


# -- dynamics ----------------------------------------------------------------------------------------------

def map_samples(samples: Samples, model: RobotModel, reference: RobotModel, matching: Matching) -> Samples:
    """The model's samples as the same physical states of `reference`: each matched coordinate,
    velocity and torque carried over with the pair's axis sign; a joint only the reference has at 0."""
    idx_m = {n: i for i, n in enumerate(model.joint_names)}
    idx_r = {n: i for i, n in enumerate(reference.joint_names)}
    where = [(idx_m[p.model], idx_r[p.reference], p.sign) for p in matching.joints]

    def vec(v: np.ndarray) -> np.ndarray:
        out = np.zeros(reference.dof)
        for i, k, s in where:
            out[k] = s * float(v[i])
        return out

    kin = np.array([vec(q) for q in samples.kin_q]).reshape(len(samples.kin_q), reference.dof)
    states = tuple(State(vec(s.q), vec(s.dq), s.root_pos, s.root_quat, s.root_lin_vel, s.root_ang_vel)
                   for s in samples.states)
    taus = np.array([vec(t) for t in samples.taus]).reshape(len(samples.taus), reference.dof)
    return Samples(kin, states, taus, samples.seed)


def expected_snapshot(model_snap: Snapshot, model: RobotModel, reference: RobotModel, matching: Matching,
                      samples: Samples, config: SimConfig) -> Snapshot:
    """The reference's dynamics at the model's samples mapped through `matching`, in the model's joint
    order and signs, as a snapshot that the dynamics comparator holds `model_snap` against. A joint
    of the model that has no counterpart keeps the model's own values (its difference is a structure
    finding); with such a joint, or one only the reference has, forward dynamics are not comparable
    and keep the model's own (said in `notes`)."""
    ref = model_snapshot(reference, map_samples(samples, model, reference, matching), config,
                         engine="reference", load="declared")
    out = Snapshot("reference", "declared", model=model)
    assert (ref.M is not None and ref.gravity is not None and ref.bias is not None and ref.qdd is not None
            and model_snap.M is not None and model_snap.gravity is not None and model_snap.bias is not None
            and model_snap.qdd is not None), "model snapshots compute every dynamics quantity"
    idx_m = {n: i for i, n in enumerate(model.joint_names)}
    idx_r = {n: i for i, n in enumerate(reference.joint_names)}
    rows = np.array([idx_m[p.model] for p in matching.joints], dtype=int)
    cols = np.array([idx_r[p.reference] for p in matching.joints], dtype=int)
    signs = np.array([p.sign for p in matching.joints], dtype=float)
    M = model_snap.M.copy()
    M[np.ix_(np.arange(len(M)), rows, rows)] = ref.M[np.ix_(np.arange(len(M)), cols, cols)] * np.outer(signs, signs)
    out.M = M
    complete = len(matching.joints) == model.dof == reference.dof
    for key in ("gravity", "bias", "qdd"):
        v = getattr(model_snap, key).copy()
        if key != "qdd" or complete:
            v[:, rows] = getattr(ref, key)[:, cols] * signs
        setattr(out, key, v)
    if not complete:
        out.notes.append("forward dynamics not compared: the models do not have the same degrees of freedom")
    return out


# the static differences that change M(q), gravity, bias forces or qdd (joint damping, friction,
# limits, effort limits, contact and geometry do not enter them)
_DYNAMIC = {("structure", q) for q in ("joint", "joint_type", "joint_axis", "root_joint")} | {
    ("kinematics", "joint_anchor"), ("inertia", "mass"), ("inertia", "com"), ("inertia", "inertia"),
    ("joints", "armature"), ("joints", "stiffness"), ("joints", "spring_ref")}


def attribute_dynamics(findings: list[Finding]) -> list[Finding]:
    """Dynamics findings of the model against its reference follow from its static errors of a kind
    that enters the dynamics: the cause (and fix) of the first, by category order (a placement, an
    axis, an inertial, then a joint's armature or spring), named in the detail. Without such a static
    error the dynamics finding keeps its cause and says that none explains it."""
    static = [f for f in findings if f.engine == "model" and f.severity == "error" and f.category != "dynamics"
              and f.cause.startswith("conversion_") and (f.category, f.quantity) in _DYNAMIC]
    if not static:
        return [replace(f, detail=f"{f.detail}; no static difference of a kind that enters the dynamics "
                                  "(placement, axis, inertial, armature, spring) was found")
                if f.engine == "model" and f.category == "dynamics" else f for f in findings]
    order = {"structure": 0, "kinematics": 1, "inertia": 2}
    root = min(static, key=lambda f: (order.get(f.category, 3), f.quantity != "armature"))
    out = []
    for f in findings:
        if f.engine == "model" and f.category == "dynamics" and f.cause in ("reference_mismatch", "unknown"):
            alike = sum(g.cause == root.cause for g in static) - 1
            others = len(static) - 1 - alike
            tail = ", ".join(t for t in (f"{alike} more of this kind" if alike else "",
                                         f"{others} static difference(s) of other kinds" if others else "") if t)
            f = replace(f, cause=root.cause, fix=lookup(root.cause).fix,
                        detail=f"{f.detail}; follows from {root.category} {root.quantity} of {root.subject!r}"
                               + (f" ({tail})" if tail else ""))
        out.append(f)
    return out

