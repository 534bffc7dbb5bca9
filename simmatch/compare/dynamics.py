"""Dynamics at random states: mass matrix M(q), gravity torques g(q), bias forces h(q, dq) and
forward dynamics qdd for random torques, each held against the numpy reference of the declared
model (`compare.reference`), so 'expected' is the model itself, not another engine. Catches what
the static numbers miss (a joint frame convention, an inertia rotated the wrong way).

Errors are relative to the size of the quantity over all samples (max |expected|); the finding
names the worst sample and the worst joint (M: the worst entry, 'row/col')."""

from __future__ import annotations

import numpy as np

from ..findings import Finding
from ..kinematics import massless_subtree_joints
from ..model import RobotModel
from . import Context, default_cause, explained, finding, fmt_q, merged_detail, r6
from .snapshot import Snapshot

QUANTITIES = (
    ("M", "mass_matrix", "mass_matrix_rel"),
    ("gravity", "gravity_torques", "gravity_rel"),
    ("bias", "bias_forces", "bias_rel"),
    ("qdd", "forward_dynamics", "qdd_rel"),
)
FLOOR = {"M": "mass_matrix", "gravity": "force", "bias": "force", "qdd": "qdd"}


def worst(expected: np.ndarray, actual: np.ndarray, floor: float = 1e-12) -> tuple[float, float, int, tuple[int, ...]]:
    """(abs error, rel error, sample, index) of the worst entry; rel to max(max |expected|, floor)
    (`floor`: the quantity's absolute floor, `Tolerances.floors`)."""
    diff = np.abs(np.asarray(actual, float) - np.asarray(expected, float))
    diff = np.nan_to_num(diff, nan=np.inf)
    if diff.size == 0:
        return 0.0, 0.0, 0, ()
    flat = int(np.argmax(diff))
    idx = np.unravel_index(flat, diff.shape)
    scale = float(np.nanmax(np.abs(expected))) if np.size(expected) else 0.0
    err = float(diff[idx])
    return err, err / max(scale, floor, 1e-300), int(idx[0]), tuple(int(i) for i in idx[1:])


def kept_columns(model: RobotModel) -> list[int]:
    """Indices (canonical order) of the joints whose dynamics are compared: all but the joints that
    move no mass (M(q) is singular there; reported once by `inertia.model_checks`)."""
    drop = set(massless_subtree_joints(model))
    return [i for i, n in enumerate(model.joint_names) if n not in drop]


def select(attr: str, values: np.ndarray, keep: list[int]) -> np.ndarray:
    """`values` (N, dof) or (N, dof, dof) for M restricted to the `keep` joints."""
    v = np.asarray(values, dtype=float)
    if attr == "M":
        return v[:, keep][:, :, keep]
    return v[:, keep]


def compare(actual: Snapshot, ctx: Context) -> list[Finding]:
    if not actual.ok or ctx.expected.held_model.dof == 0:
        return []
    out: list[Finding] = []
    names = ctx.declared.joint_names
    keep = kept_columns(ctx.declared)
    if not keep:
        return []
    for attr, quantity, tol_name in QUANTITIES:
        limit = getattr(ctx.tol, tol_name)
        exp = getattr(ctx.expected, attr)
        act = getattr(actual, attr)
        if attr in actual.errors or act is None:
            out.append(finding(actual, "dynamics", quantity, "*", expected="computed", actual="failed",
                               severity="error", cause="unknown", detail=actual.errors.get(attr, "not computed")))
            continue
        if exp is None or np.shape(exp) != np.shape(act):
            out.append(finding(actual, "dynamics", quantity, "*", expected=list(np.shape(exp)),
                               actual=list(np.shape(act)), severity="error", cause=default_cause(actual),
                               detail="different shapes: the sources do not have the same joints"))
            continue
        exp_k, act_k = select(attr, exp, keep), select(attr, act, keep)
        err, rerr, k, idx = worst(exp_k, act_k, ctx.floors[FLOOR[attr]])
        if rerr <= limit:
            continue
        subject = "/".join(names[keep[i]] for i in idx) if idx else "*"
        state = ctx.samples.states[k]
        detail = f"worst at sample {k}: q = {fmt_q(state.q)}"
        if attr in ("bias", "qdd"):
            detail += f", dq = {fmt_q(state.dq)}"
        if attr == "qdd":
            detail += f", tau = {fmt_q(ctx.samples.taus[k])}"
        if attr == "M":
            e_row, a_row = exp_k[k][idx[0]], act_k[k][idx[0]]
        else:
            e_row, a_row = exp_k[k], act_k[k]
        if ctx.declared.mimic_joints:
            detail += ("; compared: the unconstrained tree (every joint an independent DoF, as engines' mass-matrix "
                       "and inverse-dynamics calls report); the <mimic> coupling is held to the constrained "
                       "dynamics under motion in joints.mimic_motion")
        cause = default_cause(actual)
        why = explained(actual, "dynamics", quantity, subject, "values")  # the backend's cause of these numbers
        if why is not None:
            cause, detail = why.cause, merged_detail(why.detail, detail)
        if len(keep) < len(names):
            detail += f" (joints moving no mass left out: {', '.join(n for i, n in enumerate(names) if i not in keep)})"
        out.append(finding(actual, "dynamics", quantity, subject, expected=r6(e_row), actual=r6(a_row),
                           abs_error=err, rel_error=rerr, tolerance=limit, severity="error",
                           cause=cause, detail=detail, extra={"sample": k}))
    return out


def pairwise(snapshots: list[Snapshot], floors: dict[str, float] | None = None,
             keep: list[int] | None = None) -> dict[str, dict[str, float]]:
    """Largest relative difference of every dynamics quantity between every two sources that
    computed it (summary only: each source is already held against the model)."""
    out = {}
    ok = [s for s in snapshots if s.ok]
    for i, a in enumerate(ok):
        for b in ok[i + 1:]:
            row = {}
            for attr, quantity, _ in QUANTITIES:
                x, y = getattr(a, attr), getattr(b, attr)
                if x is None or y is None or np.shape(x) != np.shape(y) or np.size(x) == 0:
                    continue
                if keep is not None:
                    x, y = select(attr, x, keep), select(attr, y, keep)
                row[quantity] = worst(x, y, (floors or {}).get(FLOOR[attr], 1e-12))[1]
            if row:
                out[f"{a.name} vs {b.name}"] = row
    return out
