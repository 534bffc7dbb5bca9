"""A fourth engine, for the tests: `FakeBackend` implements simmatch's `Backend` protocol in pure
numpy, and nothing outside `simmatch/backends/` knows about it. `register()` plugs it into the
registry (`simmatch.backends.register`); from then on `check`, `gap`, `--engines`, `--src/--dst`,
target variants and the findings' causes find it through the registry and its `Capabilities`.

What it simulates (and declares):
- dynamics: simmatch's own reference dynamics (`simmatch.compare.reference.ReferenceDynamics`:
  M(q), bias forces, `<mimic>` couplings as ideal constraints), integrated by semi-implicit Euler
  (dq += dt qdd, then q += dt dq), fixed base only (a floating base is a load failure with its
  cause);
- joints: limits as hard stops (position projected onto the range, the velocity into it stopped),
  URDF damping applied explicitly (-b dq, like PyBullet), URDF friction as a smooth
  -f tanh(dq / 0.01) force (declared: not a constraint);
- contact: a penalty floor at z = 0 (spring-damper per contact point, N/m and N s/m: the config's
  contact stiffness/damping, or FLOOR_STIFFNESS critically damped on the robot's weight), with
  regularised Coulomb friction; spheres, capsules, boxes and cylinders collide, meshes and planes
  do not (declared), no restitution (declared);
- run time: per-link friction and spring-damper contact, external forces at a link's COM.
The "native" load is the matched build: the fake has no URDF importer of its own.
"""

from __future__ import annotations

import numpy as np

from simmatch.backends import register as _register
from simmatch.backends import unregister as _unregister
from simmatch.backends.base import Backend, Capabilities, ContactPoint, Readback, Unsupported, UnsupportedKind
from simmatch.causes import Cause
from simmatch.compare.reference import ReferenceDynamics
from simmatch.compare.snapshot import solve_qdd
from simmatch.errors import EngineFailure
from simmatch.kinematics import joint_range, link_coms, link_frames
from simmatch.model import ContactParams, RobotModel, State

NAME = "fake"
FLOOR_STIFFNESS = 2.0e4  # N/m per contact point, when the config gives none
FRICTION_VELOCITY = 0.01  # m/s or rad/s: the speed at which regularised friction reaches its full value
COLLIDED = frozenset({"sphere", "capsule", "box", "cylinder"})

CAUSES = (
    Cause("fake_fixed_base_only", NAME,
          "The fake engine integrates the joint coordinates of a fixed base only.",
          "Check a floating-base model with --base fixed, or use another engine."),
    Cause("fake_penalty_contact", NAME,
          "The fake engine's floor is a spring-damper per contact point (penetration is allowed) with "
          "regularised Coulomb friction (contacts creep).",
          "Give the contact a stiffness and damping (config contact, or a soft-floor variant) so that both "
          "sides use the same spring."),
    Cause("fake_no_mesh_collision", NAME,
          "The fake engine collides spheres, capsules, boxes and cylinders only: mesh and plane shapes do "
          "not touch the floor.",
          "Replace the mesh or plane by primitive shapes where contact matters."),
    Cause("fake_no_restitution", NAME,
          "The fake engine's contacts have no restitution coefficient (the damper takes the bounce).",
          "Set restitution to 0 if all engines must agree."),
    Cause("fake_smooth_joint_friction", NAME,
          "The fake engine applies URDF joint friction as the smooth force -f tanh(dq / 0.01), not as a "
          "constraint: a joint loaded below its friction creeps.",
          "Set joint friction to 0 if all engines must agree."),
)


class FakeBackend(Backend):
    engine = NAME
    capabilities = Capabilities(
        contact_params=("friction", "stiffness", "damping"),
        external_forces=True,
        compliant_contact="force",
        shapes=COLLIDED,
        mesh_formats=frozenset(),  # reads no mesh: meshes do not collide
        variants=frozenset({"soft-floor", "heavy-head", "low-power"}),
        collision_detectors=("penalty",),
        unsupported={
            "penalty_contact": UnsupportedKind("contact", "fake_penalty_contact"),
            "collision_shape": UnsupportedKind("contact", "fake_no_mesh_collision"),
            "restitution": UnsupportedKind("contact", "fake_no_restitution"),
            "joint_friction": UnsupportedKind("joints", "fake_smooth_joint_friction"),
        },
        causes=CAUSES,
    )

    def __init__(self, model: RobotModel, config=None, load: str = "matched"):
        super().__init__(model, config, load)
        if model.floating:
            raise EngineFailure(NAME, load, f"{model.name} has a floating base: the fake engine has a fixed base "
                                            "only", cause="fake_fixed_base_only")
        cfg = self.config
        self.notes.append("pure numpy: reference dynamics, semi-implicit Euler, penalty floor"
                          + ("" if load == "matched" else "; no URDF importer of its own: native = matched"))
        self._ref = ReferenceDynamics(model, cfg.gravity)
        self._q, self._dq = np.zeros(model.dof), np.zeros(model.dof)
        self._index = {n: i for i, n in enumerate(model.joint_names)}
        self._parent_joint = {j.child: j for j in model.joints}
        dofj = model.dof_joints
        self._damping = np.array([j.damping for j in dofj], dtype=float)
        self._friction = np.array([j.friction for j in dofj], dtype=float)
        limited = [i for i, j in enumerate(dofj) if j.limited]
        self._lim_idx = np.array(limited, dtype=int)
        self._lo = np.array([joint_range(dofj[i])[0] for i in limited], dtype=float)
        self._hi = np.array([joint_range(dofj[i])[1] for i in limited], dtype=float)
        self._mimic = bool(model.mimic_joints)
        # contact: per-link friction and spring-damper (None: the floor's)
        mass = max(model.total_mass, 1e-3)
        k = cfg.contact.stiffness if cfg.contact.stiffness is not None else FLOOR_STIFFNESS
        b = cfg.contact.damping if cfg.contact.damping is not None else 2.0 * np.sqrt(k * mass)
        self._floor = (float(k), float(b))
        self._link_friction: dict[str, float] = {}
        self._link_spring: dict[str, tuple[float, float]] = {}
        self._external: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._shapes = []  # (link, geometry) pairs that collide
        for link in model.links:
            contact = link.contact or ContactParams()
            self._link_friction[link.name] = (contact.lateral_friction if contact.lateral_friction is not None
                                              else cfg.contact.friction)
            if contact.stiffness is not None and contact.damping is not None:
                self._link_spring[link.name] = (contact.stiffness, contact.damping)
            if contact.restitution:
                self.unsupported.append(Unsupported("restitution", link.name,
                                                    f"restitution {contact.restitution:g} declared: no coefficient"))
            for g in link.collisions:
                if g.kind in COLLIDED:
                    self._shapes.append((link.name, g))
                else:
                    self.unsupported.append(Unsupported("collision_shape", link.name,
                                                        f"{g.describe()} does not collide (no {g.kind} contact)"))
        if cfg.floor and self._shapes:
            self.unsupported.append(Unsupported("penalty_contact", "floor",
                                                f"spring-damper floor (k {k:g} N/m, b {b:g} N s/m per point), "
                                                f"regularised Coulomb friction"))
        if cfg.contact.restitution:
            self.unsupported.append(Unsupported("restitution", "floor", "no restitution coefficient"))
        for j in dofj:
            if j.friction:
                self.unsupported.append(Unsupported("joint_friction", j.name,
                                                    f"friction {j.friction:g} as -f tanh(dq / {FRICTION_VELOCITY:g})"))

    # -- state ----------------------------------------------------------------------------------
    def _state(self) -> State:
        return State(self._q, self._dq)

    def _set_state(self, state: State) -> None:
        self._q = np.array(state.q, dtype=float)
        self._dq = np.array(state.dq, dtype=float)

    def _get_state(self) -> State:
        return State(self._q.copy(), self._dq.copy())

    def _read_joint_state(self, q_out, dq_out) -> None:
        q_out[:], dq_out[:] = self._q, self._dq

    def _apply_torques(self, tau) -> None:
        pass  # the base class keeps them in self._torque

    # -- contact and external forces as generalized forces ----------------------------------------
    def _jacobian(self, frames: dict, link: str, point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(3, dof) linear Jacobian of a world point fixed to `link`, and (3, dof) angular Jacobian."""
        Jv, Jw = np.zeros((3, self.dof)), np.zeros((3, self.dof))
        name = link
        while name in self._parent_joint:
            j = self._parent_joint[name]
            if j.movable:
                T = frames[j.parent] @ j.origin.matrix
                axis = T[:3, :3] @ np.asarray(j.axis, dtype=float)
                i = self._index[j.name]
                if j.type == "prismatic":
                    Jv[:, i] = axis
                else:
                    Jv[:, i] = np.cross(axis, point - T[:3, 3])
                    Jw[:, i] = axis
            name = j.parent
        return Jv, Jw

    def _contact_points(self, frames: dict) -> list[tuple[str, np.ndarray, float]]:
        """(link, lowest point of the shape part, penetration) for every shape part below z = 0."""
        out = []
        ez = np.array([0.0, 0.0, 1.0])
        for link, g in self._shapes:
            T = frames[link] @ g.origin.matrix
            c, a = T[:3, 3], T[:3, 2]
            if g.kind == "sphere":
                parts = [(c, g.radius)]
            elif g.kind == "capsule":
                parts = [(c + s * 0.5 * g.length * a, g.radius) for s in (-1.0, 1.0)]
            elif g.kind == "box":
                hx, hy, hz = (0.5 * s for s in g.size)
                parts = [((T @ np.array([x, y, z, 1.0]))[:3], 0.0) for x in (-hx, hx) for y in (-hy, hy)
                         for z in (-hz, hz)]
            else:  # cylinder: the lowest rim point of each end cap (4 rim points when the axis is vertical)
                d = ez - (ez @ a) * a
                n = np.linalg.norm(d)
                dirs = [d / n] if n > 1e-9 else [T[:3, 0], -T[:3, 0], T[:3, 1], -T[:3, 1]]
                parts = [(c + s * 0.5 * g.length * a - g.radius * u, 0.0) for s in (-1.0, 1.0) for u in dirs]
            for centre, r in parts:
                depth = r - centre[2]
                if depth > 0.0:
                    out.append((link, centre - r * ez, depth))
        return out

    def _contact_forces(self, frames: dict) -> tuple[np.ndarray, list[ContactPoint]]:
        tau = np.zeros(self.dof)
        points = []
        if not self.config.floor:
            return tau, points
        for link, p, depth in self._contact_points(frames):
            Jv, _ = self._jacobian(frames, link, p)
            v = Jv @ self._dq
            k, b = self._link_spring.get(link, self._floor)
            fn = max(0.0, k * depth - b * v[2])
            vt = v[:2]
            ft = -self._link_friction[link] * fn * vt / np.sqrt(vt @ vt + FRICTION_VELOCITY ** 2)
            f = np.array([ft[0], ft[1], fn])
            tau += Jv.T @ f
            points.append(ContactPoint(link, "floor", p.copy(), np.array([0.0, 0.0, 1.0]), float(fn), float(depth)))
        return tau, points

    def _external_forces(self, frames: dict) -> np.ndarray:
        tau = np.zeros(self.dof)
        if not self._external:
            return tau
        coms = link_coms(self.model, self._state())
        for link, (f, t) in self._external.items():
            Jv, Jw = self._jacobian(frames, link, coms.get(link, frames[link][:3, 3]))
            tau += Jv.T @ f + Jw.T @ t
        return tau

    def _step(self) -> None:
        s = self._state()
        frames = link_frames(self.model, s)
        contact, _ = self._contact_forces(frames)
        tau = (self._torque + contact + self._external_forces(frames) - self._damping * self._dq
               - self._friction * np.tanh(self._dq / FRICTION_VELOCITY))
        if self._mimic:
            qdd = self._ref.constrained_forward_dynamics(s, tau)
        else:
            qdd = solve_qdd(self.model, self._ref.mass_matrix(s), tau - self._ref.bias_forces(s))
        dt = self.config.dt
        self._dq = self._dq + dt * qdd
        self._q = self._q + dt * self._dq
        if len(self._lim_idx):  # hard stops: back onto the range, no velocity out of it
            i, q = self._lim_idx, self._q[self._lim_idx]
            below, above = q < self._lo, q > self._hi
            self._q[i] = np.clip(q, self._lo, self._hi)
            dq = self._dq[i]
            self._dq[i] = np.where(below, np.maximum(dq, 0.0), np.where(above, np.minimum(dq, 0.0), dq))

    # -- run-time corrections ---------------------------------------------------------------------
    def _link(self, link: str) -> str:
        if link not in self._link_friction:
            raise EngineFailure(NAME, self.load, f"no link {link!r} in {self.model.name}")
        return link

    def set_contact_params(self, link, friction=None, restitution=None, stiffness=None, damping=None) -> None:
        link = self._link(link)
        if restitution:
            raise EngineFailure(NAME, self.load, "the fake engine has no restitution coefficient")
        if friction is not None:
            self._link_friction[link] = float(friction)
        if stiffness is not None and damping is not None:
            self._link_spring[link] = (float(stiffness), float(damping))
        else:
            self._link_spring.pop(link, None)

    def apply_external_force(self, link, force, torque=None) -> None:
        link = self._link(link)
        f = np.asarray(force, dtype=float).reshape(3)
        t = np.zeros(3) if torque is None else np.asarray(torque, dtype=float).reshape(3)
        if f.any() or t.any():
            self._external[link] = (f, t)
        else:
            self._external.pop(link, None)

    # -- what the engine holds ----------------------------------------------------------------------
    def readback(self) -> Readback:
        """The model as the fake holds it: every collision shape it collides (meshes and planes do
        not), each link's contact with the friction it uses."""
        from dataclasses import replace

        links = []
        for link in self.model.links:
            contact = replace(link.contact or ContactParams(), lateral_friction=self._link_friction[link.name],
                              restitution=None)
            cols = tuple(g for g in link.collisions if g.kind in COLLIDED)
            links.append(replace(link, collisions=cols, contact=contact))
        return Readback(replace(self.model, links=tuple(links)))

    def link_frames(self) -> dict[str, np.ndarray]:
        return link_frames(self.model, self._state())

    def link_coms(self) -> dict[str, np.ndarray]:
        return link_coms(self.model, self._state())

    def mass_matrix(self) -> np.ndarray:
        return self._ref.mass_matrix(self._state())

    def bias_forces(self) -> np.ndarray:
        return self._ref.bias_forces(self._state())

    def contacts(self) -> list[ContactPoint]:
        return self._contact_forces(link_frames(self.model, self._state()))[1]


def register() -> None:
    """Plug the fake engine into simmatch's registry (the only thing a fourth engine needs)."""
    _register(NAME, FakeBackend)


def unregister() -> None:
    _unregister(NAME)
