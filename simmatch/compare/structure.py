"""Structure: did the source load at all, which links and joints it has (missing, extra, merged),
joint types, parents and axes, and whether the root is fixed or floating."""

from __future__ import annotations

import numpy as np

from ..findings import Finding
from ..model import RobotModel
from . import Context, default_cause, explained, finding, merged_detail
from .snapshot import Snapshot

_SAME_TYPE = {"continuous": "revolute"}


def load_failure(actual: Snapshot, model: RobotModel | None = None) -> list[Finding]:
    """A source that could not be built is itself a finding, with the engine's own message, and the
    cause and subject its backend gave the failure (`EngineFailure.cause`, `.subject`)."""
    msg = " ".join(actual.error.split())
    subject = actual.error_subject or "*"
    if actual.crashed:
        cause = "engine_crash"
    elif actual.error_cause:
        cause = actual.error_cause
    else:
        cause = "engine_failure"
    return [finding(actual, "structure", "load", subject, expected="loads", actual="crashed" if actual.crashed
                    else "failed", severity="error", cause=cause, detail=msg)]


def compare(actual: Snapshot, ctx: Context) -> list[Finding]:
    if not actual.ok:
        return load_failure(actual, ctx.declared)
    out: list[Finding] = []
    exp, act = ctx.expected.held_model, actual.held_model

    # -- root: fixed or floating ------------------------------------------------------------
    if actual.added_joints:
        out.append(finding(actual, "structure", "root_joint", exp.root, expected=exp.base,
                           actual=f"floating (added joint {', '.join(actual.added_joints)})", severity="error",
                           cause=default_cause(actual),
                           detail=f"{actual.engine} put a 6-DoF joint above root link {exp.root!r}; the model's "
                                  f"base is {exp.base} ({exp.base_reason or 'as declared'})"))
    elif act.base != exp.base:
        out.append(finding(actual, "structure", "root_joint", exp.root, expected=exp.base, actual=act.base,
                           severity="error", cause=default_cause(actual),
                           detail=f"root joint as loaded: {actual.extras.get('root_joint', act.base)}"))

    # -- links ----------------------------------------------------------------------------------
    act_links = {link.name for link in act.links}
    for link in exp.links:
        if link.virtual:
            continue  # a frame between a multi-DoF joint's coordinates: simmatch's, no engine import has it
        if link.name in actual.merged_links:
            holder = actual.merged_links[link.name]
            out.append(finding(actual, "structure", "merged_link", link.name, expected="own body",
                               actual=f"merged into {holder!r}", severity="info", cause=default_cause(actual),
                               detail=f"{actual.engine} has no body {link.name!r}; its frame is reported through "
                                      f"body {holder!r}"))
        elif link.name not in act_links:
            out.append(finding(actual, "structure", "link", link.name, expected="present", actual="missing",
                               severity="error", cause=default_cause(actual)))
    exp_links = {link.name for link in exp.links}
    for name in sorted(act_links - exp_links):
        out.append(finding(actual, "structure", "link", name, expected="absent", actual="present",
                           severity="error", cause=default_cause(actual)))

    # -- joints ---------------------------------------------------------------------------------
    act_joints = {j.name: j for j in act.joints}
    exp_joints = {j.name: j for j in exp.joints}
    for group, coords in exp.groups.items():
        # a multi-DoF URDF joint: the engine holds either its coordinates (matched builds, MuJoCo's
        # slide+slide+hinge) or one joint of the URDF's name and type
        a = act_joints.get(group)
        if a is None or all(c.name in act_joints for c in coords):
            continue
        exp_joints[group] = a  # not an extra joint
        kind = coords[0].group_type
        if a.type != kind:
            cause, detail = default_cause(actual), f"{len(coords)} DoF declared, {0 if a.type == 'fixed' else '?'} loaded"
            e = explained(actual, "structure", "joint_type", group, f"{kind}->{a.type}")
            if e is not None:
                cause, detail = e.cause, merged_detail(e.detail, detail)
            out.append(finding(actual, "structure", "joint_type", group, expected=kind, actual=a.type,
                               severity="error", cause=cause, detail=detail))
    for j in exp.joints:
        a = act_joints.get(j.name)
        if a is None and j.group and j.group in act_joints:
            continue  # compared as a whole above
        if a is None:
            out.append(finding(actual, "structure", "joint", j.name, expected=j.type, actual="missing",
                               severity="error", cause=default_cause(actual)))
            continue
        if j.locked_type and a.type == j.locked_type:
            pass  # a locked joint loaded as moving: what the engine does with it is a joints finding
        elif _SAME_TYPE.get(a.type, a.type) != _SAME_TYPE.get(j.type, j.type):
            out.append(finding(actual, "structure", "joint_type", j.name, expected=j.type, actual=a.type,
                               severity="error", cause=default_cause(actual)))
        if (a.parent, a.child) != (j.parent, j.child):
            out.append(finding(actual, "structure", "joint_links", j.name, expected=f"{j.parent} -> {j.child}",
                               actual=f"{a.parent} -> {a.child}", severity="error", cause=default_cause(actual)))
        # a source whose read-back axes are not in the joint frame has them checked through the
        # link frames at random q (kinematics) instead
        if j.movable and "joint_axis" not in actual.not_held:
            ea, aa = np.asarray(j.axis, float), np.asarray(a.axis, float)
            na = np.linalg.norm(aa)
            angle = float(np.arccos(np.clip(ea @ aa / max(na, 1e-300), -1, 1))) if na > 0 else np.pi
            if angle > ctx.tol.axis_rad:
                out.append(finding(actual, "structure", "joint_axis", j.name, expected=list(j.axis),
                                   actual=[round(float(v), 9) for v in aa], abs_error=angle,
                                   tolerance=ctx.tol.axis_rad, severity="error", cause=default_cause(actual),
                                   detail=f"axes {np.degrees(angle):.3g} deg apart"))
    for name in sorted(set(act_joints) - set(exp_joints)):
        if name in actual.added_joints:
            continue
        out.append(finding(actual, "structure", "joint", name, expected="absent", actual=act_joints[name].type,
                           severity="error", cause=default_cause(actual)))
    return out
