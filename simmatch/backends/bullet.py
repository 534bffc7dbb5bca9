"""PyBullet backend.

`native` calls `loadURDF` with default flags, as most users do: PyBullet then recomputes inertia
from collision shapes, leaves a velocity motor on every joint, damps every link by 0.04 and caps
joint speed at 100 rad/s. `matched` writes a normalised URDF (principal-axis inertial frames,
explicit masses), loads it with URDF_USE_INERTIA_FROM_FILE and removes every hidden behaviour.
"""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET

import numpy as np
import pybullet as p
from scipy.spatial.transform import Rotation

from ..config import SimConfig
from ..errors import EngineFailure
from ..model import ContactParams, Geometry, Inertial, Joint, Limit, Link, Pose, RobotModel, State, rpy_of
from .base import Backend, ContactPoint, Readback, Unsupported

_JOINT_TYPES = {p.JOINT_REVOLUTE: "revolute", p.JOINT_PRISMATIC: "prismatic", p.JOINT_FIXED: "fixed",
                p.JOINT_SPHERICAL: "spherical", p.JOINT_PLANAR: "planar"}
_DEFAULT_LINK_DAMPING = 0.04  # PyBullet's multibody default, not readable through its API
_DEFAULT_MAX_JOINT_VELOCITY = 100.0
_NO_VELOCITY_CAP = 1e6
_TORQUE_CONTROL = p.TORQUE_CONTROL


def _fmt(v) -> str:
    return " ".join(repr(float(x)) for x in np.atleast_1d(v))


def _num(x) -> str:
    return repr(float(x))


def _pose_el(parent: ET.Element, pose: Pose) -> None:
    ET.SubElement(parent, "origin", xyz=_fmt(pose.xyz), rpy=_fmt(pose.rpy))


def _geometry_el(parent: ET.Element, g: Geometry) -> None:
    _pose_el(parent, g.origin)
    geom = ET.SubElement(parent, "geometry")
    if g.kind == "box":
        ET.SubElement(geom, "box", size=_fmt(g.size))
    elif g.kind == "sphere":
        ET.SubElement(geom, "sphere", radius=_num(g.radius))
    elif g.kind in ("cylinder", "capsule"):
        ET.SubElement(geom, g.kind, radius=_num(g.radius), length=_num(g.length))
    else:
        ET.SubElement(geom, "mesh", filename=g.filename, scale=_fmt(g.scale))


def principal_inertial(inertial: Inertial) -> tuple[Pose, np.ndarray]:
    """Inertial frame rotated onto principal axes: PyBullet reads only ixx, iyy, izz."""
    T = inertial.tensor
    if not np.any(T - np.diag(np.diag(T))):  # already principal: keep the declared frame exactly
        return inertial.origin, np.diag(T).copy()
    I = inertial.tensor_in_link
    w, V = np.linalg.eigh(I)
    if np.linalg.det(V) < 0:
        V[:, 0] *= -1
    if np.allclose(V, np.eye(3), atol=0):  # keep exact identity frames exact
        rpy = (0.0, 0.0, 0.0)
    else:
        rpy = rpy_of(Rotation.from_matrix(V))
    return Pose(inertial.origin.xyz, rpy), w


def matched_urdf(model: RobotModel) -> str:
    """The canonical model as a URDF PyBullet reads without surprises."""
    robot = ET.Element("robot", name=model.name)
    for link in model.links:
        el = ET.SubElement(robot, "link", name=link.name)
        ine = ET.SubElement(el, "inertial")
        if link.inertial is not None and link.inertial.mass > 0:
            pose, diag = principal_inertial(link.inertial)
            _pose_el(ine, pose)
            ET.SubElement(ine, "mass", value=_num(link.inertial.mass))
            ET.SubElement(ine, "inertia", ixx=_num(diag[0]), iyy=_num(diag[1]), izz=_num(diag[2]),
                          ixy="0", ixz="0", iyz="0")
        else:
            ET.SubElement(ine, "mass", value="0")
            ET.SubElement(ine, "inertia", ixx="0", iyy="0", izz="0", ixy="0", ixz="0", iyz="0")
        for g in link.collisions:
            _geometry_el(ET.SubElement(el, "collision"), g)
    for j in model.joints:
        jt = "revolute" if j.type == "continuous" else j.type
        if jt in ("floating", "planar"):
            jt = "fixed"
        el = ET.SubElement(robot, "joint", name=j.name, type=jt)
        ET.SubElement(el, "parent", link=j.parent)
        ET.SubElement(el, "child", link=j.child)
        _pose_el(el, j.origin)
        ET.SubElement(el, "axis", xyz=_fmt(j.axis))
        if j.limited:
            lo, hi = j.limit.lower, j.limit.upper
        else:  # continuous or unlimited: lower > upper means 'no limit' to PyBullet
            lo, hi = 1.0, -1.0
        ET.SubElement(el, "limit", lower=_num(lo), upper=_num(hi),
                      effort=_num((j.limit.effort if j.limit else 0.0) or 0.0),
                      velocity=_num((j.limit.velocity if j.limit else 0.0) or 0.0))
        ET.SubElement(el, "dynamics", damping=_num(j.damping), friction=_num(j.friction))
    ET.indent(robot)  # PyBullet's XML reader fails on very long lines
    return ET.tostring(robot, encoding="unicode")


def _qmul(a, b) -> tuple:
    """Hamilton product of two x-y-z-w quaternions (a then b, as scipy's Rotation a * b)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz)


def _qrot(q, v) -> tuple:
    """v rotated by the unit x-y-z-w quaternion q."""
    x, y, z, w = q
    tx, ty, tz = 2 * (y * v[2] - z * v[1]), 2 * (z * v[0] - x * v[2]), 2 * (x * v[1] - y * v[0])
    return (v[0] + w * tx + y * tz - z * ty, v[1] + w * ty + z * tx - x * tz, v[2] + w * tz + x * ty - y * tx)


def _matrix(pos, quat_xyzw) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = Rotation.from_quat(quat_xyzw).as_matrix()
    T[:3, 3] = pos
    return T


class BulletBackend(Backend):
    engine = "bullet"

    def __init__(self, model: RobotModel, config: SimConfig | None = None, load: str = "matched"):
        super().__init__(model, config, load)
        self._floating = model.floating
        self.cid = p.connect(p.DIRECT)
        try:
            self._build()
        except Exception:
            p.disconnect(self.cid)
            raise

    # -- build --------------------------------------------------------------------------------
    def _build(self) -> None:
        cfg, c = self.config, self.cid
        p.setGravity(*cfg.gravity, physicsClientId=c)
        p.setPhysicsEngineParameter(fixedTimeStep=cfg.dt, numSolverIterations=cfg.solver_iterations,
                                    numSubSteps=0, deterministicOverlappingPairs=1, physicsClientId=c)
        fixed = not self.model.floating
        if self.load == "native":
            body = p.loadURDF(os.path.abspath(self.model.source), useFixedBase=fixed, physicsClientId=c)
            self.notes.append("loadURDF with default flags")
        else:
            with tempfile.NamedTemporaryFile("w", suffix=".urdf", delete=False) as f:
                f.write(matched_urdf(self.model))
                path = f.name
            try:
                body = p.loadURDF(path, useFixedBase=fixed, flags=p.URDF_USE_INERTIA_FROM_FILE,
                                  physicsClientId=c)
            finally:
                os.unlink(path)
            self.notes.append("URDF_USE_INERTIA_FROM_FILE; velocity motors off; link damping 0")
        if body < 0:
            raise EngineFailure("bullet", self.load, "loadURDF failed")
        self.body = body
        n = p.getNumJoints(body, physicsClientId=c)
        self._info = [p.getJointInfo(body, i, physicsClientId=c) for i in range(n)]
        self.link_index = {self.model.root: -1}
        self.link_index.update({info[12].decode(): i for i, info in enumerate(self._info)})
        by_name = {info[1].decode(): i for i, info in enumerate(self._info)}
        missing = [j for j in self.joint_names if j not in by_name]
        if missing:
            raise EngineFailure("bullet", self.load, f"joints missing after load: {', '.join(missing)}")
        self.jidx = [by_name[j] for j in self.joint_names]
        if n:
            try:  # PyBullet's shared-memory state holds 128 DoF: a bigger body loads but reads back nothing
                p.getJointState(body, 0, physicsClientId=c)
            except p.error:
                raise EngineFailure("bullet", self.load, f"PyBullet loads this {n}-joint body but cannot read its "
                                    "joint states back (getJointState fails on bodies of 128 joints or more, "
                                    "fixed ones included; measured: 127 work, 128 fail)") from None
        self.floor = -1
        if cfg.floor:
            plane = p.createCollisionShape(p.GEOM_PLANE, physicsClientId=c)
            self.floor = p.createMultiBody(0, plane, physicsClientId=c)
            # Bullet multiplies the two bodies' coefficients: 1.0 on the floor leaves the link's own.
            p.changeDynamics(self.floor, -1, lateralFriction=1.0, restitution=1.0, physicsClientId=c)
            if cfg.contact.stiffness is not None and cfg.contact.damping is not None:
                p.changeDynamics(self.floor, -1, contactStiffness=cfg.contact.stiffness,
                                 contactDamping=cfg.contact.damping, physicsClientId=c)
        if self.load == "matched":
            self._match()
        self._dof_idx = [i for i, info in enumerate(self._info) if info[2] != p.JOINT_FIXED]

    def _match(self) -> None:
        c, body, cfg = self.cid, self.body, self.config
        self._set_friction_motors()
        for name, li in self.link_index.items():
            link = self.model.link(name)
            cp = link.contact or ContactParams()
            kw = dict(linearDamping=0.0, angularDamping=0.0,
                      lateralFriction=cp.lateral_friction if cp.lateral_friction is not None else cfg.contact.friction,
                      restitution=cp.restitution if cp.restitution is not None else cfg.contact.restitution,
                      rollingFriction=cp.rolling_friction or 0.0, spinningFriction=cp.spinning_friction or 0.0)
            if cp.stiffness is not None and cp.damping is not None:
                kw.update(contactStiffness=cp.stiffness, contactDamping=cp.damping)
            p.changeDynamics(body, li, physicsClientId=c, **kw)
            if li >= 0:
                # A call that sets maxJointVelocity silently ignores every other argument (measured on
                # 3.2.7): it must be a call of its own.
                p.changeDynamics(body, li, maxJointVelocity=_NO_VELOCITY_CAP, physicsClientId=c)
        for j in self.model.dof_joints:
            if j.damping:
                self.unsupported.append(Unsupported(
                    "implicit_damping", j.name,
                    "PyBullet applies joint damping explicitly (v - h M^-1 B v); DART and MuJoCo implicitly"))
        self.unsupported.append(Unsupported("hard_limits", "*", "PyBullet joint limits are hard constraints"))

    def _set_friction_motors(self) -> None:
        """The default velocity motor becomes Coulomb friction (force = the joint's friction), or nothing."""
        n = len(self._info)
        friction = [self.model.joint(self._info[i][1].decode()).friction if self._info[i][2] != p.JOINT_FIXED
                    else 0.0 for i in range(n)]
        p.setJointMotorControlArray(self.body, list(range(n)), p.VELOCITY_CONTROL,
                                    targetVelocities=[0.0] * n, forces=friction, physicsClientId=self.cid)

    # -- state --------------------------------------------------------------------------------
    def _base_com_offset(self) -> tuple[np.ndarray, np.ndarray]:
        info = p.getDynamicsInfo(self.body, -1, physicsClientId=self.cid)
        return np.array(info[3]), np.array(info[4])  # local inertial pos, orn (xyzw)

    def _set_state(self, state: State) -> None:
        c, body = self.cid, self.body
        for k, i in enumerate(self.jidx):
            p.resetJointState(body, i, float(state.q[k]), float(state.dq[k]), physicsClientId=c)
        if self.model.floating:
            ipos, iorn = self._base_com_offset()
            R = Rotation.from_quat(state.root_quat)
            com = np.asarray(state.root_pos) + R.apply(ipos)
            com_orn = (R * Rotation.from_quat(iorn)).as_quat()
            p.resetBasePositionAndOrientation(body, com.tolist(), com_orn.tolist(), physicsClientId=c)
            w = np.asarray(state.root_ang_vel, dtype=float)
            v_com = np.asarray(state.root_lin_vel) + np.cross(w, com - np.asarray(state.root_pos))
            p.resetBaseVelocity(body, v_com.tolist(), w.tolist(), physicsClientId=c)

    def _get_state(self) -> State:
        c, body = self.cid, self.body
        js = p.getJointStates(body, self.jidx, physicsClientId=c) if self.jidx else []
        q = np.array([s[0] for s in js])
        dq = np.array([s[1] for s in js])
        if not self._floating:
            return State(q, dq)
        com, com_orn = p.getBasePositionAndOrientation(body, physicsClientId=c)
        v_com, w = p.getBaseVelocity(body, physicsClientId=c)
        ipos, iorn_inv = self._root_offset()
        # root frame = COM frame x inverse local inertial frame (plain-float quaternions: hot path)
        quat = _qmul(com_orn, iorn_inv)
        off = _qrot(quat, ipos)
        root = (com[0] - off[0], com[1] - off[1], com[2] - off[2])
        r = (root[0] - com[0], root[1] - com[1], root[2] - com[2])
        v_root = (v_com[0] + w[1] * r[2] - w[2] * r[1], v_com[1] + w[2] * r[0] - w[0] * r[2],
                  v_com[2] + w[0] * r[1] - w[1] * r[0])
        return State(q, dq, np.array(root), np.array(quat), np.array(v_root), np.array(w, dtype=float))

    def _root_offset(self) -> tuple[tuple, tuple]:
        """Base inertial offset (pos, inverse orn) as float tuples; fixed once the body is built."""
        cached = self.__dict__.get("_root_offset_cache")
        if cached is None:
            ipos, iorn = self._base_com_offset()
            cached = (tuple(float(x) for x in ipos), (-float(iorn[0]), -float(iorn[1]), -float(iorn[2]),
                                                      float(iorn[3])))
            self._root_offset_cache = cached
        return cached

    def _apply_torques(self, tau: np.ndarray) -> None:
        self._tau_list = tau.tolist()

    def _read_joint_state(self, q_out: np.ndarray, dq_out: np.ndarray) -> None:
        if self.jidx:
            js = p.getJointStates(self.body, self.jidx, physicsClientId=self.cid)
            q_out[:] = [s[0] for s in js]
            dq_out[:] = [s[1] for s in js]

    def _step(self) -> None:
        d = self.__dict__  # hot path: plain dict lookups instead of getattr with defaults
        if d.get("_external"):
            self._apply_external()
        if self.jidx:
            # PyBullet applies TORQUE_CONTROL forces for one step only: set them before every step.
            tau = d.get("_tau_list")
            p.setJointMotorControlArray(self.body, self.jidx, _TORQUE_CONTROL,
                                        forces=tau if tau is not None else [0.0] * self._dof,
                                        physicsClientId=self.cid)
        p.stepSimulation(physicsClientId=self.cid)

    # -- run-time corrections ----------------------------------------------------------------
    contact_params_supported = ("friction", "restitution", "stiffness", "damping")

    def _link_id(self, link: str) -> int:
        if link not in self.link_index:
            raise EngineFailure("bullet", self.load, f"no link {link!r} in {self.model.name}")
        return self.link_index[link]

    def set_contact_params(self, link, friction=None, restitution=None, stiffness=None, damping=None) -> None:
        """PyBullet cannot switch a link back to its rigid contact once it was made compliant: rigid is
        then emulated with k = 1e12 and damping for the default contact ERP 0.2 (measured 3e-3 state
        difference after 0.6 s of hopping)."""
        li = self._link_id(link)
        kw = {}
        if friction is not None:
            kw["lateralFriction"] = float(friction)
        if restitution is not None:
            kw["restitution"] = float(restitution)
        compliant = getattr(self, "_compliant", set())
        if stiffness is not None and damping is not None:
            kw.update(contactStiffness=float(stiffness), contactDamping=float(damping))
            compliant.add(link)
        elif link in compliant:
            k = 1e12
            kw.update(contactStiffness=k, contactDamping=4.0 * self.config.dt * k)
            compliant.discard(link)
        self._compliant = compliant
        if kw:
            p.changeDynamics(self.body, li, physicsClientId=self.cid, **kw)

    def apply_external_force(self, link, force, torque=None) -> None:
        li = self._link_id(link)
        f = np.asarray(force, dtype=float).reshape(3)
        t = np.zeros(3) if torque is None else np.asarray(torque, dtype=float).reshape(3)
        ext = dict(getattr(self, "_external", None) or {})
        if not f.any() and not t.any():
            ext.pop(li, None)
        else:
            ext[li] = (f.tolist(), t.tolist())
        self._external = ext

    def _apply_external(self) -> None:
        """PyBullet clears external forces after every step: apply the held ones again."""
        c, body = self.cid, self.body
        for li, (f, t) in self._external.items():
            if li < 0:
                com = p.getBasePositionAndOrientation(body, physicsClientId=c)[0]
            else:
                com = p.getLinkState(body, li, computeForwardKinematics=True, physicsClientId=c)[0]
            p.applyExternalForce(body, li, f, com, p.WORLD_FRAME, physicsClientId=c)
            p.applyExternalTorque(body, li, t, p.WORLD_FRAME, physicsClientId=c)

    # -- kinematics -------------------------------------------------------------------------
    def link_frames(self) -> dict[str, np.ndarray]:
        """Link frame = world COM frame x inverse local inertial frame. PyBullet's own
        worldLinkFramePosition passes through single precision (5e-8 m off); the COM frame does not."""
        c, body = self.cid, self.body
        out = {}
        idx = [i for i in self.link_index.values() if i >= 0]
        states = dict(zip(idx, p.getLinkStates(body, idx, computeForwardKinematics=True, physicsClientId=c)
                          if idx else []))
        for name, i in self.link_index.items():
            if i < 0:
                if not self.model.floating:
                    continue  # the world-fixed root: PyBullet places it at the origin
                s = self._get_state()
                T = np.eye(4)
                T[:3, :3] = Rotation.from_quat(s.root_quat).as_matrix()
                T[:3, 3] = s.root_pos
            else:
                st = states[i]
                T = _matrix(st[0], st[1]) @ np.linalg.inv(_matrix(st[2], st[3]))
            out[name] = T
        return out

    def link_coms(self) -> dict[str, np.ndarray]:
        c, body = self.cid, self.body
        out = {}
        for name, i in self.link_index.items():
            if p.getDynamicsInfo(body, i, physicsClientId=c)[0] <= 0:
                continue
            if i < 0:
                out[name] = np.array(p.getBasePositionAndOrientation(body, physicsClientId=c)[0])
            else:
                out[name] = np.array(p.getLinkState(body, i, computeForwardKinematics=True,
                                                    physicsClientId=c)[0])
        return out

    # -- dynamics -----------------------------------------------------------------------------
    def _all_dof_state(self):
        js = p.getJointStates(self.body, self._dof_idx, physicsClientId=self.cid) if self._dof_idx else []
        return [s[0] for s in js], [s[1] for s in js]

    def _canonical_cols(self) -> list[int]:
        pos = {i: k for k, i in enumerate(self._dof_idx)}
        off = 6 if self.model.floating else 0
        return [off + pos[i] for i in self.jidx]

    def mass_matrix(self) -> np.ndarray:
        q, _ = self._all_dof_state()
        M = np.array(p.calculateMassMatrix(self.body, q, physicsClientId=self.cid))
        cols = self._canonical_cols()
        return M[np.ix_(cols, cols)]

    def bias_forces(self) -> np.ndarray:
        q, dq = self._all_dof_state()
        zeros = [0.0] * len(q)
        if self.model.floating:
            # calculateInverseDynamics mis-rotates gravity for a tilted floating base (exact for a
            # tilt about one axis, 15% off for x+y: measured against DART, MuJoCo and the numpy
            # reference). Joint-space h is invariant to rotating the whole world, so evaluate it with
            # the base upright, gravity and base twist in the base frame, twist ordered (angular,
            # linear) as the multibody stores it: then it agrees with DART to 1e-15.
            c = self.cid
            com, orn = p.getBasePositionAndOrientation(self.body, physicsClientId=c)
            v, w = p.getBaseVelocity(self.body, physicsClientId=c)
            R_inv = Rotation.from_quat(orn).inv()
            p.setGravity(*R_inv.apply(self.config.gravity), physicsClientId=c)
            try:
                twist = list(R_inv.apply(w)) + list(R_inv.apply(v))
                h = p.calculateInverseDynamics(self.body, list(com) + [0.0, 0.0, 0.0, 1.0] + q, twist + dq,
                                               [0.0] * 6 + zeros, physicsClientId=c)
            finally:
                p.setGravity(*self.config.gravity, physicsClientId=c)
        else:
            h = p.calculateInverseDynamics(self.body, q, dq, zeros, physicsClientId=self.cid)
        return np.array(h)[self._canonical_cols()]

    def contacts(self) -> list[ContactPoint]:
        if self.floor < 0:
            return []
        names = {i: n for n, i in self.link_index.items()}
        out = []
        for cp in p.getContactPoints(self.body, self.floor, physicsClientId=self.cid):
            dist, force = cp[8], cp[9]
            if dist > 0 and force <= 0:
                continue  # PyBullet also reports points that are not yet touching
            out.append(ContactPoint(names.get(cp[3], str(cp[3])), "floor", np.array(cp[5]),
                                    np.array(cp[7]), float(max(force, 0.0)), float(max(-dist, 0.0))))
        return out

    # -- read back ----------------------------------------------------------------------------
    def readback(self) -> Readback:
        c, body = self.cid, self.body
        links = []
        for link in self.model.links:
            i = self.link_index.get(link.name)
            if i is None:
                continue
            info = p.getDynamicsInfo(body, i, physicsClientId=c)
            mass, lat, diag, ipos, iorn, rest, roll, spin, cdamp, cstiff = info[:10]
            R = Rotation.from_quat(iorn)
            inertial = Inertial(float(mass), Pose(tuple(ipos), rpy_of(R)),
                                tuple(tuple(r) for r in np.diag(diag)))
            if i < 0 and not self.model.floating and link.inertial is None:
                inertial = None  # the world-fixed root: PyBullet holds no mass for it
            cols = []
            for shape in p.getCollisionShapeData(body, i, physicsClientId=c):
                g = self._geometry(shape, ipos, iorn)
                if g is not None:
                    cols.append(g)
            contact = ContactParams(lateral_friction=lat, rolling_friction=roll, spinning_friction=spin,
                                    restitution=rest, stiffness=None if cstiff < 0 else cstiff,
                                    damping=None if cdamp < 0 else cdamp)
            links.append(Link(link.name, inertial, tuple(cols), (), contact))
        joints = []
        for info in self._info:
            name, jt = info[1].decode(), _JOINT_TYPES.get(info[2], str(info[2]))
            canon = self.model.joint(name) if name in {j.name for j in self.model.joints} else None
            lower, upper = float(info[8]), float(info[9])
            if canon is not None and canon.type == "continuous" and jt == "revolute":
                jt = "continuous"
            limit = Limit(lower if lower <= upper else None, upper if lower <= upper else None,
                          float(info[10]), float(info[11]))
            parent = self.model.root if info[16] < 0 else self._info[info[16]][12].decode()
            joints.append(Joint(name, jt, parent, info[12].decode(),
                                Pose(tuple(info[14]), rpy_of(Rotation.from_quat(info[15]))),
                                tuple(info[13]), limit, float(info[6]), float(info[7])))
        extras = {
            "velocity_motors": self._probe_motors(),
            "link_damping": {"linear": 0.0 if self.load == "matched" else _DEFAULT_LINK_DAMPING,
                             "angular": 0.0 if self.load == "matched" else _DEFAULT_LINK_DAMPING},
            "max_joint_velocity": _NO_VELOCITY_CAP if self.load == "matched" else _DEFAULT_MAX_JOINT_VELOCITY,
            "joint_damping_integration": "explicit",
            "explicit_damping_factor": self._explicit_damping_factor(),
            "joint_friction": "velocity motor with max force = friction" if self.load == "matched" else "ignored",
            "inertia_source": "file" if self.load == "matched" else "collision shapes",
            "root_joint": "floating" if self.model.floating else "fixed",
        }
        rb_model = RobotModel(self.model.name, tuple(links), tuple(joints), self.model.root, self.model.base,
                              self.model.source)
        return Readback(rb_model, extras)

    def _geometry(self, shape, ipos, iorn) -> Geometry | None:
        """Collision shape data is given in the inertial frame; convert to the link frame."""
        gtype, dims, fname, lpos, lorn = shape[2], shape[3], shape[4], shape[5], shape[6]
        T_inertial = np.eye(4)
        T_inertial[:3, :3] = Rotation.from_quat(iorn).as_matrix()
        T_inertial[:3, 3] = ipos
        T_local = np.eye(4)
        T_local[:3, :3] = Rotation.from_quat(lorn).as_matrix()
        T_local[:3, 3] = lpos
        pose = Pose.from_matrix(T_inertial @ T_local)
        if gtype == p.GEOM_BOX:
            return Geometry("box", pose, size=tuple(float(d) for d in dims))
        if gtype == p.GEOM_SPHERE:
            return Geometry("sphere", pose, radius=float(dims[0]))
        if gtype == p.GEOM_CYLINDER:
            return Geometry("cylinder", pose, radius=float(dims[1]), length=float(dims[0]))
        if gtype == p.GEOM_CAPSULE:
            return Geometry("capsule", pose, radius=float(dims[1]), length=float(dims[0]))
        if gtype == p.GEOM_MESH:
            fn = fname.decode() if isinstance(fname, bytes) else fname
            return Geometry("mesh", pose, filename=fn, scale=tuple(float(d) for d in dims))
        return None

    def _explicit_damping_factor(self) -> dict[str, float]:
        """h B / M_ii per damped joint at q = 0 (root as it is): the fraction of a joint's speed that
        PyBullet's explicit damping removes in one step."""
        damped = [k for k, j in enumerate(self.model.dof_joints) if j.damping > 0]
        if not damped:
            return {}
        saved = self.get_state()
        try:
            zero = State(np.zeros(self.dof), np.zeros(self.dof), saved.root_pos, saved.root_quat,
                         saved.root_lin_vel, saved.root_ang_vel)
            self.set_state(zero)
            M = self.mass_matrix()
        finally:
            self.set_state(saved)
        h = self.config.dt
        return {self.joint_names[k]: float(h * self.model.dof_joints[k].damping / M[k, k]) for k in damped
                if M[k, k] > 0}

    def _floor_contact(self, enabled: bool) -> None:
        """Switch collisions between every robot link and the floor on or off."""
        if self.floor < 0:
            return
        for li in range(-1, len(self._info)):
            p.setCollisionFilterPair(self.body, self.floor, li, -1, int(enabled), physicsClientId=self.cid)

    def _probe_motors(self) -> dict[str, bool]:
        """Measure, not assume: with gravity and floor contact off and every joint mid-range (away
        from its limits), give every joint 1 unit/s and step once. A joint whose speed is held near
        zero has a motor on it. Everything is restored afterwards."""
        c, body = self.cid, self.body
        if not self.jidx:
            return {}
        sid = p.saveState(physicsClientId=c)
        saved_tau = getattr(self, "_tau_list", None)
        n = len(self._info)
        damping = [info[6] for info in self._info]
        try:
            p.setGravity(0, 0, 0, physicsClientId=c)
            # Joint damping (explicit in PyBullet: a light link can stop dead in one step) and the
            # matched build's own friction motors are not hidden motors: off while probing.
            for i in range(n):
                if damping[i]:
                    p.changeDynamics(body, i, jointDamping=0.0, physicsClientId=c)
            if self.load == "matched":
                p.setJointMotorControlArray(body, list(range(n)), p.VELOCITY_CONTROL, targetVelocities=[0.0] * n,
                                            forces=[0.0] * n, physicsClientId=c)
            self._floor_contact(False)
            for i, j in zip(self.jidx, self.model.dof_joints):
                q = 0.5 * (j.limit.lower + j.limit.upper) if j.limited else 0.0
                p.resetJointState(body, i, q, 1.0, physicsClientId=c)
            self._tau_list = [0.0] * self.dof
            self._step()
            dq = [s[1] for s in p.getJointStates(body, self.jidx, physicsClientId=c)]
        finally:
            p.setGravity(*self.config.gravity, physicsClientId=c)
            self._floor_contact(True)
            p.restoreState(sid, physicsClientId=c)
            p.removeState(sid, physicsClientId=c)
            for i in range(n):
                if damping[i]:
                    p.changeDynamics(body, i, jointDamping=damping[i], physicsClientId=c)
            if self.load == "matched":
                self._set_friction_motors()
            if saved_tau is None:
                self.__dict__.pop("_tau_list", None)
            else:
                self._tau_list = saved_tau
        return {name: bool(abs(v) < 0.5) for name, v in zip(self.joint_names, dq)}

    def close(self) -> None:
        if self.cid is not None and p.isConnected(self.cid):
            p.disconnect(self.cid)
        self.cid = None
