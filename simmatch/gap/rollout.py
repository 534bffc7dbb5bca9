"""Rollouts with identical inputs in two engines.

`record_rollout` runs one backend from an initial state under a torque source and records, per
step: the canonical state, the commanded and applied torques, per-link contact (on/off, summed
normal force, deepest penetration), the engine's joint-limit forces (where it reports them) and the
generalized forces on the root DoFs. `one_step_states` resets dst to src's recorded state before
every step, so its error does not compound.

Root generalized forces (`root_forces`): for a model whose root is a chain of joints through
massless links (the hopper's planar root: rootx, rootz, rooty), the generalized force the engine's
constraint solver put on those DoFs during the step, recovered from the motion:
    Q_root = [M(q_t) (dq_{t+1} - dq_t) / dt + h(q_t, dq_t)]_root - tau_root.
It is exact for semi-implicit Euler (all three engines' default; MuJoCo's implicit joint damping
only touches the damped joints' diagonal, not the root rows). On the unactuated, undamped hopper
root it is the ground's push on the planar root: Fx (N), Fz (N) and the pitch torque (N m); in
stance Fz carries the robot's weight. It is None for a floating base (the root is not a joint).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..backends.base import Backend
from ..errors import PhysicsDiverged
from ..model import RobotModel, State, Trajectory
from .scenarios import Episode


def root_dofs(model: RobotModel) -> list[int]:
    """Indices (canonical order) of the joints of a root chain through massless links, ending at the
    first link with mass; [] when there is no such chain (a floating base, or a plain hinge)."""
    if model.floating:
        return []
    out, link, massless_seen = [], model.root, False
    while True:
        children = list(model.child_joints(link))
        if len(children) != 1:
            return []
        j = children[0]
        if j.movable:
            out.append(model.joint_names.index(j.name))
        if model.link(j.child).mass > 0:
            return out if massless_seen else []
        massless_seen = True
        link = j.child


def contact_links(model: RobotModel) -> list[str]:
    """Links with a collision shape, in canonical order."""
    return [n for n in model.link_order if model.link(n).collisions]


@dataclass
class Recording:
    """One engine's rollout. Arrays over steps: states has T + 1 entries (initial state first),
    torques T; contact arrays (T + 1, L) follow `links`."""

    engine: str
    states: list[State]
    commanded: np.ndarray  # (T, dof) torques asked for
    applied: np.ndarray  # (T, dof) after effort clipping, the backend's torque_scale and torque_map (last engine step)
    links: list[str] = field(default_factory=list)
    in_contact: np.ndarray | None = None  # (T+1, L) bool
    normal_force: np.ndarray | None = None  # (T+1, L) N, summed over the link's contact points
    penetration: np.ndarray | None = None  # (T+1, L) m, deepest point
    limit_forces: np.ndarray | None = None  # (T, dof) N m / N; None: the engine does not report them
    root_forces: np.ndarray | None = None  # (T, n_root) generalized forces on the root DoFs
    unstable_at: int | None = None  # step whose result was non-finite (the engine blew up); arrays stop there
    unstable_message: str = ""

    @property
    def steps(self) -> int:
        return len(self.states) - 1

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Flat arrays for an .npz file, names prefixed (e.g. 'src_q')."""
        s = self.states
        out = {"q": np.array([x.q for x in s]), "dq": np.array([x.dq for x in s]),
               "torque_commanded": self.commanded, "torque_applied": self.applied}
        if s and s[0].floating:
            out.update(root_pos=np.array([x.root_pos for x in s]), root_quat=np.array([x.root_quat for x in s]),
                       root_lin_vel=np.array([x.root_lin_vel for x in s]),
                       root_ang_vel=np.array([x.root_ang_vel for x in s]))
        for name in ("in_contact", "normal_force", "penetration", "limit_forces", "root_forces"):
            v = getattr(self, name)
            if v is not None:
                out[name] = v
        return {f"{prefix}_{k}": np.asarray(v) for k, v in out.items()}


def _contact_row(backend: Backend, index: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(index)
    on, force, pen = np.zeros(n, bool), np.zeros(n), np.zeros(n)
    for c in backend.contacts():
        i = index.get(c.link)
        if i is None:
            continue
        on[i] = True
        force[i] += c.normal_force
        pen[i] = max(pen[i], c.penetration)
    return on, force, pen


def record_rollout(backend: Backend, episode: Episode, horizon: int, *, record: bool = True,
                   substeps: int = 1, torques: np.ndarray | None = None,
                   progress: Callable[[int], None] | None = None) -> Recording:
    """Run `horizon` steps of `substeps` engine steps each (torque held over them) from the episode's
    initial state. Torques: `torques` if given, else the episode's sequence, else its policy
    evaluated on this backend's state."""
    model = backend.model
    seq = torques if torques is not None else episode.torques
    if not record and seq is not None:
        return _fast_rollout(backend, episode, np.asarray(seq[:horizon], dtype=float), substeps, progress)
    backend.set_state(episode.initial)
    backend.apply_torques(np.zeros(model.dof))
    state = backend.get_state()
    states = [state]
    commanded = np.zeros((horizon, model.dof))
    applied = np.zeros((horizon, model.dof))
    links = contact_links(model) if record else []
    index = {n: i for i, n in enumerate(links)}
    rec_contacts = record and backend.config.floor and bool(links)
    if rec_contacts:
        on = np.zeros((horizon + 1, len(links)), bool)
        force, pen = np.zeros((horizon + 1, len(links))), np.zeros((horizon + 1, len(links)))
        on[0], force[0], pen[0] = _contact_row(backend, index)
    roots = root_dofs(model) if record and substeps == 1 else []
    root_forces = np.zeros((horizon, len(roots))) if roots else None
    limit = None
    dt = backend.config.dt * substeps
    chunk = max(1, horizon // 50)
    unstable, message = None, ""
    for t in range(horizon):
        if seq is not None:
            tau = seq[t]
        else:
            assert episode.policy is not None, "an episode without torques has a policy (Episode)"
            tau = episode.policy(state)
        commanded[t] = tau
        if roots:
            M, h = backend.mass_matrix(), backend.bias_forces()
        applied[t] = backend.apply_torques(tau)
        backend.step(substeps)
        if backend.torque_map is not None:  # a state-dependent actuator: what the engine was given
            applied[t] = backend.last_applied
        try:
            new = backend.get_state()
        except PhysicsDiverged as exc:  # a result in itself: keep what came before
            unstable, message = t, str(exc)
            if progress is not None:
                progress(horizon - t)
            break
        if record:
            if roots:
                assert root_forces is not None, "allocated above whenever there are root DoFs"
                acc = (new.dq - state.dq) / dt
                root_forces[t] = M[roots] @ acc + h[roots] - applied[t][roots]
            lf = backend.joint_limit_forces()
            if lf is not None:
                if limit is None:
                    limit = np.zeros((horizon, model.dof))
                limit[t] = lf
            if rec_contacts:
                on[t + 1], force[t + 1], pen[t + 1] = _contact_row(backend, index)
        state = new
        states.append(state)
        if progress is not None and (t + 1) % chunk == 0:
            progress(chunk)
    if progress is not None and horizon % chunk and unstable is None:
        progress(horizon % chunk)
    n = len(states) - 1  # steps completed
    rec = Recording(backend.variant or backend.engine, states, commanded[:n], applied[:n], links,
                    limit_forces=None if limit is None else limit[:n],
                    root_forces=None if root_forces is None else root_forces[:n],
                    unstable_at=unstable, unstable_message=message)
    if rec_contacts:
        rec.in_contact, rec.normal_force, rec.penetration = on[:n + 1], force[:n + 1], pen[:n + 1]
    return rec


def _fast_rollout(backend: Backend, episode: Episode, seq: np.ndarray, substeps: int,
                  progress: Callable[[int], None] | None) -> Recording:
    """Open loop without recording: `Backend.rollout` in chunks (one progress tick per chunk)."""
    backend.set_state(episode.initial)
    backend.apply_torques(np.zeros(backend.model.dof))
    horizon = len(seq)
    chunk = max(1, horizon // 50) if progress is not None else max(1, horizon)
    parts: list[Trajectory] = []
    unstable: int | None = None
    message = ""
    for start in range(0, horizon, chunk):
        try:
            traj = backend.rollout(seq[start:start + chunk], substeps)
        except PhysicsDiverged as exc:  # an engine-level check after the chunk (MuJoCo's reset)
            unstable, message = start, str(exc)
            break
        parts.append(traj if not parts else _drop_first(traj))
        if traj.diverged_at is not None:
            unstable = start + traj.diverged_at
            message = f"{backend.engine}: non-finite state"
            break
        if progress is not None:
            progress(len(traj.applied))
    if progress is not None and unstable is not None:
        progress(horizon - unstable)
    states = [s for part in parts for s in part.states()]
    if not states:
        states = [backend.get_state()] if unstable is None else [episode.initial]
    applied = np.concatenate([part.applied for part in parts]) if parts else np.zeros((0, backend.model.dof))
    n = len(states) - 1
    return Recording(backend.variant or backend.engine, states, seq[:n].copy(), applied[:n],
                     unstable_at=unstable, unstable_message=message)


def _drop_first(traj: Trajectory) -> Trajectory:
    """A chunk after the first repeats the previous chunk's last state: drop it."""
    from dataclasses import replace

    def cut(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a[1:]

    return replace(traj, q=traj.q[1:], dq=traj.dq[1:], root_pos=cut(traj.root_pos), root_quat=cut(traj.root_quat),
                   root_lin_vel=cut(traj.root_lin_vel), root_ang_vel=cut(traj.root_ang_vel))


def one_step_states(dst: Backend, src: Recording, substeps: int = 1,
                    progress: Callable[[int], None] | None = None) -> list[State]:
    """dst's state after one step from each of src's states with src's commanded torque: T + 1
    states (the first is src's initial state), comparable step by step with src.states. Stops early
    (fewer states) when dst blows up from one of them."""
    out = [src.states[0]]
    T = src.steps
    chunk = max(1, T // 50)
    for t in range(T):
        dst.set_state(src.states[t])
        dst.apply_torques(src.commanded[t])
        dst.step(substeps)
        try:
            out.append(dst.get_state())
        except PhysicsDiverged:
            if progress is not None:
                progress(T - t)
            return out
        if progress is not None and (t + 1) % chunk == 0:
            progress(chunk)
    if progress is not None and T % chunk:
        progress(T % chunk)
    return out
