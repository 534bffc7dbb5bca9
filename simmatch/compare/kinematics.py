"""Kinematics: every link frame (position and orientation) and every link COM in world, at q = 0
and at the random q samples.

A wrong joint origin or axis moves the whole subtree below it; to name the link where the error is
made, a link is reported only when its frame *relative to its parent link* is wrong (its world
error and the worst q are given); descendants that are off only because of it are counted in the
detail."""

from __future__ import annotations

import numpy as np

from ..findings import Finding
from ..model import RobotModel
from . import Context, default_cause, finding, fmt_q, r6
from .snapshot import Snapshot


def _inv(T: np.ndarray) -> np.ndarray:
    """Inverse of a stack (..., 4, 4) of rigid transforms."""
    R = T[..., :3, :3]
    Rt = np.swapaxes(R, -1, -2)
    out = np.zeros_like(T)
    out[..., :3, :3] = Rt
    out[..., :3, 3] = -np.einsum("...ij,...j->...i", Rt, T[..., :3, 3])
    out[..., 3, 3] = 1.0
    return out


def _angles(Ra: np.ndarray, Rb: np.ndarray) -> np.ndarray:
    c = (np.einsum("...ij,...ij->...", Ra, Rb) - 1.0) / 2.0  # trace(Ra^T Rb)
    return np.arccos(np.clip(c, -1.0, 1.0))


def compare(actual: Snapshot, ctx: Context) -> list[Finding]:
    if not actual.ok:
        return []
    out: list[Finding] = []
    tol = ctx.tol
    model = ctx.expected.model
    assert model is not None  # the expected side is the parsed model itself
    ef, af = ctx.expected.frames, actual.frames
    qs = ctx.samples.kin_q
    parent_of = {j.child: j.parent for j in model.joints}
    bad_world, bad_local = {}, {}
    for link in model.link_order:
        if link not in ef or link not in af:
            continue
        E, A = ef[link], af[link]
        pos_err = np.linalg.norm(E[:, :3, 3] - A[:, :3, 3], axis=1)
        ang_err = _angles(E[:, :3, :3], A[:, :3, :3])
        if np.all(np.isnan(pos_err)):
            continue
        pos_err, ang_err = np.nan_to_num(pos_err, nan=np.inf), np.nan_to_num(ang_err, nan=np.inf)
        if pos_err.max() <= tol.position_m and ang_err.max() <= tol.orientation_rad:
            continue
        bad_world[link] = (pos_err, ang_err)
        p = parent_of.get(link)
        if p is not None and p in ef and p in af:
            El = np.einsum("kij,kjl->kil", _inv(ef[p]), E)
            Al = np.einsum("kij,kjl->kil", _inv(af[p]), A)
            lp = np.linalg.norm(El[:, :3, 3] - Al[:, :3, 3], axis=1)
            la = _angles(El[:, :3, :3], Al[:, :3, :3])
            local_bad = lp.max() > tol.position_m or la.max() > tol.orientation_rad
        else:
            local_bad = True
        if local_bad:
            bad_local[link] = True
    kids = _children(model)
    joint_of = {j.child: j.name for j in model.joints}
    for link in bad_local:
        pos_err, ang_err = bad_world[link]
        below = [d for d in _below(kids, link) if d in bad_world and d not in bad_local]
        tail = f"; {len(below)} link(s) below are off because of it" if below else ""
        via = f" (joint {joint_of[link]!r})" if link in joint_of else ""
        for quantity, err, limit, unit in (("frame_position", pos_err, tol.position_m, "m"),
                                           ("frame_orientation", ang_err, tol.orientation_rad, "rad")):
            if err.max() <= limit:
                continue
            k = int(np.argmax(err))
            E, A = ef[link][k], af[link][k]
            if quantity == "frame_position":
                exp_v, act_v = r6(E[:3, 3]), r6(A[:3, 3])
            else:
                exp_v, act_v = r6(E[:3, :3]), r6(A[:3, :3])
            scale = max(np.linalg.norm(E[:3, 3]), ctx.floors["length"]) if quantity == "frame_position" else np.pi
            out.append(finding(actual, "kinematics", quantity, link, expected=exp_v, actual=act_v,
                               abs_error=err[k], rel_error=err[k] / scale, tolerance=limit, severity="error",
                               cause=default_cause(actual),
                               detail=f"worst at sample {k} ({'q = 0' if k == 0 else 'random q'}) q = {fmt_q(qs[k])}: "
                                      f"{err[k]:.3g} {unit}; frame relative to its parent{via} differs{tail}",
                               extra={"q": qs[k], "sample": k}))
    # COMs of links whose frame is right: the COM offset itself is wrong (a body that other links
    # were fused into has the fused COM: the inertia comparator checks that one)
    holders = set(actual.merged_links.values())
    for link in model.link_order:
        if link in bad_world or link in holders or link not in ctx.expected.coms or link not in actual.coms:
            continue
        E, A = ctx.expected.coms[link], actual.coms[link]
        err = np.nan_to_num(np.linalg.norm(E - A, axis=1), nan=np.inf)
        if err.max() > tol.position_m:
            k = int(np.argmax(err))
            out.append(finding(actual, "kinematics", "com_position", link, expected=r6(E[k]), actual=r6(A[k]),
                               abs_error=err[k], rel_error=err[k] / max(np.linalg.norm(E[k]), ctx.floors["length"]),
                               tolerance=tol.position_m, severity="error", cause=default_cause(actual),
                               detail=f"worst at sample {k}, q = {fmt_q(qs[k])}; the link frame itself agrees",
                               extra={"q": qs[k], "sample": k}))
    return out


def _children(model: RobotModel) -> dict[str, list[str]]:
    kids: dict[str, list[str]] = {}
    for j in model.joints:
        kids.setdefault(j.parent, []).append(j.child)
    return kids


def _below(kids: dict[str, list[str]], link: str) -> list[str]:
    """Every link below `link` (iterative: a 10,000-link chain is deeper than Python's recursion
    limit; computed only for the links that need it, as all lists together are O(n^2) on a chain)."""
    out, stack = [], list(reversed(kids.get(link, [])))
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(reversed(kids.get(c, [])))
    return out
