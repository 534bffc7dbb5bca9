"""Joints: limits, effort, velocity, damping, Coulomb friction, armature and spring (stiffness and
rest position) of every movable joint (as the engine applies them), and whether each `<mimic>` follower follows its leader, at rest and under
torque. What an engine adds on its own (velocity motors, link damping, a speed cap, limits it does
not enforce, locked joints it lets move) its backend reports as `Behaviour` records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..findings import Finding
from ..model import Joint, Mimic, RobotModel, State
from . import Context, default_cause, explained, finding, r6
from .snapshot import Snapshot

if TYPE_CHECKING:
    from ..backends.base import Backend


def mimic_of(j: Joint) -> Mimic:
    """The `<mimic>` of a joint of `RobotModel.mimic_joints` (which holds only joints with one)."""
    assert j.mimic is not None, f"joint {j.name!r} has no <mimic>"
    return j.mimic


def _fmt(v: Sequence[float]) -> str:
    return "[" + ", ".join(f"{x:.4g}" for x in v) + "]"


def probe_mimic(backend: Backend, model: RobotModel, state: State, seconds: float = 0.2) -> dict[str, dict[str, Any]]:
    """Whether each `<mimic>` joint follows its leader in `backend`: from `state` with the leader at
    the middle of its range and the follower at its lower limit (0 when unlimited), an inconsistent
    pair, and no torque, step `seconds` and compare the residual r = q_f - (m q_l + offset)
    before and after. {follower: {"follows": bool, "leader": [q0, q1], "follower": [q0, q1],
    "residual": [r0, r1]}}."""
    from ..kinematics import joint_range

    names = model.joint_names
    out = {}
    for j in model.mimic_joints:
        mimic = mimic_of(j)
        lead, fol = names.index(mimic.joint), names.index(j.name)
        q = np.array(state.q, dtype=float)
        lo, hi = joint_range(model.dof_joints[lead])
        flo = joint_range(j)[0]
        q[fol] = flo if j.limited else 0.0
        q[lead] = 0.5 * (lo + hi)
        if abs(mimic.multiplier * q[lead] + mimic.offset - q[fol]) < 1e-6 * max(1.0, hi - lo):
            q[lead] = hi  # mid-range happens to satisfy the mimic: move the leader to its end instead
        backend.set_state(State(q, np.zeros(len(q)), state.root_pos, state.root_quat, state.root_lin_vel,
                                state.root_ang_vel))
        backend.apply_torques(np.zeros(len(q)))
        backend.step(max(1, int(round(seconds / backend.config.dt))))
        s = backend.get_state()
        r0 = q[fol] - (mimic.multiplier * q[lead] + mimic.offset)
        r1 = float(s.q[fol] - (mimic.multiplier * s.q[lead] + mimic.offset))
        out[j.name] = {"follows": bool(abs(r1) < 0.1 * abs(r0)), "leader": [float(q[lead]), float(s.q[lead])],
                       "follower": [float(q[fol]), float(s.q[fol])], "residual": [float(r0), r1]}
    return out


def probe_mimic_motion(backend: Backend, model: RobotModel, seconds: float = 0.05,
                       travel: float = 0.1) -> dict[str, dict[str, Any]]:
    """How `backend` moves a `<mimic>` coupling under torque, against the reference's constrained
    and unconstrained dynamics. From rest on the constraint (free joints mid-range, followers at
    multiplier q_leader + offset), torques on the free joints only (followers get none, as a user
    drives a mimicked gripper) chosen so that the ideal coupled system accelerates each free joint by
    a_k = +-2 travel span_k / seconds^2 (it covers `travel` of its range in `seconds`): tau_free =
    (G^T M G) a + G^T h. One step gives the engine's qdd = dq1 / dt, compared with the constrained qdd
    G a and with the unconstrained tree's M^-1 (tau - h) (relative to max |G a|); stepping on to
    `seconds` gives the largest residual |q_f - (m q_l + o)| against the follower's expected travel.
    {follower: {"qdd": [leader, follower], "constrained": [...], "unconstrained": [...],
    "rel_error_constrained", "rel_error_unconstrained", "max_residual", "follower_travel"}}."""
    from ..kinematics import joint_range
    from .reference import ReferenceDynamics
    from .snapshot import solve_qdd

    if not model.mimic_joints:
        return {}
    ref = ReferenceDynamics(model, backend.config.gravity)
    G, c, free = ref.mimic_map()
    spans = np.array([np.subtract(*joint_range(j)[::-1]) for j in model.dof_joints])
    q_free = np.array([0.5 * sum(joint_range(model.dof_joints[i])) for i in free])
    q = G @ q_free + c
    from ..kinematics import model_scales

    # a floating root 1 m above the model's reach: stepping starts clear of the floor (see mid_state)
    root = dict(root_pos=np.array([0.0, 0.0, model_scales(model)[1] + 1.0]), root_quat=np.array([0.0, 0.0, 0.0, 1.0]),
                root_lin_vel=np.zeros(3), root_ang_vel=np.zeros(3)) if model.floating else {}
    s0 = State(q, np.zeros(model.dof), **root)
    signs = np.array([1.0 if k % 2 == 0 else -1.0 for k in range(len(free))])
    a = signs * 2.0 * travel * spans[free] / seconds ** 2
    M, h = ref.mass_matrix(s0), ref.bias_forces(s0)
    tau = np.zeros(model.dof)
    tau[free] = G.T @ M @ G @ a + G.T @ h
    qdd_c, qdd_u = G @ a, solve_qdd(model, M, tau - h)  # a joint that moves no mass (romeo's fingers) gets 0
    dt = backend.config.dt
    n = max(1, int(round(seconds / dt)))
    names = model.joint_names
    backend.set_state(s0)
    backend.apply_torques(tau)
    backend.step()
    qdd = np.asarray(backend.get_state().dq, dtype=float) / dt
    worst = {j.name: 0.0 for j in model.mimic_joints}

    coupled = [(j.name, mimic_of(j)) for j in model.mimic_joints]

    def residuals(qn: np.ndarray) -> dict[str, float]:
        return {name: abs(qn[names.index(name)] - (m.multiplier * qn[names.index(m.joint)] + m.offset))
                for name, m in coupled}

    for k in range(n):
        for name, r in residuals(np.asarray(backend.get_state().q, dtype=float)).items():
            worst[name] = max(worst[name], float(r))
        if k < n - 1:
            backend.apply_torques(tau)
            backend.step()
    scale = max(float(np.max(np.abs(qdd_c))), 1e-12)
    out = {}
    for j in model.mimic_joints:
        pair = [names.index(mimic_of(j).joint), names.index(j.name)]
        out[j.name] = {"qdd": qdd[pair].tolist(), "constrained": qdd_c[pair].tolist(),
                       "unconstrained": qdd_u[pair].tolist(),
                       "rel_error_constrained": float(np.max(np.abs(qdd[pair] - qdd_c[pair]))) / scale,
                       "rel_error_unconstrained": float(np.max(np.abs(qdd[pair] - qdd_u[pair]))) / scale,
                       "max_residual": worst[j.name],
                       "follower_travel": float(abs(0.5 * qdd_c[pair[1]] * (n * dt) ** 2))}
    return out


def _num(x: float | None) -> float | None:
    return None if x is None else float(x)


def compare(actual: Snapshot, ctx: Context) -> list[Finding]:
    if not actual.ok:
        return []
    out: list[Finding] = []
    tol = ctx.tol
    exp_model, act_model = ctx.expected.held_model, actual.held_model
    act_joints = {j.name: j for j in act_model.joints}
    is_model = actual.engine == "model"
    for j in exp_model.joints:
        if not j.movable or j.name not in act_joints:
            continue
        a = act_joints[j.name]
        cause = default_cause(actual)
        # -- limits -------------------------------------------------------------------------
        el = j.limit if j.limited else None
        al = a.limit
        a_lo = _num(al.lower) if al is not None else None
        a_hi = _num(al.upper) if al is not None else None
        if el is not None:
            assert el.lower is not None and el.upper is not None, "a limited joint has both bounds (Joint.limited)"
            for side, ev, av in (("lower", el.lower, a_lo), ("upper", el.upper, a_hi)):
                if av is None or abs(av - ev) > tol.joint_limit:
                    out.append(finding(actual, "joints", f"limit_{side}", j.name, expected=ev,
                                       actual="none" if av is None else av,
                                       abs_error=None if av is None else abs(av - ev), tolerance=tol.joint_limit,
                                       severity="error", cause=cause))
        elif a_lo is not None and a_hi is not None and a_lo <= a_hi and j.type != "prismatic":
            zero = (j.limit.lower if j.type == "revolute" and j.limit is not None and j.limit.lower is not None
                    and j.limit.lower == j.limit.upper else None)  # the declared bound of an empty range
            out.append(finding(actual, "joints", "limit", j.name, expected="unlimited", actual=[a_lo, a_hi],
                               severity="error", cause="urdf_revolute_zero_range" if zero is not None else cause,
                               detail=f"declared lower = upper = {zero:g}" if zero is not None else ""))
        # -- effort, velocity (only where the source can say) ----------------------------------
        e_eff = j.limit.effort if j.limit is not None else None
        a_eff = al.effort if al is not None else None
        if ("effort" not in actual.not_held and e_eff is not None and e_eff > 0 and a_eff is not None
                and abs(a_eff - e_eff) > tol.joint_param):
            out.append(finding(actual, "joints", "effort", j.name, expected=e_eff, actual=a_eff,
                               abs_error=abs(a_eff - e_eff), tolerance=tol.joint_param, severity="error",
                               cause=cause))
        if "velocity" not in actual.not_held:
            e_vel = j.limit.velocity if j.limit is not None else None
            a_vel = al.velocity if al is not None else None
            if (e_vel or 0.0) != (a_vel or 0.0) and abs((e_vel or 0.0) - (a_vel or 0.0)) > tol.joint_param:
                out.append(finding(actual, "joints", "velocity", j.name, expected=e_vel, actual=a_vel,
                                   abs_error=abs((e_vel or 0.0) - (a_vel or 0.0)), tolerance=tol.joint_param,
                                   severity="error", cause=cause))
        # -- damping and friction --------------------------------------------------------------
        if abs(a.damping - j.damping) > tol.joint_param:
            out.append(finding(actual, "joints", "damping", j.name, expected=j.damping, actual=a.damping,
                               abs_error=abs(a.damping - j.damping), tolerance=tol.joint_param, severity="error",
                               cause=cause))
        if abs(a.friction - j.friction) > tol.joint_param:
            out.append(finding(actual, "joints", "friction", j.name, expected=j.friction, actual=a.friction,
                               abs_error=abs(a.friction - j.friction), tolerance=tol.joint_param, severity="error",
                               cause=cause))
        # -- armature and spring (MJCF; 0 in URDF): what the source holds, as its record says --------
        springs = j.stiffness != 0.0 or a.stiffness != 0.0
        for quantity, ev, av in (("armature", j.armature, a.armature), ("stiffness", j.stiffness, a.stiffness),
                                 ("spring_ref", j.spring_ref if springs else 0.0, a.spring_ref if springs else 0.0)):
            if abs(av - ev) > tol.joint_param:
                out.append(finding(actual, "joints", quantity, j.name, expected=ev, actual=av, abs_error=abs(av - ev),
                                   tolerance=tol.joint_param, severity="error", cause=cause))
    # -- <mimic> joints ---------------------------------------------------------------------------
    probe = actual.mimic
    from ..kinematics import massless_subtree_joints

    idle = set(massless_subtree_joints(exp_model))
    for j in exp_model.mimic_joints:
        m = mimic_of(j)
        r = probe.get(j.name)
        if r is None or is_model:
            continue
        if j.name in idle:  # romeo's massless fingers: no engine's motion of such a joint is defined
            out.append(finding(actual, "joints", "mimic", j.name, expected=f"follows {m.joint}",
                               actual="not compared", severity="info", cause="massless_subtree",
                               detail="the follower moves no mass: its motion under the coupling is undefined "
                                      "(the model's massless_subtree finding)"))
            continue
        what = (f"after 0.2 s without torque: leader {r['leader'][0]:.4g} -> {r['leader'][1]:.4g}, follower "
                f"{r['follower'][0]:.4g} -> {r['follower'][1]:.4g} (q = {m.multiplier:g} q[{m.joint}] "
                f"{m.offset:+g} off by {r['residual'][0]:.3g} -> {r['residual'][1]:.3g})")
        # the cause is the mechanism the backend names for this outcome (an engine that ignores
        # <mimic>, a gear constraint, a joint equality...)
        outcome = "follows" if r["follows"] else "moves on its own"
        e = explained(actual, "joints", "mimic", j.name, outcome)
        if r["follows"]:
            out.append(finding(actual, "joints", "mimic", j.name, expected=f"follows {m.joint}",
                               actual=outcome, severity="info", cause=e.cause if e else "unsupported", detail=what))
        else:
            out.append(finding(actual, "joints", "mimic", j.name, expected=f"follows {m.joint}",
                               actual=outcome, severity="error", cause=e.cause if e else "unknown", detail=what))
    # -- <mimic> under motion: the coupled system (constrained forward dynamics) is the reference --
    motion = actual.mimic_motion
    for j in exp_model.mimic_joints:
        m = mimic_of(j)
        r = motion.get(j.name)
        if r is None or is_model:
            continue
        e_c, e_u = r["rel_error_constrained"], r["rel_error_unconstrained"]
        drift = r["max_residual"] / max(r["follower_travel"], 1e-12)
        if e_c <= 1e-6 and drift <= 1e-6:
            continue  # moves as the ideal coupling does
        out.append(finding(
            actual, "joints", "mimic_motion", j.name, expected=r6(r["constrained"]), actual=r6(r["qdd"]),
            abs_error=max(abs(a - b) for a, b in zip(r["qdd"], r["constrained"])), rel_error=e_c, tolerance=1e-6,
            severity="error" if max(e_c, drift) >= 0.25 else "warning", cause="unknown",
            detail=f"qdd [{m.joint}, {j.name}] of one step from rest on q = {m.multiplier:g} "
                   f"q[{m.joint}] {m.offset:+g}, torque on the free joints only: {_fmt(r['qdd'])}; the coupled "
                   f"system (constrained forward dynamics) gives {_fmt(r['constrained'])}, the unconstrained tree "
                   f"{_fmt(r['unconstrained'])} (rel {e_u:.3g}); over 0.05 s the follower leaves the coupling by up to "
                   f"{r['max_residual']:.3g} ({100 * drift:.3g}% of its travel)"))
    return out
