"""Independent reference dynamics of a RobotModel, in numpy only: the 'expected' side of every
dynamics comparison is the declared model itself, never another engine.

Everything is in world coordinates with spatial vectors about the world origin, ordered
(angular, linear): a twist is (w, v_O) where v_O is the velocity of the body point at the world
origin. Mass matrix by composite rigid bodies (M_ij = S_i^T I^c_k S_j, k the deeper joint's child
subtree), bias forces by recursive Newton-Euler with gravity as a base acceleration. For a floating
base the root is held fixed (the joint block and the root-fixed bias, as the backends report them);
dynamics states therefore carry a zero root twist.

Armature and joint springs (MJCF's `armature`, `stiffness`, `springref`; `Joint.armature`,
`Joint.stiffness`, `Joint.spring_ref`): a joint's armature is added to the diagonal of M(q), as
MuJoCo's `mj_fullM` does (a rotor inertia geared to the joint: no coupling to other joints), so it
enters `mass_matrix`, `forward_dynamics` and the kinetic energy. A spring is a passive generalized
force, -k (q - spring_ref), with joint damping's -b dq: neither is a bias force (Coriolis,
centrifugal and gravity, by its definition) and neither enters `forward_dynamics` (M^-1 (tau - h):
what every engine's mass-matrix and inverse-dynamics calls give, free of damping and friction);
`passive_forces` gives them and `forward_dynamics(..., passive=True)` adds them, and a spring's
energy is in the potential energy.

`<mimic>` joints: `mass_matrix`, `bias_forces` and `forward_dynamics` are those of the
unconstrained tree, every joint an independent DoF: that is what every engine's mass-matrix and
inverse-dynamics calls report (the coupling is a constraint that acts only when stepping).
`mimic_map` and `constrained_forward_dynamics` give the coupled system: q = G q_free + c, the
accelerations an ideal (hard, frictionless) coupling produces.
"""

from __future__ import annotations

import numpy as np

from ..kinematics import joint_motion, root_transform
from ..model import RobotModel, State


def skew(v) -> np.ndarray:
    x, y, z = v
    return np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])


def crm(V: np.ndarray) -> np.ndarray:
    """Spatial motion cross product matrix of twist V = (w, v)."""
    X = np.zeros((6, 6))
    w, v = skew(V[:3]), skew(V[3:])
    X[:3, :3] = w
    X[3:, :3] = v
    X[3:, 3:] = w
    return X


def crf(V: np.ndarray) -> np.ndarray:
    return -crm(V).T


def spatial_inertia(mass: float, com_world: np.ndarray, I_com_world: np.ndarray) -> np.ndarray:
    """6x6 spatial inertia about the world origin."""
    C = skew(com_world)
    I = np.zeros((6, 6))
    I[:3, :3] = I_com_world + mass * C @ C.T
    I[:3, 3:] = mass * C
    I[3:, :3] = mass * C.T
    I[3:, 3:] = mass * np.eye(3)
    return I


class ReferenceDynamics:
    """M(q), bias forces h(q, dq) (M qdd + h = tau) and forward dynamics of `model`."""

    def __init__(self, model: RobotModel, gravity=(0.0, 0.0, -9.81)):
        self.model = model
        self.gravity = np.asarray(gravity, dtype=float)
        # Links welded together by fixed joints move as one rigid body: each such group is merged
        # once, here, into a composite body carried by its movable joint (or the root), so the work
        # per state grows with the movable joints, not with the links (10,000 fixed links cost
        # nothing per state).
        anchor: dict[str, str] = {model.root: model.root}  # link -> link that carries its group
        to_anchor: dict[str, np.ndarray] = {model.root: np.eye(4)}  # link frame in its anchor's frame
        self.order = []  # movable joints, parents before children
        self._place: list[np.ndarray] = []  # per movable joint: its origin in its parent anchor's frame
        for j in model.walk():
            if j.movable:
                anchor[j.child], to_anchor[j.child] = j.child, np.eye(4)
                self.order.append(j)
                self._place.append(to_anchor[j.parent] @ j.origin.matrix)
            else:
                anchor[j.child] = anchor[j.parent]
                to_anchor[j.child] = to_anchor[j.parent] @ j.origin.matrix
        self.dof_index = {n: i for i, n in enumerate(model.joint_names)}
        k_of = {j.child: k for k, j in enumerate(self.order)}
        # for each movable joint: index in self.order of the joint that moves its parent (-1: the root)
        self.parent = [k_of.get(anchor[j.parent], -1) for j in self.order]
        self._parent_anchor = [anchor[j.parent] for j in self.order]
        # composite mass, COM and inertia about the COM of every group, in its anchor's frame
        parts: dict[str, list] = {}
        for link in model.links:
            if link.inertial is None or link.inertial.mass <= 0:
                continue
            T = to_anchor[link.name]
            R = T[:3, :3]
            c = T[:3, :3] @ link.inertial.com + T[:3, 3]
            parts.setdefault(anchor[link.name], []).append((link.inertial.mass, c, R @ link.inertial.tensor_in_link @ R.T))
        self._body: dict[str, tuple[float, np.ndarray, np.ndarray]] = {}
        for name, items in parts.items():
            m = sum(p[0] for p in items)
            c = sum(p[0] * p[1] for p in items) / m
            inertia = np.zeros((3, 3))
            for mi, ci, Ii in items:
                d = ci - c
                inertia += Ii + mi * (d @ d * np.eye(3) - np.outer(d, d))
            self._body[name] = (m, c, inertia)
        # for each movable joint: the order indices and DoF indices of its ancestors, so that a row of
        # M is one matrix-vector product (CRBA stays O(n^2) in numpy calls otherwise)
        self._ancestors: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for k in range(len(self.order)):
            ks, ds = [], []
            a = self.parent[k]
            while a >= 0:
                ks.append(a)
                ds.append(self.dof_index[self.order[a].name])
                a = self.parent[a]
            self._ancestors[k] = (np.array(ks, dtype=int), np.array(ds, dtype=int))
        dof_joints = model.dof_joints
        # per DoF (canonical order): armature (kg m^2 or kg), spring stiffness (N m/rad or N/m), the
        # spring's rest position (rad or m) and viscous damping (N m s/rad or N s/m)
        self.armature = np.array([j.armature for j in dof_joints], dtype=float).reshape(model.dof)
        self.stiffness = np.array([j.stiffness for j in dof_joints], dtype=float).reshape(model.dof)
        self.spring_ref = np.array([j.spring_ref for j in dof_joints], dtype=float).reshape(model.dof)
        self.damping = np.array([j.damping for j in dof_joints], dtype=float).reshape(model.dof)

    def _frames(self, state: State) -> dict[str, np.ndarray]:
        """World frames of the root and of every movable joint's child link."""
        q = np.asarray(state.q, dtype=float)
        F = {self.model.root: root_transform(state, self.model)}
        for j, place, pa in zip(self.order, self._place, self._parent_anchor):
            F[j.child] = F[pa] @ place @ joint_motion(j, q[self.dof_index[j.name]])
        return F

    def _setup(self, state: State):
        model = self.model
        F = self._frames(state)
        n = len(self.order)
        S = np.zeros((n, 6))
        Ibody = np.zeros((n + 1, 6, 6))  # last slot: the root link
        for k, j in enumerate(self.order):
            T = F[j.child]
            a = T[:3, :3] @ np.asarray(j.axis, dtype=float)
            p = T[:3, 3]
            if j.type == "prismatic":
                S[k, 3:] = a
            else:
                S[k, :3] = a
                S[k, 3:] = np.cross(p, a)
        for k, link_name in enumerate([j.child for j in self.order] + [model.root]):
            body = self._body.get(link_name)
            if body is None:
                continue
            m, c, inertia = body
            T = F[link_name]
            R = T[:3, :3]
            Ibody[k] = spatial_inertia(m, R @ c + T[:3, 3], R @ inertia @ R.T)
        return S, Ibody

    def mass_matrix(self, state: State) -> np.ndarray:
        """(dof, dof) joint-space mass matrix M(q) (kg m^2, kg, kg m by joint kind), canonical joint
        order; each joint's armature on its diagonal. The root is held fixed (floating base: the joint
        block)."""
        S, Ibody = self._setup(state)
        n = len(self.order)
        Ic = Ibody[:n].copy()
        for k in range(n - 1, -1, -1):
            if self.parent[k] >= 0:
                Ic[self.parent[k]] += Ic[k]
        dof = self.model.dof
        M = np.zeros((dof, dof))
        for k, j in enumerate(self.order):
            if not j.movable:
                continue
            i = self.dof_index[j.name]
            f = Ic[k] @ S[k]
            M[i, i] = S[k] @ f
            ks, ds = self._ancestors[k]
            if len(ks):
                row = S[ks] @ f
                M[i, ds] = row
                M[ds, i] = row
        M[np.diag_indices(dof)] += self.armature
        return M

    def bias_forces(self, state: State) -> np.ndarray:
        """h = C(q, dq) dq + g(q), root held fixed (its twist taken from the state, normally 0)."""
        S, Ibody = self._setup(state)
        n = len(self.order)
        dq = np.asarray(state.dq, dtype=float)
        V0 = np.zeros(6)
        if state.floating and state.root_ang_vel is not None:
            w = np.asarray(state.root_ang_vel, dtype=float)
            V0 = np.concatenate([w, np.asarray(state.root_lin_vel, float) + np.cross(np.asarray(state.root_pos, float), w)])
        A0 = np.concatenate([np.zeros(3), -self.gravity])
        V = np.zeros((n, 6))
        A = np.zeros((n, 6))
        f = np.zeros((n, 6))
        for k, j in enumerate(self.order):
            Vp = V[self.parent[k]] if self.parent[k] >= 0 else V0
            Ap = A[self.parent[k]] if self.parent[k] >= 0 else A0
            qd = dq[self.dof_index[j.name]] if j.movable else 0.0
            V[k] = Vp + S[k] * qd
            A[k] = Ap + crm(V[k]) @ S[k] * qd
            f[k] = Ibody[k] @ A[k] + crf(V[k]) @ Ibody[k] @ V[k]
        h = np.zeros(self.model.dof)
        for k in range(n - 1, -1, -1):
            j = self.order[k]
            if j.movable:
                h[self.dof_index[j.name]] = S[k] @ f[k]
            if self.parent[k] >= 0:
                f[self.parent[k]] += f[k]
        return h

    def gravity_torques(self, state: State) -> np.ndarray:
        still = State(np.asarray(state.q, float), np.zeros(self.model.dof), state.root_pos, state.root_quat,
                      None if state.root_lin_vel is None else np.zeros(3),
                      None if state.root_ang_vel is None else np.zeros(3))
        return self.bias_forces(still)

    def passive_forces(self, state: State) -> np.ndarray:
        """(dof,) passive generalized forces (N m or N) of the joints themselves: springs
        -k (q - spring_ref) and viscous damping -b dq (Coulomb friction, a constraint, is not in it)."""
        q, dq = np.asarray(state.q, dtype=float), np.asarray(state.dq, dtype=float)
        return -self.stiffness * (q - self.spring_ref) - self.damping * dq

    def forward_dynamics(self, state: State, tau, passive: bool = False) -> np.ndarray:
        """(dof,) qdd of the unconstrained tree: M^-1 (tau - h) (a <mimic> coupling not applied), M
        with the armature; with `passive`, M^-1 (tau + passive_forces - h) (springs and damping). A
        joint that moves no mass gets 0 (see `compare.snapshot.solve_qdd`)."""
        from .snapshot import solve_qdd

        rhs = np.asarray(tau, float) - self.bias_forces(state)
        if passive:
            rhs = rhs + self.passive_forces(state)
        return solve_qdd(self.model, self.mass_matrix(state), rhs)

    def mimic_map(self) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """The `<mimic>` coupling as q = G q_free + c: G (dof, n_free), c (dof,), and the indices of
        the free coordinates (every joint that mimics none) in canonical order. A follower of a
        follower is resolved to the free joint at the end of the chain. Without mimic joints G = I."""
        model, idx = self.model, self.dof_index
        free = [i for i, j in enumerate(model.dof_joints) if j.mimic is None or j.mimic.joint not in idx]
        col = {i: k for k, i in enumerate(free)}
        G, c = np.zeros((model.dof, len(free))), np.zeros(model.dof)

        def resolve(j, depth=0):
            if depth > model.dof:
                raise ValueError(f"mimic cycle through joint {j.name!r}")
            if j.mimic is None or j.mimic.joint not in idx:
                return self.dof_index[j.name], 1.0, 0.0
            lead, m, o = resolve(model.joint(j.mimic.joint), depth + 1)
            return lead, j.mimic.multiplier * m, j.mimic.multiplier * o + j.mimic.offset

        for i, j in enumerate(model.dof_joints):
            lead, m, o = resolve(j)
            G[i, col[lead]], c[i] = m, o
        return G, c, free

    def constrained_forward_dynamics(self, state: State, tau) -> np.ndarray:
        """(dof,) qdd with every `<mimic>` coupling held exactly (an ideal, workless constraint):
        qdd = G (G^T M G)^-1 G^T (tau - h), `state` on the constraint (q = G q_free + c, dq = G dq_free).
        Torques on a follower act through the coupling. Equals `forward_dynamics` without mimic joints."""
        G, _, _ = self.mimic_map()
        M, h = self.mass_matrix(state), self.bias_forces(state)
        return G @ np.linalg.solve(G.T @ M @ G, G.T @ (np.asarray(tau, float) - h))

    def energy(self, states: list[State]) -> tuple[np.ndarray, np.ndarray]:
        """Kinetic and potential energy (J), (T,) each, of a sequence of states (batched over the
        states). Kinetic: sum over bodies of m |v_com|^2 / 2 + w^T I_com w / 2, with the root's own
        twist for a floating base (`State.root_lin_vel` is the root frame origin's velocity, world),
        plus each joint's armature a dq^2 / 2; potential: -sum m g . c_com, zero at the world origin,
        plus each joint spring's k (q - spring_ref)^2 / 2. Kinetic equals dq^T M(q) dq / 2 for a fixed
        base. Every joint is an independent DoF (a `<mimic>` coupling is a workless constraint)."""
        from scipy.spatial.transform import Rotation

        model, T = self.model, len(states)
        q = np.array([s.q for s in states], dtype=float).reshape(T, model.dof)
        dq = np.array([s.dq for s in states], dtype=float).reshape(T, model.dof)
        if model.floating:
            R0 = Rotation.from_quat(np.array([s.root_quat for s in states], dtype=float)).as_matrix()
            p0 = np.array([s.root_pos for s in states], dtype=float)
            w0 = np.array([s.root_ang_vel for s in states], dtype=float)
            v0 = np.array([s.root_lin_vel for s in states], dtype=float) + np.cross(p0, w0)
        else:
            M0 = root_transform(None, model)
            R0, p0 = np.broadcast_to(M0[:3, :3], (T, 3, 3)), np.broadcast_to(M0[:3, 3], (T, 3))
            w0 = v0 = np.zeros((T, 3))
        frames = {model.root: (R0, p0)}
        twists = {model.root: (w0, v0)}  # (angular, linear at the world origin), world
        for j, place, pa in zip(self.order, self._place, self._parent_anchor):
            Rp, pp = frames[pa]
            R = Rp @ place[:3, :3]
            p = pp + Rp @ place[:3, 3]
            axis = R @ np.asarray(j.axis, dtype=float)
            qi, dqi = q[:, self.dof_index[j.name]], dq[:, self.dof_index[j.name]][:, None]
            w, v = twists[pa]
            if j.type == "prismatic":
                frames[j.child] = (R, p + axis * qi[:, None])
                twists[j.child] = (w, v + axis * dqi)
            else:
                rot = Rotation.from_rotvec(np.asarray(j.axis, dtype=float)[None, :] * qi[:, None]).as_matrix()
                frames[j.child] = (R @ rot, p)
                twists[j.child] = (w + axis * dqi, v + np.cross(p, axis) * dqi)
        kinetic, potential = np.zeros(T), np.zeros(T)
        for name, (m, c, inertia) in self._body.items():
            R, p = frames[name]
            w, v = twists[name]
            com = p + R @ c
            v_com = v + np.cross(w, com)
            w_body = np.einsum("tji,tj->ti", R, w)
            kinetic += 0.5 * m * np.einsum("ti,ti->t", v_com, v_com) + 0.5 * np.einsum("ti,ij,tj->t", w_body, inertia, w_body)
            potential -= m * com @ self.gravity
        kinetic += 0.5 * (dq * dq) @ self.armature
        stretch = q - self.spring_ref
        potential += 0.5 * (stretch * stretch) @ self.stiffness
        return kinetic, potential
