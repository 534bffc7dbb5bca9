"""MuJoCo backend.

matched: built with MjSpec from the RobotModel (see `mujoco_build`): radians, explicit inertials,
no static-body fusion, massless joint chains merged into one multi-joint body, a free joint for a
floating base, torques through `qfrc_applied`, Euler integrator (semi-implicit; MuJoCo applies
joint damping implicitly in it).
native: `MjModel.from_xml_path(urdf)` as users call it (URDF defaults: fusestatic, strippath,
discardvisual; a floating root is welded to the world). Sim options (dt, gravity, iterations) and
the floor are applied on top; the robot itself is what MuJoCo made of the file. A native load of an
MJCF is the same call on the MJCF (see `mujoco_mjcf`).

Canonical state: q/dq in `RobotModel.joint_names` order; a floating root's quaternion is x-y-z-w
(MuJoCo: w-x-y-z), its angular velocity in world (MuJoCo free joint: body frame), its linear
velocity the world velocity of the root frame origin (MuJoCo free joint qvel[0:3]).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import mujoco
import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation

from ..config import SimConfig
from ..errors import EngineFailure, PhysicsDiverged
from ..kinematics import joint_motion
from ..model import RobotModel, State
from .base import (
    Backend,
    Capabilities,
    ContactPoint,
    Explanation,
    Readback,
    Unsupported,
    UnsupportedKind,
    armature_explains,
    locked_joint_behaviour,
    locked_position,
    unreadable_mesh_explains,
)
from .mujoco_build import (
    FLOOR,
    FLOOR_CONAFFINITY,
    FLOOR_CONTYPE,
    MAX_STL_FACES,
    MESH_FORMATS,
    BuildPlan,
    build_matched,
    homog,
    mat_from_wxyz,
    mount_native,
    plan_native,
    quat_wxyz,
    readback_model,
)

_log = logging.getLogger("simmatch.mujoco")


def _route_warnings() -> None:
    """MuJoCo's default warning handler prints and appends to MUJOCO_LOG.TXT in the current folder;
    send its warnings to Python logging instead (installed once, on the first build)."""
    if mujoco.get_mju_user_warning() is None:
        mujoco.set_mju_user_warning(lambda msg: _log.warning("MuJoCo: %s", msg))


def failure_subject(message: str) -> str | None:
    """The element a MuJoCo compiler message names ("Element name 'x', id 3"), or None."""
    m = re.search(r"Element name '([^']+)'", message)
    return m.group(1) if m else None


def failure_cause(model: RobotModel, message: str) -> str | None:
    """Cause id of a MuJoCo load failure from its compiler message (None: not a known behaviour). A
    refused link that has mass is blamed on its odd tensor (a point mass, a singular tensor), not
    on MuJoCo's massless-link rule."""
    from .. import meshes
    from ..compare.inertia import oddity

    subject = failure_subject(message)
    if (subject in {x.name for x in model.links}
            and ("mass and inertia of moving bodies" in message or "positive eigenvalues" in message)
            and oddity(model.link(subject))[0] is not None):
        return oddity(model.link(subject))[0]
    found = meshes.failure_cause("mujoco", message)
    if found:
        return found
    for needle, cause in (("mass and inertia of moving bodies", "mujoco_rejects_massless_links"),
                          ("A + B >= C", "inertia_triangle_inequality"),
                          ("free joint can only be used on top level", "mujoco_inner_free_joint"),
                          ("package:/", "mujoco_no_package_uri")):
        if needle in message:
            return cause
    return None


class MujocoBackend(Backend):
    engine = "mujoco"
    capabilities = Capabilities(
        contact_params=("friction", "stiffness", "damping"),  # no restitution coefficient (bounce only via solref)
        external_forces=True,
        compliant_contact="acceleration",  # solref = (-k, -b) is a reference acceleration: per unit mass
        shapes=frozenset({"box", "sphere", "cylinder", "capsule", "mesh", "plane"}),
        mesh_formats=MESH_FORMATS,
        max_stl_faces=MAX_STL_FACES,
        unreadable_mesh_causes={"stl_ascii": "mujoco_ascii_stl", "dae": "mujoco_no_dae_decoder"},
        mesh_failure_causes=(
            # the same message for an ASCII STL and for a binary STL over MAX_STL_FACES triangles
            (r"stl_decoder: number of faces .* in STL file '(?P<binary>[^']+)'", "mujoco_stl_face_limit"),
            ("no decoder found", "mujoco_no_dae_decoder"),
            ("perhaps this is an ASCII file", "mujoco_ascii_stl"),
            ("mesh volume is too small", "mujoco_mesh_volume_too_small"),
        ),
        variants=frozenset({"soft-floor", "heavy-head", "heavy-leg", "low-power", "emf", "deform-floor"}),
        collision_detectors=("mujoco",),
        native_formats=frozenset({"urdf", "mjcf"}),
        unsupported={
            "hard_limits": UnsupportedKind("joints", "mujoco_soft_limits"),
            "contact_stiffness": UnsupportedKind("contact", "mujoco_contact_stiffness_units"),
            "restitution": UnsupportedKind("contact", "mujoco_no_restitution"),
            "mesh_convex_hull": UnsupportedKind("contact", "mujoco_convex_hull"),
            "massless_link": UnsupportedKind("inertia", "mujoco_tiny_mass"),
            "zero_inertia": UnsupportedKind("inertia"),
            "inertia_triangle": UnsupportedKind("inertia", "inertia_triangle_inequality"),
            "merged_link_geometry": UnsupportedKind("contact", "mujoco_merges_massless_chain"),
            "floating_base": UnsupportedKind("structure", "mujoco_welds_floating_root"),
        },
    )

    def __init__(self, model: RobotModel, config: SimConfig | None = None, load: str = "matched"):
        try:
            self._build(model, config, load)
        except EngineFailure as exc:
            if exc.cause is None:  # name the known behaviour behind MuJoCo's own message
                exc.cause = failure_cause(model, str(exc))
            if exc.subject is None:
                exc.subject = failure_subject(str(exc))
            raise

    def _build(self, model: RobotModel, config: SimConfig | None, load: str) -> None:
        super().__init__(model, config, load)
        _route_warnings()
        cfg = self.config
        self._qref: np.ndarray | None = None  # qpos0 of each coordinate where the load has joint refs
        self._com_body: dict[str, str] = {}  # link -> MuJoCo body whose COM it is (native MJCF)
        self._mjcf_native = load == "native" and model.source_format == "mjcf"
        if self._mjcf_native:
            from . import mujoco_mjcf

            self.m, plan, qref, self._com_body, notes = mujoco_mjcf.load_native(model, cfg)
            self.notes += notes
            self.unsupported += mujoco_mjcf.native_unsupported(model, self.m)
            if np.any(qref != 0.0):
                self._qref = qref
        elif load == "matched":
            spec, plan = build_matched(model, cfg, self.unsupported, self.notes)
            try:
                self.m = spec.compile()
            except Exception as e:  # MuJoCo raises ValueError with its compiler message
                raise EngineFailure("mujoco", "matched", str(e).strip()) from None
        else:
            self.m, plan = self._load_native(model, cfg)
        self.plan = plan
        self.d = mujoco.MjData(self.m)
        # views on d.warning (cached: indexing d.warning costs ~1 us each, these ~0.07 us)
        self._instability = tuple(self.d.warning[w] for w in (
            mujoco.mjtWarning.mjWARN_BADQPOS, mujoco.mjtWarning.mjWARN_BADQVEL, mujoco.mjtWarning.mjWARN_BADQACC))
        self._bad_count = 0
        m = self.m
        jid = {}
        for name in model.joint_names:
            i = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, plan.engine_joint_names.get(name, name))
            if i < 0:
                raise EngineFailure("mujoco", load, f"joint {name!r} missing from the compiled model")
            jid[name] = i
        self._qidx = np.array([m.jnt_qposadr[jid[n]] for n in model.joint_names], dtype=int)
        self._vidx = np.array([m.jnt_dofadr[jid[n]] for n in model.joint_names], dtype=int)
        # contiguous index ranges read/write faster as slices (views; copied on read)
        self._qsl = self._as_slice(self._qidx)
        self._vsl = self._as_slice(self._vidx)
        # joints the URDF locks (lower == upper) that the engine loaded as moving: held at that value
        # whenever the state is set; whether the engine then keeps them there is in readback()
        self._locked = []
        for j in model.locked_joints:
            i = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, j.name)
            if i >= 0:
                self._locked.append((j.name, int(m.jnt_qposadr[i]), int(m.jnt_dofadr[i]), locked_position(j),
                                     bool(m.jnt_limited[i])))
        self._free = None
        for i in range(m.njnt):
            if m.jnt_type[i] == mujoco.mjtJoint.mjJNT_FREE:
                self._free = (int(m.jnt_qposadr[i]), int(m.jnt_dofadr[i]), int(m.jnt_bodyid[i]))
        self._floor = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, FLOOR)
        # canonical link name of every geom ('floor' for the plane)
        body_names = [mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_BODY, b) for b in range(m.nbody)]
        holder_of_body = {}
        for link, pl in plan.placements.items():
            if not pl.steps:
                holder_of_body[pl.body] = link
        self._geom_link = []
        for g in range(m.ngeom):
            if g == self._floor:
                self._geom_link.append("floor")
            else:
                bn = body_names[m.geom_bodyid[g]]
                self._geom_link.append(holder_of_body.get(bn, bn))
        # link placements with numeric ids
        index = {n: i for i, n in enumerate(model.joint_names)}
        self._placements = []
        self._world_holder = model.base_pose.matrix if model.posed else np.eye(4)
        for link in model.link_order:
            pl = plan.placements.get(link)
            if pl is None:
                continue
            bid = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, pl.body)
            steps = [(O, j, index[j.name] if j is not None else -1) for O, j in pl.steps]
            self._placements.append((link, bid, steps))
        self._massive = [l.name for l in model.links if l.inertial is not None and l.inertial.mass > 0]
        self._stale = True
        self.set_state(State.zeros(model))

    @staticmethod
    def _as_slice(idx: np.ndarray) -> slice | np.ndarray:
        if len(idx) and np.array_equal(idx, np.arange(idx[0], idx[0] + len(idx))):
            return slice(int(idx[0]), int(idx[0]) + len(idx))
        return idx

    # -- native -------------------------------------------------------------------------------
    def _load_native(self, model: RobotModel, cfg: SimConfig) -> tuple[Any, BuildPlan]:
        """MuJoCo's own URDF import of `model.source` (through MjSpec when a floor, the mount or
        aligned joints are added): its mujoco.MjModel and the plan mapping it back. EngineFailure
        when the import or the compile fails."""
        path = os.fspath(model.source)
        try:
            mj = mujoco.MjModel.from_xml_path(path)
        except Exception as e:
            msg = str(e).strip()
            planes = any(g.kind == "plane" for link in model.links for g in link.collisions)
            if planes and "geometry specification not found" in msg:
                # measured on 4.0: urdfdom inside MuJoCo says "Unknown geometry type 'plane'"
                raise EngineFailure("mujoco", "native", msg + " (a <plane> collision: MuJoCo's URDF importer "
                                    "has no plane geometry)", cause="mujoco_urdf_no_plane") from None
            raise EngineFailure("mujoco", "native", msg) from None
        if cfg.floor or model.posed or cfg.align_joints:  # same parser, plus a floor plane / the mount
            spec = mujoco.MjSpec.from_file(path)
            if model.posed:
                mount_native(spec, model.base_pose)
            if cfg.align_joints:
                self._align_native_joints(spec, model, cfg.align_joints)
            c = cfg.contact
            if cfg.floor:
                spec.worldbody.add_geom(name=FLOOR, type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 1],
                                        friction=[c.friction, 0.005, 0.0001],
                                        contype=FLOOR_CONTYPE | 1, conaffinity=FLOOR_CONAFFINITY | 1)
            try:
                mj = spec.compile()
            except Exception as e:
                raise EngineFailure("mujoco", "native", str(e).strip()) from None
        mj.opt.timestep = cfg.dt
        mj.opt.gravity[:] = cfg.gravity
        mj.opt.iterations = int(cfg.solver_iterations)
        plan = plan_native(model, mj)
        if model.floating and plan.root_joint == "welded":
            self.unsupported.append(Unsupported(
                "floating_base", model.root,
                "MuJoCo's URDF import welds the root link to the world (no free joint)"))
        for g in range(mj.ngeom):
            if mj.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH:
                bn = mujoco.mj_id2name(mj, mujoco.mjtObj.mjOBJ_BODY, mj.geom_bodyid[g])
                self.unsupported.append(Unsupported(
                    "mesh_convex_hull", bn, "MuJoCo collides the convex hull of the mesh"))
        if any(j.limited for j in model.dof_joints) or cfg.floor:
            self.unsupported.append(Unsupported(
                "hard_limits", "*", "joint limits and contacts are soft constraints in MuJoCo"))
        for link, body in plan.merged_links.items():
            self.notes.append(f"MuJoCo fused link {link!r} into body {body!r}")
        return mj, plan

    def _align_native_joints(self, spec: Any, model: RobotModel, names: Iterable[str]) -> None:
        """config.align_joints on a native import: a locked joint (which the import loads as a moving
        joint with its limit ignored) is deleted and its body placed at the locked value, the matched
        build's fixed joint. A `<mimic>` follower keeps the import's joint equality (the matched
        build uses the same)."""
        for name in names:
            j = next((x for x in model.joints if x.name == name), None)
            if j is None:
                continue
            if j.locked_type:
                mj = next((x for x in spec.joints if x.name == name), None)
                if mj is None:
                    continue
                body = mj.parent
                axis = np.asarray(mj.axis, dtype=float)
                axis = axis / np.linalg.norm(axis)
                v = locked_position(j)
                M = np.eye(4)  # the joint's motion in the body frame, about its anchor
                if mj.type == mujoco.mjtJoint.mjJNT_SLIDE:
                    M[:3, 3] = axis * v
                else:
                    R = Rotation.from_rotvec(axis * v).as_matrix()
                    anchor = np.asarray(mj.pos, dtype=float)
                    M[:3, :3], M[:3, 3] = R, anchor - R @ anchor
                T = homog(mat_from_wxyz(body.quat), body.pos) @ M
                body.pos, body.quat = T[:3, 3], quat_wxyz(T[:3, :3])
                spec.delete(mj)
                self.notes.append(f"--explain: locked {name!r} deleted, body {body.name!r} placed at {v:g}")
            elif j.mimic is not None:
                self.notes.append(f"--explain: {name!r} keeps the import's joint equality (as matched)")

    # -- state --------------------------------------------------------------------------------
    def _set_state(self, s: State) -> None:
        d = self.d
        d.qpos[self._qidx] = s.q if self._qref is None else s.q + self._qref
        d.qvel[self._vidx] = s.dq
        for _, qa, va, value, _ in self._locked:
            d.qpos[qa], d.qvel[va] = value, 0.0
        if self._free is not None:
            qa, va, _ = self._free
            if s.floating:
                # a floating base has all four root arrays
                assert (s.root_pos is not None and s.root_quat is not None
                        and s.root_lin_vel is not None and s.root_ang_vel is not None)
                x, y, z, w = np.asarray(s.root_quat, dtype=float) / np.linalg.norm(s.root_quat)
                quat = np.array([w, x, y, z])
                d.qpos[qa:qa + 3] = s.root_pos
                d.qpos[qa + 3:qa + 7] = quat
                d.qvel[va:va + 3] = s.root_lin_vel
                R = np.empty(9)
                mujoco.mju_quat2Mat(R, quat)
                d.qvel[va + 3:va + 6] = R.reshape(3, 3).T @ np.asarray(s.root_ang_vel, dtype=float)
        d.qacc_warmstart[:] = 0.0
        mujoco.mj_forward(self.m, d)
        self._stale = False
        self._bad_count = self._instability_count()

    def _instability_count(self) -> int:
        a, b, c = self._instability
        return a.number + b.number + c.number

    def _check_diverged(self) -> None:
        """MuJoCo answers a NaN/huge acceleration by silently resetting the state to qpos0 (with a
        warning): a comparison must see that as divergence, not as a robot back at its start."""
        if self._instability_count() != self._bad_count:
            raise PhysicsDiverged("mujoco: unstable simulation (NaN, Inf or huge position, velocity or "
                                  "acceleration); MuJoCo reset the state")

    def _get_state(self) -> State:
        self._check_diverged()
        d = self.d
        q, dq = d.qpos[self._qsl].copy(), d.qvel[self._vsl].copy()
        if self._qref is not None:
            q -= self._qref
        if not self.model.floating:
            return State(q, dq)
        if self._free is None:  # native: root welded at the world origin
            return State(q, dq, np.zeros(3), np.array([0.0, 0.0, 0.0, 1.0]), np.zeros(3), np.zeros(3))
        qa, va, _ = self._free
        w, x, y, z = d.qpos[qa + 3:qa + 7]
        n = np.sqrt(w * w + x * x + y * y + z * z)
        quat = np.array([w, x, y, z]) / n
        R = np.empty(9)
        mujoco.mju_quat2Mat(R, quat)
        return State(q, dq, d.qpos[qa:qa + 3].copy(), np.array([x, y, z, w]) / n,
                     d.qvel[va:va + 3].copy(), R.reshape(3, 3) @ d.qvel[va + 3:va + 6])

    def _apply_torques(self, tau: np.ndarray) -> None:
        self.d.qfrc_applied[self._vsl] = tau

    def _read_joint_state(self, q_out: np.ndarray, dq_out: np.ndarray) -> None:
        d = self.d
        q_out[:] = d.qpos[self._qsl]
        dq_out[:] = d.qvel[self._vsl]
        if self._qref is not None:
            q_out -= self._qref

    def _after_rollout(self) -> None:
        self._stale = True
        self._check_diverged()

    def _step(self) -> None:
        mujoco.mj_step(self.m, self.d)
        self._stale = True

    def _steps(self, n: int) -> None:
        mujoco.mj_step(self.m, self.d, nstep=n)  # the same loop, in C
        self._stale = True

    def _fresh(self) -> None:
        if self._stale:
            mujoco.mj_forward(self.m, self.d)
            self._stale = False

    # -- run-time corrections ----------------------------------------------------------------
    def _link_body(self, link: str) -> int:
        for name, bid, _ in self._placements:
            if name == link:
                return bid
        raise EngineFailure("mujoco", self.load, f"no link {link!r} in {self.model.name}")

    def _contact_geoms(self, link: str) -> list[int]:
        cache = self.__dict__.setdefault("_link_geoms", {})
        geoms = cache.get(link)
        if geoms is None:
            geoms = cache[link] = [g for g in range(self.m.ngeom) if self._geom_link[g] == link]
        if not geoms:
            raise EngineFailure("mujoco", self.load, f"link {link!r} has no collision geometry")
        return geoms

    def set_contact_params(self, link: str, friction: float | None = None, restitution: float | None = None,
                           stiffness: float | None = None, damping: float | None = None) -> None:
        if restitution is not None and restitution > 0:
            raise EngineFailure("mujoco", self.load, "engine mujoco cannot set restitution (no coefficient)")
        geoms = self._contact_geoms(link)
        if not hasattr(self, "_solref0"):  # as built: renew() puts them back
            self._solref0 = self.m.geom_solref.copy()
            self._friction0 = self.m.geom_friction.copy()
        for g in geoms:
            if friction is not None:
                self.m.geom_friction[g, 0] = float(friction)
            if stiffness is not None and damping is not None:
                self.m.geom_solref[g] = (-float(stiffness), -float(damping))
            else:
                self.m.geom_solref[g] = self._solref0[g]

    def renew(self) -> bool:
        """In place (~0.1 ms against ~3 ms for a new compile): the contact parameters set at run time back
        to the compiled ones, `mj_resetData` (state, applied forces, warm start, warnings: as the new
        MjData of a build), then the constructor's `State.zeros`."""
        if hasattr(self, "_solref0"):
            self.m.geom_solref[:] = self._solref0
            self.m.geom_friction[:] = self._friction0
        mujoco.mj_resetData(self.m, self.d)
        self._torque = np.zeros(self.model.dof)
        self.last_applied = np.zeros(self.model.dof)
        self._bad_count = 0
        self._stale = True
        self.set_state(State.zeros(self.model))
        return True

    def get_contact_params(self, link: str) -> dict[str, float | None]:
        """From the link's first collision geom: geom_friction[0]; a direct solref (negative entries
        -stiffness, -damping) as stiffness and damping, the default time-constant form as None (rigid);
        restitution None (MuJoCo has no coefficient)."""
        g = self._contact_geoms(link)[0]
        ref = self.m.geom_solref[g]
        soft = ref[0] < 0 and ref[1] < 0
        return {"friction": float(self.m.geom_friction[g, 0]), "restitution": None,
                "stiffness": float(-ref[0]) if soft else None, "damping": float(-ref[1]) if soft else None}

    def apply_external_force(self, link: str, force: npt.ArrayLike, torque: npt.ArrayLike | None = None) -> None:
        """Applied at the COM of the MuJoCo body that holds the link (xfrc_applied)."""
        bid = self._link_body(link)
        self.d.xfrc_applied[bid, :3] = np.asarray(force, dtype=float).reshape(3)
        self.d.xfrc_applied[bid, 3:] = 0.0 if torque is None else np.asarray(torque, dtype=float).reshape(3)

    # -- queries ------------------------------------------------------------------------------
    def link_frames(self) -> dict[str, np.ndarray]:
        self._fresh()
        d = self.d
        q = d.qpos[self._qidx] if self._qref is None else d.qpos[self._qidx] - self._qref
        out = {}
        for link, bid, steps in self._placements:
            if bid == 0:  # fused into the world body (native): the base's mount pose (identity unposed)
                T = self._world_holder.copy()
            else:
                T = np.eye(4)
                T[:3, :3] = d.xmat[bid].reshape(3, 3)
                T[:3, 3] = d.xpos[bid]
            for O, j, k in steps:
                T = T @ O
                if j is not None:
                    T = T @ joint_motion(j, q[k])
            out[link] = T
        return out

    def link_coms(self) -> dict[str, np.ndarray]:
        self._fresh()
        frames = None
        out = {}
        for name in self._massive:
            pl = self.plan.placements.get(name)
            if name in self._com_body:  # native MJCF: the link's body, whatever its frame's offset
                bid = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_BODY, self._com_body[name])
                out[name] = self.d.xipos[bid].copy()
            elif pl is not None and not pl.steps and name not in self.plan.merged_links:
                bid = mujoco.mj_name2id(self.m, mujoco.mjtObj.mjOBJ_BODY, name)
                out[name] = self.d.xipos[bid].copy()
            else:  # fused into another body (native): rigidly attached, use its declared COM
                frames = frames or self.link_frames()
                inertial = self.model.link(name).inertial
                assert inertial is not None  # a massive link has its inertial
                com = inertial.com
                out[name] = (frames[name] @ np.append(com, 1.0))[:3]
        return out

    def mass_matrix(self) -> np.ndarray:
        self._fresh()
        M = np.zeros((self.m.nv, self.m.nv))
        mujoco.mj_fullM(self.m, self.d, M)
        return M[np.ix_(self._vidx, self._vidx)].copy()

    def bias_forces(self) -> np.ndarray:
        self._fresh()
        return self.d.qfrc_bias[self._vidx].copy()

    def joint_limit_forces(self) -> np.ndarray:
        """Limit rows of the last step's constraint solve (read before anything re-runs mj_forward).
        A limit row's force is >= 0 and pushes away from the limit it belongs to."""
        d, m = self.d, self.m
        out = np.zeros(self.dof)
        n = int(d.nefc)
        if n == 0:
            return out
        rows = np.nonzero(d.efc_type[:n] == mujoco.mjtConstraint.mjCNSTR_LIMIT_JOINT)[0]
        if rows.size == 0:
            return out
        where = {int(a): k for k, a in enumerate(self._vidx)}
        for r in rows:
            jid = int(d.efc_id[r])
            k = where.get(int(m.jnt_dofadr[jid]))
            if k is None:
                continue
            lo, hi = m.jnt_range[jid]
            sign = 1.0 if d.qpos[m.jnt_qposadr[jid]] < 0.5 * (lo + hi) else -1.0
            out[k] += sign * float(d.efc_force[r])
        return out

    def contacts(self) -> list[ContactPoint]:
        self._fresh()
        m, d = self.m, self.d
        out = []
        f6 = np.zeros(6)
        for i in range(d.ncon):
            c = d.contact[i]
            g1, g2 = int(c.geom1), int(c.geom2)
            l1, l2 = self._geom_link[g1], self._geom_link[g2]
            n12 = np.array(c.frame[:3])
            if l1 == "floor":
                link, other, normal = l2, l1, n12
            else:
                link, other, normal = l1, l2, -n12
            mujoco.mj_contactForce(m, d, i, f6)
            fn = max(float(f6[0]), 0.0)
            dist = float(c.dist)
            pen = -dist if dist < 0 else 0.0
            if fn <= 0 and pen <= 0:
                continue
            pos = np.array(c.pos) + 0.5 * dist * normal
            out.append(ContactPoint(link, other, pos, normal, fn, pen))
        return out

    def readback(self) -> Readback:
        if self._mjcf_native:
            from ..mjcf import model_from_compiled

            held = model_from_compiled(self.m, os.fspath(self.model.source))
            rb = replace(held, base=self.model.base if self._free is not None or not self.model.floating else "fixed",
                         base_reason=f"mujoco: root {self.plan.root_joint}")
        else:
            rb = readback_model(self.model, self.m, self.plan, self._floor)
        integ = {0: "Euler", 1: "RK4", 2: "implicit", 3: "implicitfast"}.get(int(self.m.opt.integrator), "?")
        extras = {
            "soft_limits": True,
            "soft_contacts": True,
            "no_restitution": True,
            "root_joint": self.plan.root_joint,
            "integrator": integ,
            "implicit_joint_damping": integ == "Euler",
            "timestep": float(self.m.opt.timestep),
            "iterations": int(self.m.opt.iterations),
            "cone": "pyramidal" if self.m.opt.cone == 0 else "elliptic",
        }
        if self.load == "matched":
            extras.update(self_collision=False, friction_rule="robot geom friction (priority 1)")
        elif self._mjcf_native:
            extras.update(importer="MjModel.from_xml_path (MJCF)", total_mass=float(self.m.body_mass.sum()),
                          armature=bool(np.any(self.m.dof_armature != 0.0)))
        else:
            extras.update(fused_static_bodies=True,
                          total_mass=float(self.m.body_mass.sum()))
        locked = {j.name: "fixed" for j in self.model.locked_joints}
        for name, _, _, _, limited in self._locked:
            locked[name] = ("held by its limits" if limited else
                            "moves: MuJoCo ignores a range with equal lower and upper limits")
        if locked:
            extras["locked_joints"] = locked
        if self.plan.tiny_links:
            extras["tiny_mass_links"] = list(self.plan.tiny_links)
        if any(self.m.geom_type == mujoco.mjtGeom.mjGEOM_MESH):
            extras["mesh_collision"] = "convex hull"
        behaviours = tuple(locked_joint_behaviour(self.engine, j, locked[j.name], "mujoco_equal_limits_ignored")
                           for j in self.model.locked_joints if locked[j.name] != "fixed")
        return Readback(rb, extras, (), dict(self.plan.merged_links), behaviours=behaviours,
                        explains=tuple(self._causes()), not_held=frozenset({"effort", "velocity", "contact_stiffness"}))

    def _causes(self) -> list[Explanation]:
        """What MuJoCo does to the differences a comparator finds (see `Explanation`)."""
        model, native = self.model, self.load == "native"
        if self._mjcf_native:  # the canonical model is MuJoCo's compiled model of this very file
            return []
        out = unreadable_mesh_explains(self.engine, model) if native else []
        if model.floating:  # the URDF importer welds the root (a matched build that cannot float says so)
            out.append(Explanation("structure", "root_joint", "mujoco_welds_floating_root", model.root))
        out.append(Explanation("structure", "merged_link",
                               "mujoco_fuses_static_bodies" if native else "mujoco_merges_massless_chain"))
        if native:  # the importer reads neither Drake's rotor inertia nor SDFormat's spring extension
            out += armature_explains(model, "mujoco_urdf_ignores_joint_extensions")
            out += [Explanation("joints", q, "mujoco_urdf_ignores_joint_extensions", j.name)
                    for j in model.dof_joints if j.stiffness for q in ("stiffness", "spring_ref")]
            out += [Explanation("contact", "lateral_friction", "mujoco_ignores_contact_tag", link.name,
                                detail="{detail}; <contact><lateral_friction> is a PyBullet extension")
                    for link in model.links if link.contact is not None and link.contact.lateral_friction is not None]
        else:
            out += [Explanation("contact", "collision_shape", "mujoco_merges_massless_chain", case="merged"),
                    Explanation("contact", "collision_shape", "mujoco_plane_static_only", case="plane",
                                severity="warning",
                                detail="{detail}: MuJoCo allows planes only in static bodies (listed as unsupported)")]
        root = model.root
        for u in self.unsupported:  # a massless moving link given a tiny mass (a floating root: all it has)
            if u.feature == "massless_link" and not (model.floating and u.subject == root):
                out.append(Explanation("inertia", "inertial", "mujoco_tiny_mass", u.subject, "approximated",
                                       severity="info"))
        if self.plan.tiny_links and model.floating and root in self.plan.tiny_links:
            # MuJoCo rejects a free joint on a massless body: the root carries the tiny mass
            out += [Explanation("inertia", q, "mujoco_massless_free_root", root,
                                detail="{detail}; MuJoCo rejects a free joint on a massless body; the matched build "
                                       "gave it a tiny mass and inertia") for q in ("mass", "inertia")]
        out += [Explanation("joints", "mimic", "mujoco_mimic_equality", case="follows"),
                Explanation("joints", "mimic_motion", "mujoco_mimic_equality")]
        return out

    def close(self) -> None:
        self.d = None
        self.m = None
