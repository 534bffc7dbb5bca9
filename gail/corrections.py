"""Correction spaces: how a generator output becomes physics inside the source engine.

A generator emits an unbounded vector u. Each entry goes through tanh to t in (-1, 1), and t maps
piecewise-linearly onto a physical range [lo, hi] with t = 0 at the nominal value, so that a zero
output is the raw source engine:

    value = nominal + t (hi - nominal)   for t >= 0
    value = nominal + t (nominal - lo)   for t <  0

`contact` (the paper's 7 outputs for the hopper): contact-link lateral friction, restitution, a
softness in [0, 1] (below 0.05: the engine's rigid contact; above: compliant contact with
stiffness 10^(5 - 2 softness) N/m, i.e. 1e5 .. 1e3), a damping ratio for that compliant contact, and one torque
scale per actuated joint in [0.3, 1.5]. Dimensions the source engine cannot apply (MuJoCo:
restitution) are left out.

Several contact links (Laikago's four feet): friction, restitution, softness and damping ratio per
link, named `friction[toeFR]` etc. (4 x 4 + 12 torque scales = 28 outputs in PyBullet; MuJoCo: 24).

`force`: a bounded residual force (x, y, z) and torque (x, y, z), world frame, at each contact link,
applied only while that link is near the ground (its lowest collision point below `near_ground`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simmatch.model import RobotModel

from .features import actuated_indices

SPACES = ("contact", "force")
TORQUE_SCALE_RANGE = (0.0, 1.5)
RIGID_BELOW = 0.05  # softness under this is the engine's rigid contact (a dead zone around nominal)


@dataclass(frozen=True)
class Dim:
    name: str
    lo: float
    nominal: float
    hi: float


def to_unit(u) -> np.ndarray:
    return np.tanh(np.asarray(u, dtype=float))


def map_dims(dims: tuple[Dim, ...], u) -> np.ndarray:
    """Generator output (any real) -> physical values, each inside [lo, hi]."""
    t = to_unit(u)
    lo = np.array([d.lo for d in dims])
    nom = np.array([d.nominal for d in dims])
    hi = np.array([d.hi for d in dims])
    return np.where(t >= 0, nom + t * (hi - nom), nom + t * (nom - lo))


def invert_dims(dims: tuple[Dim, ...], value) -> np.ndarray:
    """Physical values -> the generator output that produces them (inside the open range)."""
    v = np.asarray(value, dtype=float)
    lo = np.array([d.lo for d in dims])
    nom = np.array([d.nominal for d in dims])
    hi = np.array([d.hi for d in dims])
    span = np.where(v >= nom, hi - nom, nom - lo)
    t = np.divide(v - nom, span, out=np.zeros_like(v), where=span > 0)
    return np.arctanh(np.clip(t, -0.999999, 0.999999))


def contact_links(model: RobotModel) -> list[str]:
    """Links that touch the ground in normal use: collision-bearing leaves of the tree (feet)."""
    parents = {j.parent for j in model.joints}
    leaves = [l.name for l in model.links if l.collisions and l.name not in parents]
    return leaves or [l.name for l in model.links if l.collisions][-1:]


class CorrectionSpace:
    """Maps generator outputs to corrections and applies them to a backend."""

    def __init__(self, kind: str, model: RobotModel, engine_supports: tuple[str, ...] = (
            "friction", "restitution", "stiffness", "damping"), links: list[str] | None = None,
                 max_force: float | None = None, max_torque: float = 10.0, near_ground: float = 0.05):
        if kind not in SPACES:
            raise ValueError(f"unknown correction space {kind!r}; choose from {', '.join(SPACES)}")
        self.kind, self.model = kind, model
        self.links = links or contact_links(model)
        self.near_ground = near_ground
        self.per_link = len(self.links) > 1
        self.total_mass = model.total_mass  # kg (a property that sums the links: asked every step)
        dims: list[Dim] = []
        if kind == "contact":
            # one set of contact outputs for a single contact link (the hopper's names), one per link
            # (suffix [link]) for several: the paper's per-foot contact of Laikago
            for link in self.links:
                sfx = f"[{link}]" if self.per_link else ""
                cp = model.link(link).contact
                mu = cp.lateral_friction if cp is not None and cp.lateral_friction is not None else 1.0
                rest = cp.restitution if cp is not None and cp.restitution is not None else 0.0
                dims.append(Dim(f"friction{sfx}", 0.3 * mu, mu, 2.0 * mu))
                if "restitution" in engine_supports:
                    dims.append(Dim(f"restitution{sfx}", 0.0, rest, 0.6))
                if "stiffness" in engine_supports and "damping" in engine_supports:
                    dims.append(Dim(f"softness{sfx}", 0.0, 0.0, 1.0))
                    dims.append(Dim(f"damping_ratio{sfx}", 0.1, 1.0, 3.0))
            lo, hi = TORQUE_SCALE_RANGE
            for i in actuated_indices(model):
                dims.append(Dim(f"torque_scale[{model.joint_names[i]}]", lo, 1.0, hi))
        else:
            fmax = max_force if max_force is not None else 0.3 * model.total_mass * 9.81
            for link in self.links:
                for a in "xyz":
                    dims.append(Dim(f"force_{a}[{link}]", -fmax, 0.0, fmax))
                for a in "xyz":
                    dims.append(Dim(f"torque_{a}[{link}]", -max_torque, 0.0, max_torque))
        self.dims = tuple(dims)
        self.names = [d.name for d in self.dims]
        # map_dims' bounds and the torque-scale entries, looked up once (apply runs every control step)
        self._lo, self._nom, self._hi = (np.array([getattr(d, k) for d in self.dims]) for k in ("lo", "nominal", "hi"))
        self._up, self._down = self._hi - self._nom, self._nom - self._lo
        self._scale_at = [(i, self.names.index(f"torque_scale[{model.joint_names[i]}]"))
                          for i in actuated_indices(model)] if kind == "contact" else []
        self._scale_joints = np.array([i for i, _ in self._scale_at], dtype=int)
        self._scale_outputs = np.array([k for _, k in self._scale_at], dtype=int)
        # per contact link: positions in the output of friction, restitution, softness, damping ratio (-1: absent)
        self._link_at: list[tuple[str, int, int, int, int]] = []
        for link in self.links if kind == "contact" else []:
            sfx = f"[{link}]" if self.per_link else ""
            i_fric, i_rest, i_soft, i_damp = (self.names.index(n) if n in self.names else -1 for n in (
                f"friction{sfx}", f"restitution{sfx}", f"softness{sfx}", f"damping_ratio{sfx}"))
            self._link_at.append((link, i_fric, i_rest, i_soft, i_damp))

    @property
    def dim(self) -> int:
        return len(self.dims)

    def physical(self, u) -> np.ndarray:
        """map_dims(self.dims, u), with the bounds looked up once."""
        t = np.tanh(np.asarray(u, dtype=float))
        return self._nom + t * np.where(t >= 0, self._up, self._down)  # the same numbers as map_dims

    def index(self, name: str) -> int:
        return self.names.index(name)

    def torque_scale_index(self, joint: str) -> int:
        return self.index(f"torque_scale[{joint}]")

    # -- applying -------------------------------------------------------------------------------
    def apply(self, backend, u, base_torque_scale: np.ndarray, lowest_z: dict | None = None) -> np.ndarray:
        """Set the correction for the next control step on `backend`; returns the physical values.
        `lowest_z`: link -> lowest collision point height (force space only)."""
        v = self.physical(u)
        if self.kind == "contact":
            vals = v.tolist()
            for link, i_fric, i_rest, i_soft, i_damp in self._link_at:
                soft = vals[i_soft] if i_soft >= 0 else 0.0
                stiffness = damping = None
                if soft > RIGID_BELOW:
                    stiffness = 10.0 ** (5.0 - 2.0 * soft)
                    damping = 2.0 * vals[i_damp] * math.sqrt(stiffness * self.total_mass)
                backend.set_contact_params(link, friction=vals[i_fric], restitution=vals[i_rest] if i_rest >= 0 else None,
                                           stiffness=stiffness, damping=damping)
            scale = np.ones(self.model.dof)
            scale[self._scale_joints] = v[self._scale_outputs]
            backend.torque_scale = base_torque_scale * scale
        else:
            for k, link in enumerate(self.links):
                f, t = v[6 * k:6 * k + 3], v[6 * k + 3:6 * k + 6]
                near = lowest_z is None or lowest_z.get(link, 0.0) < self.near_ground
                if not near:
                    f, t = np.zeros(3), np.zeros(3)
                backend.apply_external_force(link, f, t)
        return v


def lowest_points(backend, links: list[str]) -> dict[str, float]:
    """Lowest world z of each link's collision shapes (spheres/capsules/boxes: conservative bound)."""
    frames = backend.link_frames()
    out = {}
    for name in links:
        link = backend.model.link(name)
        T = frames.get(name)
        if T is None:
            out[name] = 0.0
            continue
        zs = []
        for g in link.collisions:
            G = T @ g.origin.matrix
            r = g.radius or 0.0
            if g.kind in ("capsule", "cylinder"):
                half = 0.5 * (g.length or 0.0)
                ends = [G @ np.array([0, 0, s * half, 1.0]) for s in (-1, 1)]
                zs.append(min(e[2] for e in ends) - r)
            elif g.kind == "box":
                hs = 0.5 * np.array(g.size)
                corners = [G @ np.array([sx * hs[0], sy * hs[1], sz * hs[2], 1.0])
                           for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]
                zs.append(min(c[2] for c in corners))
            else:
                zs.append(G[2, 3] - r)
        out[name] = min(zs) if zs else T[2, 3]
    return out
