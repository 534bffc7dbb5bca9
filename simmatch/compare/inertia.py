"""Inertia: mass, COM offset and inertia tensor (principal moments and axes) of every link,
declared vs loaded, plus what the link's collision shapes would give at the declared mass
(analytic for box, sphere, cylinder and capsule; trimesh for meshes, with their scale), so that
"the engine recomputed the inertia from the collision shape" shows as such.

Tensors are compared about the COM, expressed in the link frame, relative to the largest
principal moment.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import meshes
from ..findings import Finding
from ..kinematics import link_frames, massless_subtree_joints
from ..model import Geometry, Inertial, Link, RobotModel
from . import Context, default_cause, explained, finding, merged_detail, r6
from .snapshot import Snapshot


# -- inertia of shapes ---------------------------------------------------------------------------
def _mesh_props(filename: str, scale: tuple[float, ...]) -> tuple[float, tuple[float, ...], tuple[tuple[float, ...], ...]]:
    """(volume, centre of mass, 3x3 unit-density inertia about it) of a mesh, scaled (its convex
    hull when the mesh is not closed). Raises meshes.NotComputable for a flat mesh, with why."""
    mp = meshes.props(filename, scale)
    return mp.volume, mp.com, mp.inertia


def shape_props(g: Geometry) -> tuple[float, np.ndarray, np.ndarray]:
    """(volume m^3, COM in the link frame, unit-density inertia about that COM in the link frame) of
    a uniformly filled collision shape. Raises ValueError for an infinite plane,
    meshes.NotComputable for a flat mesh, meshes.MeshProblem for an unusable mesh file."""
    R, p = g.origin.rotation, np.asarray(g.origin.xyz, float)
    # the sizes each kind has (urdf.py reads them, or rejects the file): asserted where read
    if g.kind == "box":
        assert g.size is not None, "a box has a size"
        x, y, z = g.size
        v = x * y * z
        I = v / 12.0 * np.diag([y * y + z * z, x * x + z * z, x * x + y * y])
        c = np.zeros(3)
    elif g.kind == "sphere":
        assert g.radius is not None, "a sphere has a radius"
        r = g.radius
        v = 4.0 / 3.0 * np.pi * r ** 3
        I = np.eye(3) * 0.4 * v * r * r
        c = np.zeros(3)
    elif g.kind == "cylinder":
        assert g.radius is not None and g.length is not None, "a cylinder has a radius and a length"
        r, h = g.radius, g.length
        v = np.pi * r * r * h
        I = np.diag([v * (3 * r * r + h * h) / 12.0] * 2 + [0.5 * v * r * r])
        c = np.zeros(3)
    elif g.kind == "capsule":
        assert g.radius is not None and g.length is not None, "a capsule has a radius and a length"
        r, h = g.radius, g.length
        vc = np.pi * r * r * h
        vs = 4.0 / 3.0 * np.pi * r ** 3
        v = vc + vs
        izz = vc * r * r / 2.0 + vs * 2.0 * r * r / 5.0
        # hemispheres: own inertia 2/5 m r^2 (about their joint centre), COM 3r/8 out
        ixx = vc * (3 * r * r + h * h) / 12.0 + vs * (2.0 * r * r / 5.0 + h * h / 4.0 + 3.0 * h * r / 8.0)
        I = np.diag([ixx, ixx, izz])
        c = np.zeros(3)
    elif g.kind == "plane":
        raise ValueError("an infinite plane has no volume")
    else:
        assert g.filename is not None, "a mesh has a file name"
        vol, com, Im = _mesh_props(g.filename, tuple(g.scale))
        v, c, I = vol, np.asarray(com), np.asarray(Im)
    return v, p + R @ c, R @ I @ R.T


def shape_inertia(link: Link, mass: float,
                  props: Callable[[Geometry], tuple[float, np.ndarray, np.ndarray]] = shape_props,
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """(COM, inertia about it, link frame) of the link's collision shapes filled with uniform
    density so that they weigh `mass`; None without collision shapes or volume, or with an infinite
    plane among them. `props(geometry) -> (volume, COM, unit-density inertia)` gives each shape's
    share (`shape_props`, exact; an engine's backend may give its own rule). Raises
    meshes.NotComputable when a mesh encloses no volume (flat), meshes.MeshProblem for an unusable
    mesh file."""
    if any(g.kind == "plane" for g in link.collisions):
        return None
    parts = [props(g) for g in link.collisions]
    vol = sum(v for v, _, _ in parts)
    if not parts or vol <= 0:
        return None
    rho = mass / vol
    com = sum((v * c for v, c, _ in parts), np.zeros(3)) / vol
    I = np.zeros((3, 3))
    for v, c, Ic in parts:
        d = c - com
        I += rho * (Ic + v * (d @ d * np.eye(3) - np.outer(d, d)))
    return com, I


# -- composite of fused bodies -------------------------------------------------------------------
def composite(model: RobotModel, holder: str, members: list[str]) -> Inertial | None:
    """The inertial of body `holder` with the `members` links (rigidly attached at q = 0) fused in,
    in the holder's link frame (what MuJoCo's fusestatic makes of them). The members are summed in
    the model's link order, whatever order they come in: the same fused inertial to the last bit."""
    F = link_frames(model)
    Th_inv = np.linalg.inv(F[holder])
    m_tot, mc, parts = 0.0, np.zeros(3), []
    given = set(members)
    for name in [holder, *(link.name for link in model.links if link.name in given and link.name != holder)]:
        link = model.link(name)
        if link.inertial is None or link.inertial.mass <= 0:
            continue
        T = Th_inv @ F[name]
        c = (T @ np.append(link.inertial.com, 1.0))[:3]
        I = T[:3, :3] @ link.inertial.tensor_in_link @ T[:3, :3].T
        parts.append((link.inertial.mass, c, I))
        m_tot += link.inertial.mass
        mc += link.inertial.mass * c
    if m_tot <= 0:
        return None
    com = mc / m_tot
    I = np.zeros((3, 3))
    for m, c, Ic in parts:
        d = c - com
        I += Ic + m * (d @ d * np.eye(3) - np.outer(d, d))
    from ..model import Pose

    return Inertial(m_tot, Pose(tuple(com)), tuple(map(tuple, I)))


def axes_angle(Ie: np.ndarray, Ia: np.ndarray, gap: float = 1e-3) -> float | None:
    """Largest angle (deg) between corresponding principal axes, over the axes whose moment is
    distinct (relative gap) in both tensors; None when no axis is defined in both."""
    we, Ve = np.linalg.eigh(0.5 * (Ie + Ie.T))
    wa, Va = np.linalg.eigh(0.5 * (Ia + Ia.T))
    scale = max(abs(we).max(), abs(wa).max(), 1e-300)

    def distinct(w: np.ndarray, i: int) -> bool:
        return all(abs(w[i] - w[k]) > gap * scale for k in range(3) if k != i)

    angles = [float(np.degrees(np.arccos(np.clip(abs(Ve[:, i] @ Va[:, i]), 0, 1))))
              for i in range(3) if distinct(we, i) and distinct(wa, i)]
    return max(angles) if angles else None


def _tensor_error(Ie: np.ndarray, Ia: np.ndarray, floor: float = 1e-12) -> tuple[float, float]:
    """(largest entry difference, that relative to max(largest principal moment, floor))."""
    scale = max(np.abs(np.linalg.eigvalsh(Ie)).max(), floor, 1e-300)
    err = float(np.abs(Ie - Ia).max())
    return err, err / scale


def massless_with_inertia(model: RobotModel) -> list[str]:
    """Links declared with mass 0 but a nonzero inertia tensor."""
    return [link.name for link in model.links
            if link.inertial is not None and link.inertial.mass == 0 and np.abs(link.inertial.tensor).max() > 0]


def world_welded(model: RobotModel) -> set[str]:
    """Links that cannot move in any engine: a fixed root and the links fixed to it (empty for a
    floating base). Their mass and inertia do nothing."""
    if model.floating:
        return set()
    out, stack = {model.root}, [model.root]
    while stack:
        for j in model.child_joints(stack.pop()):
            if j.type == "fixed":
                out.add(j.child)
                stack.append(j.child)
    return out


def singular_inertia(I: np.ndarray) -> bool:
    """A tensor with a principal moment that is zero at round-off (relative 1e-9 to the largest)."""
    w = np.linalg.eigvalsh(0.5 * (I + I.T))
    return bool(w.min() <= 1e-9 * max(abs(w).max(), 0.0))


def violates_triangle(I: np.ndarray) -> bool:
    """Principal moments break A + B >= C: no physical body has this inertia."""
    w = np.sort(np.linalg.eigvalsh(I))
    return bool(w[0] + w[1] < w[2] * (1 - 1e-9))


# -- comparator ------------------------------------------------------------------------------------
def compare(actual: Snapshot, ctx: Context) -> list[Finding]:
    if not actual.ok:
        return []
    out: list[Finding] = []
    tol = ctx.tol
    exp_model, act_model = ctx.expected.held_model, actual.held_model
    act_links = {link.name: link for link in act_model.links}
    members: dict[str, list[str]] = {}
    for name, holder in actual.merged_links.items():
        members.setdefault(holder, []).append(name)
    welded = world_welded(exp_model)
    floors = ctx.floors
    approximated = {}  # link -> (cause, severity) of an inertial the build replaced, as it said
    for u in actual.unsupported:
        if u.feature in ("zero_inertia", "inertia_triangle") and u.subject in {x.name for x in exp_model.links}:
            approximated[u.subject] = (oddity(exp_model.link(u.subject))[0] or "unsupported", "info")
    for link in exp_model.links:
        if link.name in actual.merged_links or link.name not in act_links:
            continue
        if link.name in welded and actual.engine != "model":
            continue  # a world-fixed link's mass does nothing in any engine
        e = composite(exp_model, link.name, members[link.name]) if link.name in members else link.inertial
        a = act_links[link.name].inertial
        em = e.mass if e is not None else 0.0
        am = a.mass if a is not None else 0.0
        if em <= 0 and am <= 0:
            continue
        missing_inertial = link.inertial is None and actual.engine != "model"
        cause = default_cause(actual)
        if missing_inertial:  # what the engine gives a link without <inertial>, as its backend says
            given = explained(actual, "inertia", "inertial", link.name, "no_inertial")
            cause = given.cause if given is not None else "unknown"
        sev = "error"
        stated = explained(actual, "inertia", "inertial", link.name, "approximated")
        if stated is not None:  # the build gave the link another inertial, and said so
            approximated.setdefault(link.name, (stated.cause, stated.severity or "info"))
        if link.name in approximated:  # the build said what it did instead: an Unsupported
            cause, sev = approximated[link.name]
        if abs(am - em) > tol.mass_rel * max(em, floors["mass"]):
            out.append(finding(actual, "inertia", "mass", link.name, expected=r6(em), actual=r6(am),
                               abs_error=abs(am - em), rel_error=abs(am - em) / max(em, floors["mass"]),
                               tolerance=tol.mass_rel, severity=sev, cause=cause,
                               detail="no <inertial> declared" if missing_inertial else ""))
        if e is None or a is None or em <= 0 or am <= 0:
            continue
        dc = float(np.linalg.norm(e.com - a.com))
        if dc > tol.com_m:
            out.append(finding(actual, "inertia", "com", link.name, expected=r6(e.com), actual=r6(a.com),
                               abs_error=dc, rel_error=dc / max(float(np.linalg.norm(e.com)), 1e-9), tolerance=tol.com_m,
                               severity=sev, cause=cause, detail="COM offset in the link frame"))
        Ie, Ia = e.tensor_in_link, a.tensor_in_link
        err, rerr = _tensor_error(Ie, Ia, floors["tensor_per_kg"] * em)
        if rerr > tol.inertia_rel:
            we, wa = np.linalg.eigvalsh(Ie), np.linalg.eigvalsh(Ia)
            axes = axes_angle(Ie, Ia)
            detail = (f"principal moments expected {np.round(we, 6).tolist()} vs {actual.name} {np.round(wa, 6).tolist()}, "
                      + ("principal axes not comparable (equal moments)" if axes is None
                         else f"principal axes up to {axes:.3g} deg apart"))
            extra = {}
            c = cause
            # the model holds a balanced tensor here: the declared one breaks A + B >= C
            balanced_from = link.inertial if link.inertial is not None and link.inertial.source == "balanced" else None
            balanced = balanced_from is not None
            if c == "unknown" and (violates_triangle(Ie) or balanced):
                c = "inertia_triangle_inequality"  # no engine can hold it: each repairs it its own way
                zeroed = explained(actual, "inertia", "inertia", link.name, "zeroed") if not np.any(Ia) else None
                if zeroed is not None:
                    c = zeroed.cause
                elif balanced_from is not None and _tensor_error(declared_tensor_in_link(balanced_from), Ia)[1] <= tol.inertia_rel:
                    detail += f"; {actual.name} holds the declared tensor, which breaks A + B >= C (the model holds it balanced)"
            if sev == "error" and em < floors["mass"]:
                sev = "warning"  # lighter than the mass floor: no measurable effect on the robot
                detail += f"; the link's {em:g} kg is below the mass floor {floors['mass']:.3g} kg"
            from_shapes_members = [n for n in members.get(link.name, ())
                                   if (held := exp_model.link(n).inertial) is not None
                                   and held.source == "collision shapes"]
            if c == "unknown" and from_shapes_members:  # quadruped's BL_contact fused into BL_shank by MuJoCo
                c = "inertia_zero_from_shapes"
                detail += (f"; fused link(s) {', '.join(map(repr, from_shapes_members))} declare an all-zero tensor "
                           f"(the model holds their shapes' inertia)")
            if c == "unknown" and link.inertial is not None and link.inertial.source == "collision shapes":
                c = "inertia_zero_from_shapes"  # the URDF idiom, read another way by this engine
                if not np.any(np.abs(Ia) > 1e-12 * max(np.abs(Ie).max(), 1e-300)):
                    detail += f"; {actual.name} took the declared all-zero tensor literally (a point mass)"
            recomputed = explained(actual, "inertia", "inertia", link.name, "from_shapes")
            if recomputed is not None:  # the engine replaced the declared tensor by its shapes' own
                c, detail = recomputed.cause, merged_detail(recomputed.detail, detail)
                extra.update(recomputed.extra)
                try:
                    exact = shape_inertia(link, em)
                except (meshes.NotComputable, meshes.MeshProblem):
                    exact = None  # said once, by the model's own shape_inertia finding
                if exact is not None:
                    extra["shape_inertia_exact"] = r6(exact[1])
            out.append(finding(actual, "inertia", "inertia", link.name, expected=r6(Ie), actual=r6(Ia),
                               abs_error=err, rel_error=rerr, tolerance=tol.inertia_rel, severity=sev,
                               cause=c, detail=detail, extra=extra))
    # what each build did with an odd tensor (zero, from shapes, singular): said even when it agrees
    reasons = {u.subject: u.reason for u in actual.unsupported}
    said = {f.subject for f in out}
    for link in exp_model.links:
        odd_cause, what = oddity(link)
        if (odd_cause is None or actual.engine == "model" or link.name in welded or link.name in said
                or link.name in actual.merged_links or link.name not in act_links):
            continue
        a = act_links[link.name].inertial
        moments = np.round(np.linalg.eigvalsh(a.tensor_in_link), 12).tolist() if a is not None else None
        detail = f"{actual.name} holds {what}: principal moments {moments}"
        if link.name in reasons:
            detail += f" ({reasons[link.name]})"
        out.append(finding(actual, "inertia", "held_inertia", link.name, expected=what, actual=moments,
                           severity="info", cause=odd_cause, detail=detail))
    return out


def declared_tensor_in_link(inertial: Inertial) -> np.ndarray:
    """(3, 3) the tensor as the URDF wrote it (before `urdf.balanced_inertia`), about the COM in the
    link frame."""
    if inertial.declared_inertia is None:
        return inertial.tensor_in_link
    R = inertial.origin.rotation
    return R @ np.array(inertial.declared_inertia, dtype=float) @ R.T


def oddity(link: Link) -> tuple[str | None, str]:
    """(cause, what the tensor is) for a link with mass whose declared tensor is odd: all zero with
    collision shapes (replaced by theirs when loaded, `Inertial.source`), all zero (a point mass),
    or singular; (None, '') otherwise."""
    if link.inertial is None or link.inertial.mass <= 0:
        return None, ""
    I = link.inertial.tensor_in_link
    if link.inertial.source == "collision shapes":
        return "inertia_zero_from_shapes", "the collision shapes' inertia (declared tensor all zero)"
    if link.inertial.source == "balanced":
        return "inertia_triangle_inequality", "the balanced tensor (the declared one breaks A + B >= C)"
    if not np.any(I) and link.collisions:  # shapes that could not be read (a mesh without its decoder)
        return "inertia_zero_from_shapes", "a point mass (declared tensor all zero, shapes' inertia not computable)"
    if not np.any(I):
        return "inertia_point_mass", "a point mass (declared tensor all zero, no collision shape)"
    if singular_inertia(I):
        return "inertia_singular", "the declared singular tensor"
    return None, ""


def model_checks(model: RobotModel, ctx: Context, engine: str = "model", load: str = "declared") -> list[Finding]:
    """Findings about the declared model alone: inertia no body could have, inertia unlike the
    link's own shape (a wrong mesh scale or unit), mass without any collision shape."""
    from ..findings import make

    out: list[Finding] = []
    tol = ctx.tol
    for j in [*model.dof_joints, *model.locked_joints]:
        if (j.urdf_type == "revolute" and j.limit is not None and j.limit.lower is not None
                and j.limit.lower == j.limit.upper):
            out.append(make(engine, load, "joints", "limit", j.name, expected="lower < upper",
                            actual=[j.limit.lower, j.limit.upper], severity="warning",
                            cause="urdf_revolute_zero_range",
                            detail="a revolute joint whose range is empty (or missing, which URDF reads as 0, 0): "
                                   "locked, as URDF says"))
    for j in model.joints:
        declared = j.limit.declared if j.limit is not None else None
        if declared is not None and j.group_type == "spherical":
            out.append(make(engine, load, "joints", "spherical_limit", j.group, expected="no limit (not modelled)",
                            actual=list(declared), severity="warning", cause="urdf_spherical_limit",
                            detail="a spherical joint with <limit lower upper>: PyBullet enforces it as a swing/twist "
                                   "limit, simmatch's model and matched builds leave the joint free"))
        elif declared is not None and j.type == "continuous":
            out.append(make(engine, load, "joints", "limit", j.name, expected="no position limit",
                            actual=list(declared), severity="info", cause="urdf_continuous_limits",
                            detail="a continuous joint with <limit lower upper>: not enforced by any engine, "
                                   "read as unlimited"))
        elif declared is not None:
            out.append(make(engine, load, "joints", "limit", j.name, expected="lower <= upper",
                            actual=list(declared), severity="info", cause="urdf_inverted_limits",
                            detail="lower > upper: PyBullet's idiom for 'no limit', read as an unlimited joint"))
        if j.mimic is not None and j not in model.dof_joints:
            out.append(make(engine, load, "joints", "mimic", j.name, expected="a moving joint",
                            actual=f"{j.urdf_type} joint", severity="info", cause="urdf_mimic_on_fixed",
                            detail=f"<mimic joint={j.mimic.joint!r}> on a joint that does not move: it has no "
                                   "effect, and no engine applies it"))
    for link in model.links:
        for g in link.visuals:
            if g.missing:
                out.append(make(engine, load, "contact", "visual_mesh", link.name, expected="a mesh file",
                                actual=f"{g.filename} not found", severity="warning",
                                cause="urdf_missing_visual_mesh",
                                detail="a visual mesh that does not exist: no effect on the physics, loaded "
                                       "without it; PyBullet's loadURDF and DART's loader fail on it"))
    for element, subject, what in model.ignored:
        out.append(make(engine, load, "contact", f"ignored:{element}", subject, expected="modelled",
                        actual="left out", severity="warning", cause="bullet_contact_extension",
                        detail=f"<contact><{element}>: {what}; simmatch's model and matched builds leave it out"))
    concave = [link.name for link in model.links if any(g.concave for g in link.collisions)]
    for name in concave:
        out.append(make(engine, load, "contact", "concave_mesh", name, expected="convex hull or triangle mesh",
                        actual="concave='yes'", severity="info", cause="concave_mesh",
                        detail="PyBullet (native and matched) collides with the triangle mesh itself; MuJoCo with "
                               "its convex hull (listed as unsupported in its matched build)"))
    followers = {j.name for j in model.mimic_joints}
    for j in model.dof_joints:
        if j.mimic is not None and j.name not in followers:
            out.append(make(engine, load, "joints", "mimic", j.name, expected=f"follows {j.mimic.joint}",
                            actual="moves on its own", severity="warning", cause="urdf_mimic_leader_missing",
                            detail=f"<mimic joint={j.mimic.joint!r}> names a joint that is missing or does not move: "
                                   "ignored, as PyBullet and Pinocchio do (the joint is an independent DoF)"))
    for name in massless_subtree_joints(model):
        j = model.joint(name)
        out.append(make(engine, load, "dynamics", "massless_subtree", name, expected="mass below the joint",
                        actual="0 kg", severity="warning", cause="massless_subtree",
                        detail=f"no link below joint {name!r} ({j.child!r} and its children) has mass: M(q) is "
                               "singular; this joint is left out of the dynamics comparisons and gets no random torque"))
    massless = set(massless_with_inertia(model))
    welded = world_welded(model)
    for link in model.links:
        if link.inertial is not None and link.inertial.mass > 0:
            I0 = link.inertial.tensor_in_link
            w0 = np.round(np.linalg.eigvalsh(I0), 12).tolist()
            still = " (welded to the world: no effect on the dynamics)" if link.name in welded else ""
            if link.inertial.source == "collision shapes":
                out.append(make(engine, load, "inertia", "inertia_source", link.name, expected="declared tensor",
                                actual="from collision shapes", severity="warning", cause="inertia_zero_from_shapes",
                                detail=f"declared mass {link.inertial.mass:g} kg with an all-zero tensor: every matched "
                                       f"build uses the collision shapes' inertia at that mass, principal moments {w0}" + still,
                                extra={"held_inertia": r6(I0)}))
            elif not np.any(I0) and link.collisions:
                out.append(make(engine, load, "inertia", "inertia_source", link.name, expected="declared tensor",
                                actual="point mass", severity="warning", cause="inertia_zero_from_shapes",
                                detail=f"declared mass {link.inertial.mass:g} kg with an all-zero tensor; the inertia of "
                                       "its collision shapes could not be computed (unreadable mesh), so every build "
                                       "gets the point mass as declared" + still))
            elif not np.any(I0):
                out.append(make(engine, load, "inertia", "inertia_source", link.name, expected="declared tensor",
                                actual="point mass", severity="warning", cause="inertia_point_mass",
                                detail=f"declared mass {link.inertial.mass:g} kg with an all-zero tensor and no collision "
                                       "shape: loaded as a point mass where the engine can (each engine's held_inertia finding says what it holds)" + still))
            elif link.inertial.source == "balanced" and link.name in welded and singular_inertia(
                    declared_tensor_in_link(link.inertial)):
                wd = np.round(np.linalg.eigvalsh(declared_tensor_in_link(link.inertial)), 12).tolist()
                out.append(make(engine, load, "inertia", "inertia_singular", link.name, expected="3 positive moments",
                                actual=wd, severity="warning", cause="inertia_singular",
                                detail=f"principal moments {wd}, balanced to {w0} (A + B >= C)" + still))
            elif singular_inertia(I0):
                out.append(make(engine, load, "inertia", "inertia_singular", link.name, expected="3 positive moments",
                                actual=w0, severity="warning", cause="inertia_singular",
                                detail=f"principal moments {w0}: loaded as declared where the engine can "
                                       "(each engine's held_inertia finding says what it holds)" + still))
        if link.name in massless:
            assert link.inertial is not None, "massless_with_inertia lists links with an <inertial> only"
            out.append(make(engine, load, "inertia", "massless_inertia", link.name, expected="mass 0 and inertia 0",
                            actual=np.round(np.linalg.eigvalsh(link.inertial.tensor_in_link), 9).tolist(),
                            severity="warning", cause="massless_link_inertia",
                            detail="declared mass 0 with a nonzero inertia tensor"))
        if link.inertial is None or link.inertial.mass <= 0:
            continue
        if link.name in welded:
            continue
        I = link.inertial.tensor_in_link
        Id = declared_tensor_in_link(link.inertial)
        w = np.sort(np.linalg.eigvalsh(Id))
        if violates_triangle(Id):
            held = ""
            if link.inertial.source == "balanced":
                held = (f"; simmatch's model and every matched build hold the nearest tensor that keeps it (same axes "
                        f"and trace, moments {np.round(np.sort(np.linalg.eigvalsh(I)), 9).tolist()}): PyBullet would "
                        f"zero the declared one, MuJoCo refuse it or average its moments, DART keep it")
            negative = link.inertial.source == "balanced" and w[0] < -1e-9 * max(float(np.abs(w).max()), 1e-300)
            out.append(make(engine, load, "inertia", "triangle_inequality", link.name,
                            expected="A + B >= C", actual=np.round(w, 9).tolist(),
                            abs_error=float(w[2] - w[0] - w[1]), severity="error" if negative else "warning",
                            cause="inertia_triangle_inequality",
                            detail=f"principal moments {np.round(w, 9).tolist()}: {w[0] + w[1]:.4g} < {w[2]:.4g}"
                                   + (" (a negative moment: the tensor is not positive semi-definite; raised to 0 "
                                      "before balancing)" if negative else "")
                                   + held,
                            extra={"held_inertia": r6(I)} if held else None))
        if not link.collisions:
            out.append(make(engine, load, "contact", "collision", link.name, expected="a collision shape",
                            actual="none", severity="warning", cause="mass_without_collision",
                            detail=f"link has {link.inertial.mass:g} kg and no <collision>"))
            continue
        try:
            shp = shape_inertia(link, link.inertial.mass)
        except (meshes.NotComputable, meshes.MeshProblem) as exc:  # say so, do not stop the check
            out.append(make(engine, load, "inertia", "shape_inertia", link.name, expected="computable",
                            actual="not computable", severity="info", cause="mesh_inertia_not_computable",
                            detail=f"the inertia of its collision shape is not computable: {exc}"))
            continue
        if shp is None:
            continue
        err, rerr = _tensor_error(I, shp[1])
        if rerr > tol.shape_inertia_rel:
            we = np.round(np.linalg.eigvalsh(I), 6).tolist()
            ws = np.round(np.linalg.eigvalsh(shp[1]), 6).tolist()
            ratio = max(np.linalg.eigvalsh(shp[1]).max(), 1e-300) / max(np.linalg.eigvalsh(I).max(), 1e-300)
            out.append(make(engine, load, "inertia", "shape_inertia", link.name, expected=r6(I),
                            actual=r6(shp[1]), abs_error=err, rel_error=rerr, tolerance=tol.shape_inertia_rel,
                            severity="warning", cause="inertia_unlike_shape",
                            detail=f"declared principal moments {we}; its collision shape at {link.inertial.mass:g} kg "
                                   f"would give {ws} ({ratio:.3g}x)",
                            extra={"shape_com": r6(shp[0])}))
    return out
