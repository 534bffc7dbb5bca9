"""Contact: which collision shapes each source really has (kind, size, pose; lost capsules, mesh
scale), and the contact coefficients (friction, restitution, stiffness, damping) of every link that
can touch anything."""

from __future__ import annotations

import os
import warnings
from dataclasses import replace

import numpy as np

from ..findings import Finding, Tolerances
from ..kinematics import link_frames
from ..model import ContactParams, Geometry, Pose
from . import Context, default_cause, explained, finding, merged_detail, r6, rot_angle
from .snapshot import Snapshot


def _size(g: Geometry) -> list[float]:
    # the sizes each kind has (urdf.py reads them, or rejects the file): asserted where read
    if g.kind == "box":
        assert g.size is not None, "a box has a size"
        return [float(v) for v in g.size]
    if g.kind == "sphere":
        assert g.radius is not None, "a sphere has a radius"
        return [float(g.radius)]
    if g.kind in ("cylinder", "capsule"):
        assert g.radius is not None and g.length is not None, f"a {g.kind} has a radius and a length"
        return [float(g.radius), float(g.length)]
    if g.kind == "plane":  # the half-space n.x <= d in the link frame: unit normal n and offset d
        n = g.origin.rotation @ np.asarray(g.normal, dtype=float)
        return [*(float(v) for v in n), float(n @ np.asarray(g.origin.xyz, dtype=float))]
    return [float(v) for v in g.scale]


def _pose_error(e: Geometry, a: Geometry) -> tuple[float, float]:
    dp = float(np.linalg.norm(np.subtract(e.origin.xyz, a.origin.xyz)))
    Re, Ra = e.origin.rotation, a.origin.rotation
    if e.kind == "sphere":
        return dp, 0.0
    if e.kind == "plane":  # normal and offset are its size (`_size`): the rest of the pose is free
        return 0.0, 0.0
    if e.kind in ("cylinder", "capsule"):  # symmetric about z, and end for end
        c = abs(float(Re[:, 2] @ Ra[:, 2]))
        return dp, float(np.arccos(np.clip(c, -1, 1)))
    if e.kind == "box":  # a half turn about any axis leaves a box unchanged
        return dp, float(np.arccos(np.clip(np.abs(Re.T @ Ra).diagonal().min(), -1, 1)))
    return dp, rot_angle(Re, Ra)


def _compare_shapes(actual: Snapshot, link: str, e: Geometry, match: Geometry, tol: Tolerances, cause: str,
                    is_model: bool) -> list[Finding]:
    out: list[Finding] = []
    es, as_ = _size(e), _size(match)
    if e.kind == "mesh":
        same_file = os.path.basename(e.filename or "") == os.path.basename(match.filename or "")
        if not same_file and is_model:
            out.append(finding(actual, "contact", "mesh_file", link, expected=e.filename, actual=match.filename,
                               severity="error", cause=cause))
    d = float(np.max(np.abs(np.subtract(es, as_)))) if len(es) == len(as_) else np.inf
    scale_tol = 1e-6 if e.kind == "mesh" else tol.shape_size_m
    if d > scale_tol:
        quantity = "mesh_scale" if e.kind == "mesh" else "shape_size"
        out.append(finding(actual, "contact", quantity, link, expected=es, actual=as_, abs_error=d,
                           rel_error=d / max(max(np.abs(es)), 1e-12), tolerance=scale_tol, severity="error",
                           cause=cause, detail=f"{e.describe()} vs {match.describe()}"))
    dp, da = _pose_error(e, match)
    if dp > tol.shape_size_m or da > tol.orientation_rad:
        out.append(finding(actual, "contact", "shape_pose", link,
                           expected={"xyz": r6(e.origin.xyz), "rpy": r6(e.origin.rpy)},
                           actual={"xyz": r6(match.origin.xyz), "rpy": r6(match.origin.rpy)},
                           abs_error=max(dp, da), tolerance=tol.shape_size_m, severity="error", cause=cause,
                           detail=f"{e.describe()}: {dp:.3g} m and {da:.3g} rad off in the link frame"))
    return out


def _pick(e: Geometry, remaining: list[Geometry], actual: Snapshot, link: str) -> Geometry | None:
    """The engine's shape that stands for `e`: same kind, and for a mesh the same file first; a
    mesh the engine's own loader cannot read (its backend says so: case 'file:PATH') matches no
    other mesh (an engine that drops an ASCII STL and makes its cylinders meshes: those must not be
    taken for each other)."""
    # same kind, nearest pose first: a link holding shapes of fused links has several of one kind
    same = sorted((a for a in remaining if a.kind == e.kind), key=lambda a: _pose_error(e, a))
    if e.kind != "mesh" or not same:
        return same[0] if same else None
    base = os.path.basename(e.filename or "")
    for a in same:
        if os.path.basename(a.filename or "") == base:
            return a
    if explained(actual, "contact", "collision_shape", link, f"file:{e.filename}") is not None:
        return None
    return same[0]


def compare(actual: Snapshot, ctx: Context) -> list[Finding]:
    if not actual.ok:
        return []
    with warnings.catch_warnings():  # rpy of a pitch of pi/2 is still a valid pose
        warnings.filterwarnings("ignore", message="Gimbal lock")
        return _compare(actual, ctx)


def _compare(actual: Snapshot, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    tol = ctx.tol
    exp_model, act_model = ctx.expected.held_model, actual.held_model
    act_links = {link.name: link for link in act_model.links}
    is_model = actual.engine == "model"
    members: dict[str, list[str]] = {}
    for name, holder in actual.merged_links.items():
        members.setdefault(holder, []).append(name)
    frames = link_frames(exp_model) if members else {}
    for link in exp_model.links:
        if link.name in actual.merged_links or link.name not in act_links:
            continue
        a_link = act_links[link.name]
        ecol, acol = list(link.collisions), list(a_link.collisions)
        from_member: dict[int, str] = {}  # id of an expected shape -> the merged link it belongs to
        for name in members.get(link.name, []):  # shapes of links fused into this body
            T = np.linalg.inv(frames[link.name]) @ frames[name]
            for g in exp_model.link(name).collisions:
                ecol.append(replace(g, origin=Pose.from_matrix(T @ g.origin.matrix)))
                from_member[id(ecol[-1])] = name
        cause = default_cause(actual)
        # -- shapes ---------------------------------------------------------------------------
        remaining = list(acol)
        unmatched: list[tuple[Geometry, Geometry | None]] = []  # (declared, the source's of another kind)
        # a source that names its shapes after the declared ones (the name, or '#k' for the k-th
        # unnamed one) is paired by name first: kinds alone mispair a link with two shapes
        keys = [e.name or f"#{k}" for k, e in enumerate(link.collisions)] + [None] * (len(ecol) - len(link.collisions))
        by_name = {}
        for e, key in zip(ecol, keys):
            a = next((a for a in remaining if key is not None and a.name == key), None)
            if a is not None and a.kind == e.kind and max(_pose_error(e, a)) > 1e-6:
                a = None  # same name, same kind, elsewhere: a fused link's shape numbered alike; pair by pose
            if a is not None:
                remaining.remove(a)
                by_name[id(e)] = a
        for e in ecol:
            match = by_name.get(id(e))
            if match is not None and match.kind != e.kind:
                unmatched.append((e, match))
                continue
            match = match or _pick(e, remaining, actual, link.name)
            if match is None:
                unmatched.append((e, None))
                continue
            if match in remaining:
                remaining.remove(match)
            out.extend(_compare_shapes(actual, link.name, e, match, tol, cause, is_model))
        for e, a in unmatched:
            if a is None and remaining:
                a = remaining.pop(0)
            if a is not None:  # a shape of another kind in its place
                c, severity, detail = cause, "error", f"shape {e.name or e.kind!r} is a {a.kind} in {actual.name}"
                why = explained(actual, "contact", "shape_kind", link.name, f"{e.kind}->{a.kind}")
                if why is not None:  # a conversion the engine makes on purpose
                    c, severity, detail = why.cause, why.severity or "warning", merged_detail(why.detail, detail)
                out.append(finding(actual, "contact", "shape_kind", link.name, expected=e.describe(),
                                   actual=a.describe(), severity=severity, cause=c, detail=detail))
                continue
            c, severity = cause, "error"
            detail = f"shape {e.name or e.kind!r} not found in {actual.name}"
            # what the backend says of this shape: a shape of a link merged into this body, a mesh
            # file its own loader cannot read, a kind of shape it drops or cannot place here
            cases: list[tuple[str, str | None]] = []  # (case, the comparator's own detail for it)
            if id(e) in from_member:
                cases.append(("merged", (f"shape of massless link {from_member[id(e)]!r}, merged into body "
                                         f"{link.name!r} behind a moving joint: dropped")))
            if e.kind == "mesh":
                cases.append((f"file:{e.filename}", None))
            cases.append((e.kind, None))
            for case, own in cases:
                why = explained(actual, "contact", "collision_shape", link.name, case)
                if why is not None:
                    c, severity = why.cause, why.severity or severity
                    detail = merged_detail(why.detail, own or detail)
            out.append(finding(actual, "contact", "collision_shape", link.name, expected=e.describe(),
                               actual="missing", severity=severity, cause=c, detail=detail))
        for a in remaining:
            out.append(finding(actual, "contact", "collision_shape", link.name, expected="absent", actual=a.describe(),
                               severity="error", cause=cause))
        # -- coefficients -----------------------------------------------------------------------
        if not ecol or not acol:
            continue
        declared = link.contact or ContactParams()
        got = a_link.contact or ContactParams()
        if is_model:
            pairs = [(k, getattr(declared, k), getattr(got, k)) for k in
                     ("lateral_friction", "rolling_friction", "spinning_friction", "restitution", "stiffness", "damping")]
            for k, ev, av in pairs:
                if ev != av and (ev is None or av is None or abs(ev - av) > tol.friction):
                    out.append(finding(actual, "contact", k, link.name, expected=ev, actual=av,
                                       abs_error=None if ev is None or av is None else abs(ev - av),
                                       tolerance=tol.friction, severity="error", cause=cause))
            continue
        ef = declared.lateral_friction if declared.lateral_friction is not None else ctx.config.contact.friction
        af = got.lateral_friction
        if af is not None and abs(af - ef) > tol.friction:
            c, detail = cause, ""
            out.append(finding(actual, "contact", "lateral_friction", link.name, expected=ef, actual=af,
                               abs_error=abs(af - ef), tolerance=tol.friction, severity="error", cause=c,
                               detail=detail))
        er = declared.restitution if declared.restitution is not None else ctx.config.contact.restitution
        ar = got.restitution
        if ar is not None and abs(ar - er) > tol.friction:
            out.append(finding(actual, "contact", "restitution", link.name, expected=er, actual=ar,
                               abs_error=abs(ar - er), tolerance=tol.friction, severity="error", cause=cause))
        if (declared.stiffness is not None and got.stiffness is not None and "contact_stiffness" not in actual.not_held
                and abs(got.stiffness - declared.stiffness) > tol.friction * max(declared.stiffness, 1.0)):
            out.append(finding(actual, "contact", "contact_stiffness", link.name, expected=declared.stiffness,
                               actual=got.stiffness, abs_error=abs(got.stiffness - declared.stiffness),
                               severity="error", cause=cause))
    return out
