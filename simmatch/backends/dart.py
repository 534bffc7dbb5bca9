"""DART (dartpy) backend.

matched: the skeleton is built programmatically from the RobotModel (one BodyNode per link, WeldJoint
/ RevoluteJoint / PrismaticJoint by type, the root welded to the world or on a FreeJoint), with the
ODE collision detector by default (DART's default FCL cannot collide capsules) and body deactivation
("sleeping") switched off. native: `DartLoader().parseSkeleton(path)` with default options, exactly as
users call it; whatever it changes (an added floating root, lost `<capsule>` shapes, limits not
enforced) is left in place for `simmatch check` to diagnose. A native load of an MJCF calls
`dartpy.utils.MjcfParser.readWorld` (see `dart_mjcf`).

Measured on dartpy 6.20: FreeJoint positions are (rotation vector, translation) of the body in the
world, but its velocities are (angular, linear velocity of the origin) in WORLD coordinates, not body
coordinates. The conversion below goes through the joint's own Jacobian and the body's world
velocities, so it is exact whichever convention the build uses.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from ..config import SimConfig
from ..errors import EngineFailure
from ..model import ContactParams, Inertial, Joint, Limit, Link, Pose, RobotModel, State
from . import dart_free
from .base import (
    Backend,
    Behaviour,
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
    vec3,
)
from .dart_build import (
    MESH_FORMATS,
    add_floor,
    captured_output,
    isometry,
    make_shape,
    set_inertia,
    shape_to_geometry,
)

_DETECTORS = {"ode": "OdeCollisionDetector", "bullet": "BulletCollisionDetector",
              "dart": "DARTCollisionDetector", "fcl": "FCLCollisionDetector"}
# A ShapeNode DynamicsAspect's defaults in dartpy 6.20 (measured: friction 1.0, restitution 0.0);
# DartLoader gives every collision shape these whatever <contact> says.
DART_FRICTION, DART_RESTITUTION = 1.0, 0.0
_JOINT_TYPES = {"WeldJoint": "fixed", "RevoluteJoint": "revolute", "PrismaticJoint": "prismatic",
                "FreeJoint": "floating", "PlanarJoint": "planar"}


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


class DartBackend(Backend):
    engine = "dart"
    capabilities = Capabilities(
        # no run-time contact setters or external forces in this backend; rigid (LCP) contacts only
        shapes=frozenset({"box", "sphere", "cylinder", "capsule", "mesh", "plane"}),
        mesh_formats=MESH_FORMATS,
        collision_detectors=tuple(_DETECTORS),  # 'ode' (the default of SimConfig) first
        native_formats=frozenset({"urdf", "mjcf"}),
        unsupported={
            "solver_iterations": UnsupportedKind("dynamics"),
            "contact_stiffness": UnsupportedKind("contact", "dart_rigid_contacts"),
            "rolling_friction": UnsupportedKind("contact"),
            "spinning_friction": UnsupportedKind("contact"),
            "mimic": UnsupportedKind("joints", "dart_no_mimic_binding"),
            "free_joint_integration": UnsupportedKind("dynamics", "dart_free_joint_coordinates"),
            "armature": UnsupportedKind("joints", "dart_no_armature"),
        },
    )

    bodies: dict[str, Any]  # canonical link -> its dartpy BodyNode

    def __init__(self, model: RobotModel, config: SimConfig | None = None, load: str = "matched"):
        super().__init__(model, config, load)
        import dartpy as dart

        self._dart = dart
        cfg = self.config
        self.loader_messages: list[str] = []
        self.world = dart.simulation.World()
        self.world.setTimeStep(cfg.dt)
        self.world.setGravity(np.asarray(cfg.gravity, dtype=float))
        opts = self.world.getDeactivationOptions()
        opts.mEnabled = False  # DART 6.20 puts slow bodies to sleep by default: never in a comparison
        self.world.setDeactivationOptions(opts)
        self.detector = getattr(dart.collision, _DETECTORS[cfg.collision_detector])()
        solver = self.world.getConstraintSolver()
        solver.setCollisionDetector(self.detector)
        self._pgs_iterations = None
        secondary = solver.getSecondaryBoxedLcpSolver()
        if isinstance(secondary, dart.constraint.PgsBoxedLcpSolver):
            option = dart.constraint.PgsBoxedLcpSolverOption()
            option.mMaxIteration = int(cfg.solver_iterations)
            secondary.setOption(option)
            self._pgs_iterations = int(cfg.solver_iterations)
        self.notes.append(f"collision detector: {cfg.collision_detector}; body deactivation off; LCP: Dantzig "
                          f"(direct), PGS fallback with {cfg.solver_iterations} iterations")
        self.unsupported.append(Unsupported(
            "solver_iterations", "*", "DART's primary boxed LCP solver (Dantzig) is direct: the iteration count "
            "only applies to its PGS fallback"))

        # native MJCF: canonical link -> its frame in its DART body's frame (MjcfParser keeps MuJoCo's
        # body frames; the canonical link frame is at the body's last joint's anchor)
        self._mjcf_offsets: dict[str, np.ndarray] = {}
        self._mjcf_native = load == "native" and model.source_format == "mjcf"
        with captured_output(self.loader_messages):
            if load == "matched":
                self.skel = self._build_matched()
            elif self._mjcf_native:
                from . import dart_mjcf

                self.skel, self.bodies, self._mjcf_offsets, notes = dart_mjcf.load_native(model)
                self.notes += notes
                root = self.skel.getRootJoint()
                self._root_joint_name = root.getName() if root is not None else ""
            else:
                self.skel = self._load_native()
            if self.skel is not None:
                self.world.addSkeleton(self.skel)
            self.floor = None
            if cfg.floor:
                self.floor = add_floor(self.world, cfg.contact.friction, cfg.contact.restitution)
        if self.skel is None:
            self._native_failed()
        if cfg.contact.stiffness is not None or cfg.contact.damping is not None:
            self.unsupported.append(Unsupported(
                "contact_stiffness", "floor", "DART's contacts are rigid (LCP): config contact stiffness/damping "
                "not representable, rigid contact used"))
        self._map_dofs()
        self._refuse_singular_free_root()
        if load == "native" and cfg.align_joints:
            self._align_native_joints()
        self._tau_full = np.zeros(self.dof)
        # A joint whose whole subtree is massless (a model-level finding, `massless_subtree`) makes
        # DART print two "Non-finite inverse projected articulated inertia" warnings to stderr on
        # every step (10,000 lines for one `gap` run): its steps write stderr to /dev/null.
        from ..kinematics import massless_subtree_joints

        self._devnull = os.open(os.devnull, os.O_WRONLY) if massless_subtree_joints(model) else None

    def _world_step(self) -> None:
        if self._devnull is None:
            self.world.step()
            return
        keep = os.dup(2)
        try:
            os.dup2(self._devnull, 2)
            self.world.step()
        finally:
            os.dup2(keep, 2)
            os.close(keep)

    # -- building ----------------------------------------------------------------------------
    def _build_matched(self) -> Any:
        """The model built body by body as a dartpy Skeleton."""
        dart, model = self._dart, self.model
        skel = dart.dynamics.Skeleton(model.name)
        self.bodies = {}  # link name -> dartpy BodyNode
        root_link = model.link(model.root)
        if model.floating:
            joint, body = skel.createFreeJointAndBodyNodePair()
            joint.setName(f"{model.root}_root")
        else:
            joint, body = skel.createWeldJointAndBodyNodePair()
            joint.setName(f"{model.root}_weld")
        # a fixed base mounted at model.base_pose (identity when floating or unposed)
        joint.setTransformFromParentBodyNode(isometry(model.base_pose.matrix if model.posed else np.eye(4)))
        joint.setTransformFromChildBodyNode(isometry(np.eye(4)))
        self._root_joint_name = joint.getName()
        self._setup_body(body, root_link)
        for j in model.walk():
            parent = self.bodies[j.parent]
            if j.type == "fixed":
                joint, body = skel.createWeldJointAndBodyNodePair(parent)
            elif j.type in ("revolute", "continuous"):
                joint, body = skel.createRevoluteJointAndBodyNodePair(parent)
            elif j.type == "prismatic":
                joint, body = skel.createPrismaticJointAndBodyNodePair(parent)
            else:  # floating/planar child joints: the URDF reader already reports them
                joint, body = skel.createWeldJointAndBodyNodePair(parent)
                self.unsupported.append(Unsupported("joint_type", j.name, f"{j.type} joint welded"))
            joint.setName(j.name)
            joint.setTransformFromParentBodyNode(isometry(j.origin.matrix))
            joint.setTransformFromChildBodyNode(isometry(np.eye(4)))
            if j.movable:
                self._setup_joint(joint, j)
            self._setup_body(body, model.link(j.child))
        for j in model.mimic_joints:
            assert j.mimic is not None  # a mimic joint has its <mimic>
            self.unsupported.append(Unsupported(
                "mimic", j.name, f"dartpy 6.20 does not bind Joint::setMimicJoint: {j.name!r} moves on its own "
                                 f"instead of following {j.mimic.joint!r}"))
        return skel

    def _setup_joint(self, joint: Any, j: Joint) -> None:
        dart = self._dart
        joint.setAxis(np.asarray(j.axis, dtype=float))
        joint.setActuatorType(dart.dynamics.ActuatorType.FORCE)
        bounds = j.bounds  # (lower, upper) exactly when the joint is limited
        if bounds is not None:
            joint.setPositionLowerLimit(0, float(bounds[0]))
            joint.setPositionUpperLimit(0, float(bounds[1]))
            joint.setLimitEnforcement(True)
        else:
            joint.setPositionLowerLimit(0, -np.inf)
            joint.setPositionUpperLimit(0, np.inf)
            joint.setLimitEnforcement(False)
        # velocity limits stay infinite: DART enforces them with the position limits, the other
        # engines do not enforce URDF `velocity` under torque control.
        if j.limit is not None and j.limit.effort:
            joint.setForceLowerLimit(0, -float(j.limit.effort))
            joint.setForceUpperLimit(0, float(j.limit.effort))
        joint.setDampingCoefficient(0, float(j.damping))
        joint.setCoulombFriction(0, float(j.friction))
        # a joint spring -k (q - rest), integrated implicitly by DART (as its damping)
        joint.setSpringStiffness(0, float(j.stiffness))
        joint.setRestPosition(0, float(j.spring_ref))
        if j.armature:
            self.unsupported.append(Unsupported(
                "armature", j.name, f"armature {j.armature:g} left out: dartpy 6.20 binds no joint armature (DART's "
                "GenericJoint has none), so DART's M(q) lacks it on this joint's diagonal"))

    def _setup_body(self, body: Any, link: Link) -> None:
        body.setName(link.name)
        self.bodies[link.name] = body
        set_inertia(body, link.inertial)
        contact = link.contact or ContactParams()
        cfg = self.config.contact
        friction = contact.lateral_friction if contact.lateral_friction is not None else cfg.friction
        restitution = contact.restitution if contact.restitution is not None else cfg.restitution
        for feature in ("rolling_friction", "spinning_friction"):
            if getattr(contact, feature):
                self.unsupported.append(Unsupported(feature, link.name, f"DART has no {feature.replace('_', ' ')}"))
        if contact.stiffness is not None or contact.damping is not None:
            self.unsupported.append(Unsupported(
                "contact_stiffness", link.name, "DART's contacts are rigid (LCP): declared contact "
                "stiffness/damping not representable, rigid contact used"))
        for i, geom in enumerate(link.collisions):
            shape = make_shape(geom)
            if shape is None:
                self.unsupported.append(Unsupported(geom.kind, link.name, f"could not load {geom.describe()}"))
                continue
            node = body.createShapeNode(shape, f"{link.name}::collision{i}")
            node.setRelativeTransform(isometry(geom.origin.matrix))
            node.createCollisionAspect()
            dyn = node.createDynamicsAspect()
            dyn.setFrictionCoeff(float(friction))
            dyn.setRestitutionCoeff(float(restitution))

    def _load_native(self) -> Any:
        """DartLoader's own import of `model.source` as a dartpy Skeleton, None when the loader
        returns None; EngineFailure when the file is not found."""
        dart, model = self._dart, self.model
        path = Path(model.source).resolve() if model.source else None
        if path is None or not path.is_file():
            raise EngineFailure("dart", "native", f"URDF file {model.source!r} not found")
        # Exactly what users call: no package directories registered (resolving `package://` is what
        # the matched build does). The absolute file URI stands for "the path the user gave".
        skel = dart.utils.DartLoader().parseSkeleton(path.as_uri())
        if skel is None:
            return None
        self.bodies = {skel.getBodyNode(i).getName(): skel.getBodyNode(i) for i in range(skel.getNumBodyNodes())}
        if model.posed:
            # a mounted fixed base: every tree's root joint (the FreeJoint DART adds, or the joints
            # of a root link named 'world') moves from the world origin to the mount pose
            for t in range(skel.getNumTrees()):
                rj = skel.getRootJoint(t)
                T = model.base_pose.matrix @ np.asarray(rj.getTransformFromParentBodyNode().matrix())
                rj.setTransformFromParentBodyNode(isometry(T))
        root = skel.getRootJoint()
        self._root_joint_name = root.getName() if root is not None else ""
        return skel

    def _native_failed(self) -> None:
        """DartLoader().parseSkeleton returned None: say why, with the loader's own words."""
        path = Path(self.model.source).resolve()
        said = "; ".join(m for m in self.loader_messages if "package" in m.lower() or "error" in m.lower())[:300]
        packages = sorted(_package_names(path))
        unresolved = [p for p in packages if p in " ".join(self.loader_messages)] or packages
        if unresolved:
            raise EngineFailure(
                "dart", "native",
                f"DartLoader().parseSkeleton returned None: package:// URIs ({', '.join(unresolved)}) cannot be "
                f"resolved until loader.addPackageDirectory(name, folder) registers them"
                + (f" (engine said: {said})" if said else ""), cause="dart_package_uri_unresolved")
        # a missing visual mesh keeps the URDF's text as its filename
        missing = [(link.name, g.filename) for link in self.model.links for g in link.visuals
                   if g.missing and g.filename is not None]
        said_all = " ".join(self.loader_messages)
        hit = next(((ln, fn) for ln, fn in missing if fn.split("/")[-1] in said_all), None)
        if hit is not None:  # measured on 6.20: a visual mesh it cannot open fails the whole file
            raise EngineFailure("dart", "native", f"DartLoader().parseSkeleton returned None: visual mesh {hit[1]!r} "
                                f"of link {hit[0]!r} not found (DART's loader fails on a missing visual)",
                                cause="urdf_missing_visual_mesh")
        from ..urdf import empty_dynamics_joints

        empty = empty_dynamics_joints(self.model.source)
        if empty and "dynamics" in said_all:
            raise EngineFailure("dart", "native", f"DartLoader().parseSkeleton returned None: joint {empty[0]!r} has a "
                                "<dynamics> without damping and friction, which urdfdom refuses"
                                + (f" (engine said: {said})" if said else ""), cause="urdf_empty_dynamics")
        spherical = [g for g, cs in self.model.groups.items() if cs[0].group_type == "spherical"]
        if spherical and "spherical" in " ".join(self.loader_messages):
            raise EngineFailure("dart", "native", f"DartLoader().parseSkeleton returned None: urdfdom has no "
                                f"'spherical' joint type (joint {spherical[0]!r})"
                                + (f" (engine said: {said})" if said else ""), cause="dart_no_spherical_joint")
        raise EngineFailure("dart", "native", "DartLoader().parseSkeleton returned None"
                            + (f" (engine said: {said})" if said else ""))

    def _map_dofs(self) -> None:
        skel, model = self.skel, self.model
        idx = []
        free_coords: dict[str, list[Any]] = {}  # group -> [its dartpy FreeJoint, 6 dof columns]
        coordinate_of = {c.name: (g, k) for g, cs in model.groups.items() for k, c in enumerate(cs)}
        for name in model.joint_names:
            if skel.getJoint(name) is None and name in coordinate_of:
                group, k = coordinate_of[name]
                dj = skel.getJoint(group)
                if dj is not None and dj.getType() == "PlanarJoint":
                    # DART's PlanarJoint: T = Trans(q0 t1 + q1 t2) Rot(rotation axis, q2), the
                    # canonical planar coordinates when t1, t2 are the canonical in-plane axes
                    # (the kinematics comparison checks that they are)
                    idx.append(dj.getIndexInSkeleton(k))
                    continue
                if dj is not None and dj.getType() == "FreeJoint":
                    # an inner floating joint: DART's FreeJoint coordinates mapped onto the canonical
                    # x, y, z, yaw, pitch, roll (dart_free); the index is a placeholder of the right size
                    idx.append(dj.getIndexInSkeleton(k))
                    free_coords.setdefault(group, [dj, [None] * 6])[1][k] = len(idx) - 1
                    continue
            if skel.getJoint(name) is None:
                raise EngineFailure("dart", self.load, f"joint {name!r} missing from the DART skeleton")
            joint = skel.getJoint(name)
            if joint.getNumDofs() != 1:
                raise EngineFailure("dart", self.load, f"joint {name!r} has {joint.getNumDofs()} DoF in DART, not 1")
            idx.append(joint.getIndexInSkeleton(0))
        self._idx = idx
        # inner FreeJoints: (joint, canonical positions of x, y, z, yaw, pitch, roll, last coordinates)
        self._inner_free = [[dj, np.array(cols), None] for dj, cols in free_coords.values()]
        for group in free_coords:
            self.unsupported.append(Unsupported(
                "free_joint_integration", group,
                "DART's FreeJoint (rotation vector, its own velocities) is mapped exactly onto x, y, z, yaw, pitch, "
                "roll for states, forces, M and h, but DART integrates in its own coordinates: one step's velocity "
                "differs from a step in simmatch's coordinates by O(dt)"))
        root = skel.getRootJoint()
        self._free = None
        self.added_joints: tuple[str, ...] = ()
        if root is not None and root.getType() == "FreeJoint":
            if model.floating and root.getChildBodyNode().getName() == model.root:
                self._free = root
            else:
                self.added_joints = (root.getName(),)
        canonical = set(idx) | (set(range(root.getIndexInSkeleton(0), root.getIndexInSkeleton(0) + 6))
                                if self._free is not None else set())
        self._extra_idx = [i for i in range(skel.getNumDofs()) if i not in canonical]
        self._extra_q0 = np.array([skel.getDof(i).getInitialPosition() for i in self._extra_idx])
        # joints the URDF locks (lower == upper) that DART loaded as moving: set to that value
        for j in model.locked_joints:
            dj = skel.getJoint(j.name)
            if dj is not None and dj.getNumDofs() == 1 and dj.getIndexInSkeleton(0) in self._extra_idx:
                self._extra_q0[self._extra_idx.index(dj.getIndexInSkeleton(0))] = locked_position(j)

    def _align_native_joints(self) -> None:
        """config.align_joints on a native import: a locked joint DART loaded as moving gets the LOCKED
        actuator (held at its value, set with every state: the matched build's fixed joint). A `<mimic>`
        follower keeps the loader's MIMIC actuator: dartpy 6.20 has no other coupling to offer."""
        for name in self.config.align_joints:
            j = next((x for x in self.model.joints if x.name == name), None)
            dj = self.skel.getJoint(name)
            if j is None or dj is None:
                continue
            if j.locked_type and dj.getNumDofs() == 1:
                dj.setActuatorType(self._dart.dynamics.ActuatorType.LOCKED)
                self.notes.append(f"--explain: locked {name!r} given DART's LOCKED actuator")
            elif j.mimic is not None:
                self.notes.append(f"--explain: {name!r} keeps DART's MIMIC actuator (no other coupling in dartpy)")

    # -- state ---------------------------------------------------------------------------------
    def _set_state(self, state: State) -> None:
        skel = self.skel
        if self._extra_idx:
            skel.setPositions(self._extra_idx, self._extra_q0)
            skel.setVelocities(self._extra_idx, np.zeros(len(self._extra_idx)))
        if self.dof:
            skel.setPositions(self._idx, np.asarray(state.q, dtype=float))
            skel.setVelocities(self._idx, np.asarray(state.dq, dtype=float))
        for entry in self._inner_free:
            dj, cols, _ = entry
            c, dc = np.asarray(state.q, float)[cols], np.asarray(state.dq, float)[cols]
            dj.setPositions(self._dart.dynamics.FreeJoint.convertToPositions(isometry(dart_free.chain_transform(c))))
            dj.setVelocities(np.linalg.solve(dj.getRelativeJacobian(), dart_free.chain_jacobian(c) @ dc))
            entry[2] = c
        if self._free is not None and state.floating:
            self._set_root(state)

    def _set_root(self, state: State) -> None:
        j = self._free
        assert j is not None  # called for a floating base only
        T = np.eye(4)
        R = Rotation.from_quat(np.asarray(state.root_quat, dtype=float)).as_matrix()
        T[:3, :3], T[:3, 3] = R, state.root_pos
        j.setPositions(self._dart.dynamics.FreeJoint.convertToPositions(isometry(T)))
        # body-frame spatial velocity (angular, linear of the origin), mapped through the joint's
        # own Jacobian: exact whatever coordinates DART uses for FreeJoint velocities.
        V = np.concatenate([R.T @ np.asarray(state.root_ang_vel, float), R.T @ np.asarray(state.root_lin_vel, float)])
        J = j.getRelativeJacobian()
        j.setVelocities(np.linalg.solve(J, V))

    def _get_state(self) -> State:
        skel = self.skel
        if self.dof:
            q, dq = skel.getPositions(self._idx), skel.getVelocities(self._idx)
            self._read_inner_free(q, dq)
        else:
            q, dq = np.zeros(0), np.zeros(0)
        if not self.model.floating:  # getPositions(idx) returns a fresh float64 copy: no second copy
            return State(q, dq)
        if self._free is None:  # a floating model whose root DART welded: it stays where it is
            body = self.bodies.get(self.model.root)
            if body is None:  # DartLoader made a root link named 'world' the world itself
                return State(np.array(q, dtype=float), np.array(dq, dtype=float), np.zeros(3),
                             np.array([0.0, 0.0, 0.0, 1.0]), np.zeros(3), np.zeros(3))
        else:
            body = self._free.getChildBodyNode()
        T = body.getWorldTransform().matrix()
        W = self._dart.dynamics.Frame.World()
        return State(np.array(q, dtype=float), np.array(dq, dtype=float), np.array(T[:3, 3]),
                     Rotation.from_matrix(T[:3, :3]).as_quat(),
                     np.array(body.getLinearVelocity(np.zeros(3), W, W), dtype=float),
                     np.array(body.getAngularVelocity(W, W), dtype=float))

    # -- control -------------------------------------------------------------------------------
    def _apply_torques(self, tau: np.ndarray) -> None:
        self._tau_full = tau  # Backend.apply_torques hands over a fresh float array it never changes

    def _read_joint_state(self, q_out: np.ndarray, dq_out: np.ndarray) -> None:
        if self._dof:
            q_out[:] = self.skel.getPositions(self._idx)
            dq_out[:] = self.skel.getVelocities(self._idx)
            self._read_inner_free(q_out, dq_out)

    def _read_inner_free(self, q: np.ndarray, dq: np.ndarray) -> None:
        """Overwrite the placeholder entries of inner FreeJoints with their canonical coordinates."""
        for entry in self._inner_free:
            dj, cols, last = entry
            T = np.asarray(self._dart.dynamics.FreeJoint.convertToTransform(dj.getPositions()).matrix())
            c = dart_free.coordinates(T, last)
            q[cols] = c
            dq[cols] = np.linalg.solve(dart_free.chain_jacobian(c), dj.getRelativeJacobian() @ dj.getVelocities())
            entry[2] = c

    def _inner_free_maps(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per inner FreeJoint: (its DART dof columns in self._idx order, J_m, dJ_m dq) at the current state."""
        out = []
        for dj, cols, last in self._inner_free:
            T = np.asarray(self._dart.dynamics.FreeJoint.convertToTransform(dj.getPositions()).matrix())
            c = dart_free.coordinates(T, last)
            vd = np.asarray(dj.getVelocities(), dtype=float)
            Jc, Jr = dart_free.chain_jacobian(c), np.asarray(dj.getRelativeJacobian(), dtype=float)
            dc = np.linalg.solve(Jc, Jr @ vd)
            Jm = np.linalg.solve(Jr, Jc)
            dJm_dq = np.linalg.solve(Jr, dart_free.chain_jdot_dq(c, dc)
                                     - np.asarray(dj.getRelativeJacobianTimeDeriv(), dtype=float) @ vd)
            out.append((cols, Jm, dJm_dq))
        return out

    def _step(self) -> None:
        if self.dof:
            tau = self._tau_full
            if self._inner_free:  # power-equivalent DART forces: tau_d = J_m^-T tau_c
                tau = np.array(tau, dtype=float)
                for cols, Jm, _ in self._inner_free_maps():
                    tau[cols] = np.linalg.solve(Jm.T, tau[cols])
            self.skel.setForces(self._idx, tau)  # DART clears forces after every step
        self._world_step()

    # -- kinematics and dynamics ---------------------------------------------------------------
    def link_frames(self) -> dict[str, np.ndarray]:
        if self._mjcf_offsets:
            return {name: np.array(b.getWorldTransform().matrix()) @ self._mjcf_offsets[name]
                    for name, b in self.bodies.items()}
        return {name: np.array(b.getWorldTransform().matrix()) for name, b in self.bodies.items()
                if name in self._link_names}

    def link_coms(self) -> dict[str, np.ndarray]:
        return {name: np.array(b.getCOM()) for name, b in self.bodies.items()
                if name in self._link_names and self.model.link(name).mass > 0}

    @property
    def _link_names(self) -> set[str]:
        return {link.name for link in self.model.links}

    def _coordinate_map(self) -> tuple[np.ndarray, np.ndarray]:
        """(J (dof, dof), dJ dq (dof,)): DART velocities (in self._idx order) = J canonical dq; the
        identity but for inner FreeJoints (see dart_free)."""
        J, a0 = np.eye(self.dof), np.zeros(self.dof)
        for cols, Jm, dJm_dq in self._inner_free_maps():
            J[np.ix_(cols, cols)] = Jm
            a0[cols] = dJm_dq
        return J, a0

    def mass_matrix(self) -> np.ndarray:
        M = np.array(self.skel.getMassMatrix()[np.ix_(self._idx, self._idx)])
        if self._inner_free:
            J, _ = self._coordinate_map()
            M = J.T @ M @ J
        return M

    def bias_forces(self) -> np.ndarray:
        h = np.array(self.skel.getCoriolisAndGravityForces()[self._idx])
        if self._inner_free:
            J, a0 = self._coordinate_map()
            M = np.array(self.skel.getMassMatrix()[np.ix_(self._idx, self._idx)])
            h = J.T @ (h + M @ a0)
        return h

    def joint_limit_forces(self) -> np.ndarray:
        """Constraint impulse / dt of each joint at (within 1e-6 of) or past an enforced limit. DART
        stores limit and Coulomb-friction impulses in the same slot; away from a limit the value
        (friction only) is not reported."""
        out = np.zeros(self.dof)
        dt = self.world.getTimeStep()
        for k, j in enumerate(self.model.dof_joints):
            bounds = j.bounds  # (lower, upper) exactly when the joint is limited
            if bounds is None:
                continue
            dj = self.skel.getJoint(j.name)
            if not dj.areLimitsEnforced():
                continue
            q = dj.getPosition(0)
            if q <= bounds[0] + 1e-6 or q >= bounds[1] - 1e-6:
                out[k] = dj.getConstraintImpulse(0) / dt
        return out

    def contacts(self) -> list[ContactPoint]:
        out = []
        result = self.world.getLastCollisionResult()
        for c in result.getContacts():
            names = [self._frame_link(c.collisionObject1), self._frame_link(c.collisionObject2)]
            normal = np.array(c.normal, dtype=float)  # DART: from object 2 towards object 1
            if names[0] is None or names[0] == "floor":
                if names[1] is None or names[1] == "floor":
                    continue
                link, other, normal = names[1], names[0] or "?", -normal
            else:
                link, other = names[0], names[1] or "?"
            # contact.force acts on object 1 along +normal: the same scalar whichever side is ours
            fn = max(0.0, float(np.dot(np.asarray(c.force, dtype=float), np.asarray(c.normal, dtype=float))))
            out.append(ContactPoint(link, other, np.array(c.point, dtype=float), normal, fn,
                                    float(c.penetrationDepth)))
        return out

    def _frame_link(self, obj: Any) -> str | None:
        frame = obj.getShapeFrame()
        name = frame.getName()
        if name == "floor":
            return "floor"
        node = frame.asShapeNode()
        if node is None:
            return None
        return node.getBodyNodePtr().getName()

    # -- readback -----------------------------------------------------------------------------
    def readback(self) -> Readback:
        with warnings.catch_warnings():  # rpy of a pitch of pi/2 (the hopper's foot capsule)
            warnings.filterwarnings("ignore", message="Gimbal lock")
            return self._readback()

    def _readback(self) -> Readback:
        model, skel = self.model, self.skel
        links = []
        for link in model.links:
            body = self.bodies.get(link.name)
            if body is None:
                links.append(Link(link.name))
                continue
            inertia = body.getInertia()
            back = np.linalg.inv(self._mjcf_offsets.get(link.name, np.eye(4)))  # body frame -> link frame
            inertial: Inertial | None = Inertial(float(inertia.getMass()), Pose(vec3((back @ np.append(inertia.getLocalCOM(), 1.0))[:3])),
                                tuple(vec3(row) for row in inertia.getMoment()))
            if self._mjcf_native and link.virtual:
                inertial = None  # a virtual link: one of MjcfParser's massless '__mjcf_dof' bodies
            collisions, contact = [], None
            for node in body.getShapeNodes() if inertial is not None or not self._mjcf_native else ():
                if not node.hasCollisionAspect():
                    continue
                geom = shape_to_geometry(node.getShape(), back @ node.getRelativeTransform().matrix(), node.getName())
                if geom is not None:
                    collisions.append(geom)
                if contact is None and node.hasDynamicsAspect():
                    dyn = node.getDynamicsAspect()
                    contact = ContactParams(lateral_friction=float(dyn.getFrictionCoeff()),
                                            restitution=float(dyn.getRestitutionCoeff()))
            links.append(Link(link.name, inertial, tuple(collisions), (), contact))
        joints, enforced = [], {}
        for j in model.walk():
            if skel.getJoint(j.name) is None:
                continue
            dj = skel.getJoint(j.name)
            joints.append(self._joint_back(dj, j))
            if dj.getNumDofs() == 1:
                enforced[j.name] = bool(dj.areLimitsEnforced())
        for group, coords in model.groups.items():
            dj = skel.getJoint(group)
            if dj is not None:
                joints.append(Joint(group, _JOINT_TYPES.get(dj.getType(), dj.getType()), coords[0].parent,
                                    coords[-1].child, coords[0].origin, coords[-1].axis))
        root = skel.getRootJoint()
        root_type = root.getType() if root is not None else ""
        base = "floating" if root_type == "FreeJoint" else "fixed"
        if self.added_joints:
            base = "floating"
        rb_model = replace(model, links=tuple(links), joints=tuple(joints), base=base,
                           base_reason=f"dart root joint: {root_type}")
        locked = {}
        for j in model.locked_joints:
            dj = skel.getJoint(j.name)
            if dj is None or dj.getNumDofs() == 0:
                locked[j.name] = "fixed"
            elif dj.areLimitsEnforced():
                locked[j.name] = "held by its limits"
            else:
                locked[j.name] = "moves: DART stores the equal limits but does not enforce them"
        extras = {
            "collision_detector": self.config.collision_detector,
            "root_joint": root_type,
            "root_joint_name": self._root_joint_name,
            "deactivation": False,
            "lcp_solver": "dantzig",
            "pgs_fallback_iterations": self._pgs_iterations,
            "self_collision": bool(skel.getSelfCollisionCheck()),
            "friction_combination": "min",
            "restitution_combination": "product",
            "velocity_limits": {j.name: _finite(skel.getDof(i).getVelocityUpperLimit())
                                for j, i in zip(model.dof_joints, self._idx)},
        }
        if locked:
            extras["locked_joints"] = locked
        if self.loader_messages:
            extras["engine_messages"] = list(self.loader_messages)
        return Readback(rb_model, extras, tuple(self.added_joints), {}, behaviours=self._behaviours(enforced, locked),
                        explains=tuple(self._causes(links)), not_held=frozenset({"velocity"}))

    def _behaviours(self, enforced: dict[str, bool], locked: dict[str, str]) -> tuple[Behaviour, ...]:
        """DART's additions: declared limits it does not enforce, locked joints it lets move, and
        capsules that DART's FCL detector collides as spheres."""
        model = self.model
        out = []
        for j in model.joints:
            bounds = j.bounds  # (lower, upper) exactly when the joint is limited
            if j.movable and bounds is not None and enforced.get(j.name) is False:
                out.append(Behaviour(
                    "joints", "limit_enforcement", j.name, "enforced", "not enforced", "dart_limits_not_enforced",
                    severity="warning",
                    detail=f"range [{bounds[0]:g}, {bounds[1]:g}] is declared but the joint moves past it"))
        out += [locked_joint_behaviour(self.engine, j, locked[j.name], "dart_equal_limits_not_enforced")
                for j in model.locked_joints if locked.get(j.name, "fixed") != "fixed"]
        if self.config.collision_detector == "fcl":
            caps = [link.name for link in model.links if any(g.kind == "capsule" for g in link.collisions)]
            if caps:
                out.append(Behaviour("contact", "collision_detector", ",".join(caps), "capsules", "0.1 m spheres (FCL)",
                                     "dart_fcl_no_capsule", severity="warning"))
        return tuple(out)

    def _causes(self, links: list[Link]) -> list[Explanation]:
        """What DART does to the differences a comparator finds (see `Explanation`)."""
        model, native = self.model, self.load == "native"
        out = unreadable_mesh_explains(self.engine, model) if native else []
        out.append(Explanation("inertia", "inertial", "dart_default_inertia", case="no_inertial"))
        if self.added_joints:
            out.append(Explanation("structure", "root_joint", "dart_adds_floating_root", model.root))
        elif native and model.floating and model.root not in self.bodies:
            out.append(Explanation("structure", "root_joint", "dart_world_root_link", model.root,
                                   detail=f"{{detail}}; DartLoader took the root link {model.root!r} as the world "
                                          f"itself (no body of that name): its children are attached to the world"))
        if self._mjcf_native:
            from . import dart_mjcf

            out += dart_mjcf.explains(model)
        elif native:
            said = "capsule" in " ".join(self.loader_messages).lower()
            out += [Explanation("contact", "collision_shape", "dart_drops_capsules", case="capsule",
                                detail="engine said: Unknown geometry type 'capsule'" if said else ""),
                    Explanation("contact", "collision_shape", "dart_urdf_no_plane", case="plane")]
            out += [Explanation("contact", "lateral_friction", "dart_ignores_contact_tag", link.name,
                                detail="{detail}; <contact><lateral_friction> is a PyBullet extension")
                    for link in model.links if link.contact is not None and link.contact.lateral_friction is not None]
            out += self._contact_tag_explains(links)
            out += [Explanation("joints", q, "dart_urdf_ignores_springs", j.name)
                    for j in model.dof_joints if j.stiffness for q in ("stiffness", "spring_ref")]
            if any(link.inertial is not None and link.inertial.mass == 0 and np.abs(link.inertial.tensor).max() > 0
                   for link in model.links):  # DART's loader keeps the inertia of massless links, others drop it
                out += [Explanation("dynamics", q, "massless_link_inertia", case="values")
                        for q in ("mass_matrix", "gravity_torques", "bias_forces", "forward_dynamics")]
        # MjcfParser: the dynamics' one cause is dart_mjcf.explains' (the armature is the last of its chain)
        out += [e for e in armature_explains(model, "dart_no_armature")
                if not (self._mjcf_native and e.category == "dynamics")]
        mimic = "dart_mimic_actuator" if native else "dart_no_mimic_binding"
        out += [Explanation("joints", "mimic", mimic, case="follows" if native else "moves on its own"),
                Explanation("joints", "mimic_motion", mimic)]
        return out

    def _refuse_singular_free_root(self) -> None:
        """A FreeJoint root body without mass whose motion the joints below it can repeat makes the
        skeleton's mass matrix singular: DART's forward dynamics is then not finite and ODE aborts
        the process at the next collision check (measured on the hopper with --base floating). The
        build is refused here, with the numbers, before anything steps. Joints that move no mass at
        all (zero rows) are a model finding of their own and left out of the test."""
        root = self.skel.getRootJoint()
        if root is None or root.getType() != "FreeJoint" or root.getChildBodyNode().getMass() > 0:
            return
        M = np.asarray(self.skel.getMassMatrix(), dtype=float)
        live = np.abs(M).max(axis=1, initial=0.0) > 1e-12 * np.abs(M).max(initial=0.0)
        w = np.linalg.eigvalsh(M[np.ix_(live, live)])
        if not w.size or w.min() > 1e-13 * max(w.max(), 1e-300):
            return  # (nothing with mass at all: a static object such as pybullet_data's plane, nothing to step)
        body = root.getChildBodyNode().getName()
        raise EngineFailure(
            "dart", self.load,
            f"root link {body!r} has no mass and floats on a FreeJoint whose motion the joints below it repeat: "
            f"DART's mass matrix is singular (smallest eigenvalue {w.min():.3g} of {w.max():.3g}), its forward "
            f"dynamics not finite (on the hopper ODE then aborts the process at the next step); use --base fixed or give the root "
            f"link its mass", cause="dart_singular_free_root")

    def _contact_tag_explains(self, links: list[Link]) -> list[Explanation]:
        """DartLoader (urdfdom) does not read PyBullet's `<contact>` extension: every collision
        ShapeNode keeps DART's DynamicsAspect defaults (friction 1.0, restitution 0). A declared
        restitution read back as that default is explained by it (measured per link)."""
        out = []
        got = {link.name: link.contact for link in links}
        for link in self.model.links:
            declared = link.contact.restitution if link.contact is not None else None
            back = got.get(link.name)
            if not declared or back is None or back.restitution is None or back.restitution != DART_RESTITUTION:
                continue
            out.append(Explanation("contact", "restitution", "dart_ignores_contact_tag", link.name,
                                   detail=f"{{detail}}; <contact><restitution value={declared:g}> is a PyBullet "
                                          f"extension: DART's loader left its default {DART_RESTITUTION:g}"))
        return out

    def _joint_back(self, dj: Any, j: Joint) -> Joint:
        T_pj = dj.getTransformFromParentBodyNode().matrix()
        T_cj = dj.getTransformFromChildBodyNode().matrix()
        if self._mjcf_offsets:  # in the canonical link frames (native MJCF)
            T_pj = np.linalg.inv(self._mjcf_offsets.get(j.parent, np.eye(4))) @ T_pj
            T_cj = np.linalg.inv(self._mjcf_offsets.get(j.child, np.eye(4))) @ T_cj
        origin = Pose.from_matrix(T_pj @ np.linalg.inv(T_cj))
        jtype = _JOINT_TYPES.get(dj.getType(), dj.getType())
        axis, limit, damping, friction = j.axis, None, 0.0, 0.0
        if dj.getNumDofs() == 1:
            axis = vec3(T_cj[:3, :3] @ np.asarray(dj.getAxis(), dtype=float))
            lo, hi = _finite(dj.getPositionLowerLimit(0)), _finite(dj.getPositionUpperLimit(0))
            if jtype == "revolute" and lo is None and hi is None:
                jtype = "continuous"
            effort = _finite(dj.getForceUpperLimit(0))
            if effort is None and j.limit is not None and not j.limit.effort:
                effort = j.limit.effort  # 'no effort limit' in URDF terms
            limit = Limit(lo, hi, effort, _finite(dj.getVelocityUpperLimit(0)))
            damping, friction = float(dj.getDampingCoefficient(0)), float(dj.getCoulombFriction(0))
            stiffness = float(dj.getSpringStiffness(0))
            rest = float(dj.getRestPosition(0)) if stiffness != 0.0 else 0.0
            return Joint(j.name, jtype, j.parent, j.child, origin, axis, limit, damping, friction,
                         stiffness=stiffness, spring_ref=rest)  # armature: none in DART
        return Joint(j.name, jtype, j.parent, j.child, origin, axis, limit, damping, friction)

    def close(self) -> None:
        devnull = getattr(self, "_devnull", None)
        if devnull is not None:
            os.close(devnull)
            self._devnull = None
        if getattr(self, "world", None) is not None:
            self.world.removeAllSkeletons()
            self.world = None


def _package_names(path: Path) -> set[str]:
    """Package names used by `package://name/...` URIs in a URDF file."""
    import re

    try:
        text = path.read_text(errors="replace")
    except OSError:
        return set()
    return set(re.findall(r"package://([^/\"']+)/", text))
