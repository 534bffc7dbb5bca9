"""Independent reference dynamics of a RobotModel, in numpy only: the 'expected' side of every
dynamics comparison is the declared model itself, never another engine.

Everything is in world coordinates with spatial vectors about the world origin, ordered
(angular, linear): a twist is (w, v_O) where v_O is the velocity of the body point at the world
origin. Mass matrix by composite rigid bodies (M_ij = S_i^T I^c_k S_j, k the deeper joint's child
subtree), bias forces by recursive Newton-Euler with gravity as a base acceleration. For a floating
base the root is held fixed (the joint block and the root-fixed bias, as the backends report them);
dynamics states therefore carry a zero root twist.
"""

from __future__ import annotations

import numpy as np

from ..kinematics import link_frames
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
        self.order = list(model.walk())  # joints, parents before children
        self.dof_index = {n: i for i, n in enumerate(model.joint_names)}
        # for each joint: index in self.order of the parent link's joint (-1: the root)
        link_joint = {j.child: k for k, j in enumerate(self.order)}
        self.parent = [link_joint.get(j.parent, -1) for j in self.order]
        # for each movable joint: the order indices and DoF indices of its movable ancestors, so that
        # a row of M is one matrix-vector product (CRBA stays O(n^2) in numpy calls otherwise)
        self._ancestors: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for k, j in enumerate(self.order):
            if not j.movable:
                continue
            ks, ds = [], []
            a = self.parent[k]
            while a >= 0:
                if self.order[a].movable:
                    ks.append(a)
                    ds.append(self.dof_index[self.order[a].name])
                a = self.parent[a]
            self._ancestors[k] = (np.array(ks, dtype=int), np.array(ds, dtype=int))

    def _setup(self, state: State):
        model = self.model
        F = link_frames(model, state)
        n = len(self.order)
        S = np.zeros((n, 6))
        Ibody = np.zeros((n + 1, 6, 6))  # last slot: the root link
        for k, j in enumerate(self.order):
            if j.movable:
                T = F[j.child]
                a = T[:3, :3] @ np.asarray(j.axis, dtype=float)
                p = T[:3, 3]
                if j.type == "prismatic":
                    S[k, 3:] = a
                else:
                    S[k, :3] = a
                    S[k, 3:] = np.cross(p, a)
        for k, link_name in enumerate([j.child for j in self.order] + [model.root]):
            link = model.link(link_name)
            if link.inertial is None or link.inertial.mass <= 0:
                continue
            T = F[link_name]
            R = T[:3, :3]
            com = (T @ np.append(link.inertial.com, 1.0))[:3]
            Ibody[k] = spatial_inertia(link.inertial.mass, com, R @ link.inertial.tensor_in_link @ R.T)
        return S, Ibody

    def mass_matrix(self, state: State) -> np.ndarray:
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

    def forward_dynamics(self, state: State, tau) -> np.ndarray:
        return np.linalg.solve(self.mass_matrix(state), np.asarray(tau, float) - self.bias_forces(state))
