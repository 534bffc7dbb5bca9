"""simmatch's coordinates of a URDF `floating` joint on DART's `FreeJoint`.

simmatch expands a floating joint into x, y, z, yaw, pitch, roll (`model.expand_multi_dof`): the
child frame is T = Trans(x, y, z) Rz(yaw) Ry(pitch) Rx(roll) in the joint frame, the velocities are
the coordinates' rates. DART's URDF loader makes it a FreeJoint: positions (rotation vector,
translation), velocities v_d with the child-frame twist V = J_rel v_d (`getRelativeJacobian`,
measured on dartpy 6.20: not the identity). The map is exact away from pitch = +-pi/2 (where the
Euler chart is singular, for simmatch's own coordinates too):

- positions: T from the coordinates and back (x, y, z the translation; the ZYX Euler angles of R,
  chosen among the two branches and 2 pi turns nearest to the previous value, so that yaw and roll
  run on continuously as continuous joints do);
- velocities: V = J_c(q) dq with J_c the chain's child-frame Jacobian below; v_d = J_rel^-1 V;
- forces: power-equivalent, tau_d = J_rel^T J_c^-T tau_c;
- M and h: with v_d = J_m dq (J_m = J_rel^-1 J_c), M_c = J_m^T M_d J_m and
  h_c = J_m^T (h_d + M_d dJ_m dq), dJ_m dq = J_rel^-1 (dJ_c dq - dJ_rel v_d).

Twists are (angular, linear), both in the child frame, linear = velocity of the child origin.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation


def chain_transform(c: np.ndarray) -> np.ndarray:
    """(4, 4) child frame in the joint frame for coordinates c = (x, y, z, yaw, pitch, roll)."""
    T = np.eye(4)
    T[:3, :3] = Rotation.from_euler("ZYX", [c[3], c[4], c[5]]).as_matrix()
    T[:3, 3] = c[:3]
    return T


def chain_jacobian(c: np.ndarray) -> np.ndarray:
    """(6, 6) child-frame twist (angular; linear) per coordinate rate (columns x, y, z, yaw, pitch, roll)."""
    p, r = c[4], c[5]
    R = Rotation.from_euler("ZYX", [c[3], p, r]).as_matrix()
    J = np.zeros((6, 6))
    J[:3, 3] = (-np.sin(p), np.sin(r) * np.cos(p), np.cos(r) * np.cos(p))
    J[:3, 4] = (0.0, np.cos(r), -np.sin(r))
    J[:3, 5] = (1.0, 0.0, 0.0)
    J[3:, :3] = R.T
    return J


def chain_jdot_dq(c: np.ndarray, dc: np.ndarray) -> np.ndarray:
    """(6,) d/dt(J_c) dq: the child-frame twist rate when every coordinate's acceleration is 0."""
    p, r = c[4], c[5]
    dy, dp, dr = dc[3], dc[4], dc[5]
    sp, cp, sr, cr = np.sin(p), np.cos(p), np.sin(r), np.cos(r)
    w_dot = np.array([-cp * dp * dy,
                      -sr * dr * dp + (cr * dr * cp - sr * sp * dp) * dy,
                      -cr * dr * dp + (-sr * dr * cp - cr * sp * dp) * dy])
    V = chain_jacobian(c) @ np.asarray(dc, dtype=float)
    return np.concatenate([w_dot, -np.cross(V[:3], V[3:])])


def coordinates(T: np.ndarray, near: npt.ArrayLike | None = None) -> np.ndarray:
    """(6,) coordinates of the child frame T (joint frame), angles nearest to `near` (6,) if given."""
    ypr = Rotation.from_matrix(T[:3, :3]).as_euler("ZYX")
    out = np.concatenate([T[:3, 3], ypr])
    if near is None:
        return out
    near = np.asarray(near, dtype=float)
    best, err = out, np.inf
    y, p, r = ypr
    for cand in ((y, p, r), (y + np.pi, np.pi - p, r + np.pi)):
        c = np.array(cand)
        c += 2 * np.pi * np.round((near[3:] - c) / (2 * np.pi))
        e = float(np.sum((c - near[3:]) ** 2))
        if e < err:
            best, err = np.concatenate([T[:3, 3], c]), e
    return best
