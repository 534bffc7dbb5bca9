"""The one protocol every engine backend implements.

A backend builds a `RobotModel` in its engine, in one of two ways:
- `native`: the engine's own URDF importer, called the way most users call it. It may fail or
  silently change the model; that is what `simmatch check` diagnoses.
- `matched`: simmatch builds the model so that it is physically identical to the canonical one.
  What the engine cannot represent is listed in `unsupported`, never silently dropped.

Everything a backend returns is in canonical terms: joints in `RobotModel.joint_names` order,
links by URDF name, world frames as (4, 4) arrays, states as `State`. Returned arrays are copies.

Knowledge about the engine stays here: `readback()` returns, besides the model the engine holds,
typed records that `simmatch check`'s engine-agnostic comparators turn into findings (`Behaviour`:
what the engine does on its own; `Explanation`: why a difference they find is there), a load
failure carries its cause (`EngineFailure.cause`), and the engine's entries of the cause catalogue
live in `backends/<engine>_causes.py`.
"""

from __future__ import annotations

import importlib
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

from ..config import SimConfig
from ..errors import EngineFailure, PhysicsDiverged
from ..model import Joint, RobotModel, State, Trajectory

if TYPE_CHECKING:  # only for the annotation of Capabilities.causes
    from ..findings import Cause

LOADS = ("native", "matched")


def _clip_min_max(x: Any, lo: Any, hi: Any) -> Any:
    return np.minimum(np.maximum(x, lo), hi)


def _clip_ufunc() -> Callable[[Any, Any, Any], Any]:
    """The clip ufunc itself: np.clip's Python wrapper costs more than the clipping on a few joints.
    Imported by name: numpy's stubs of umath omit clip, which the module defines at run time."""
    for module in ("numpy._core.umath", "numpy.core.umath"):  # numpy >= 2, numpy 1.x
        try:
            clip: Callable[[Any, Any, Any], Any] = importlib.import_module(module).clip
            return clip
        except (ImportError, AttributeError):  # pragma: no cover
            continue
    return _clip_min_max  # pragma: no cover


_clip = _clip_ufunc()


@dataclass(frozen=True)
class Unsupported:
    """A feature of the model this engine cannot represent exactly, and what was done instead."""

    feature: str  # stable id, e.g. 'restitution', 'joint_friction', 'capsule'
    subject: str  # link, joint or shape name ('*' for the whole model)
    reason: str
    # Filled by the emitting backend from its `Capabilities.unsupported` (`Backend.declared_unsupported`):
    category: str = ""  # findings category: structure, kinematics, inertia, joints, contact, dynamics
    cause: str = ""  # cause id in simmatch/causes.py


# -- what an engine can do: declared once per backend class --------------------------------------
@dataclass(frozen=True)
class UnsupportedKind:
    """How one feature that an engine cannot represent exactly is reported: the findings category
    and the cause id (simmatch/causes.py) of every `Unsupported` of that feature the backend emits."""

    category: str
    cause: str = "unsupported"


# What an undeclared feature gets: a structural approximation with the generic cause.
UNDECLARED = UnsupportedKind("structure", "unsupported")
VARIANTS_EVERY_ENGINE = frozenset({"heavy-head", "heavy-leg", "low-power", "emf"})  # model edits; Backend.torque_scale/torque_map


def _frozen_map(value: Mapping[Any, Any] | None) -> Mapping[Any, Any]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True)
class Capabilities:
    """What an engine backend can do, declared on its class (`Backend.capabilities`) so that the
    rest of simmatch asks the backend instead of naming engines. Every field is plain data.

    - `contact_params`: the keywords of `Backend.set_contact_params` it honours at run time
      (subset of 'friction', 'restitution', 'stiffness', 'damping'); empty: none.
    - `external_forces`: `Backend.apply_external_force` works.
    - `compliant_contact`: how a compliant (spring-damper) contact is expressed: 'force' (stiffness
      N/m, damping N s/m), 'acceleration' (per unit mass: both divided by the robot's mass, as
      MuJoCo's solref), or None (rigid contact only).
    - `shapes`: collision shape kinds (`Geometry.kind`) its matched build collides as declared.
    - `joints`: canonical joint kinds (`Joint.type`) its matched build represents.
    - `mesh_formats`: mesh formats (`meshes.format_of`) its own URDF loader reads (native loads);
      `matched_mesh_formats`: what its matched build is given without conversion (anything else
      becomes a binary STL copy, `meshes.readable_copy`), None: the same as `mesh_formats`;
      `max_stl_faces`: the most triangles a binary STL may have (None: no limit).
    - `unreadable_mesh_causes`: mesh format -> cause id of a native load that cannot read it.
    - `mesh_failure_causes`: ((regular expression, cause id), ...) for its load failures about a
      mesh, tried in order on the engine's message; a pattern with a group named `binary` matches
      only when that group names a binary STL file.
    - `variants`: the target variants (`simmatch.variants.VARIANTS`) it can express;
      'soft-floor' needs `compliant_contact`; 'deform-floor' needs `deformable_floor` or
      `compliant_contact` (then approximated by a compliant contact).
    - `deformable_floor`: it builds the floor as a finite-element slab (`ContactConfig.young_modulus`).
    - `collision_detectors`: the collision detectors it can use (`SimConfig.collision_detector`
      for an engine that has a choice), the one it uses by default first.
    - `native_formats`: the model formats (`RobotModel.source_format`) its native load reads
      with the engine's own importer; a native load of another format is a load failure.
    - `native_causes`: behaviour of its own URDF importer -> cause id, for behaviours measured
      outside the comparators: 'mimic_ignored' (a `<mimic>` follower does not follow, measured by
      the mimic probe). (A locked joint an import lets move is its readback's `Behaviour`.)
    - `unsupported`: feature id of its `Unsupported` entries -> `UnsupportedKind` (category and
      cause); a feature not listed gets `UNDECLARED`.
    - `causes`: catalogue entries (`simmatch.causes.Cause`) of behaviours only this engine has,
      joined to the one catalogue (`simmatch.causes.CATALOGUE`) when the engine is registered or
      loaded; an id already catalogued is left as it is.
    """

    contact_params: tuple[str, ...] = ()
    external_forces: bool = False
    compliant_contact: str | None = None
    shapes: frozenset[str] = frozenset()
    joints: frozenset[str] = frozenset({"revolute", "continuous", "prismatic", "fixed"})
    mesh_formats: frozenset[str] = frozenset()
    matched_mesh_formats: frozenset[str] | None = None
    max_stl_faces: int | None = None
    unreadable_mesh_causes: Mapping[str, str] = field(default_factory=dict)
    mesh_failure_causes: tuple[tuple[str, str], ...] = ()
    variants: frozenset[str] = VARIANTS_EVERY_ENGINE
    deformable_floor: bool = False
    collision_detectors: tuple[str, ...] = ()
    native_formats: frozenset[str] = frozenset({"urdf"})
    native_causes: Mapping[str, str] = field(default_factory=dict)
    unsupported: Mapping[str, UnsupportedKind] = field(default_factory=dict)
    causes: tuple[Cause, ...] = ()

    def __post_init__(self) -> None:
        if self.compliant_contact not in (None, "force", "acceleration"):
            raise ValueError(f"compliant_contact must be 'force', 'acceleration' or None, "
                             f"not {self.compliant_contact!r}")
        if "soft-floor" in self.variants and self.compliant_contact is None:
            raise ValueError("the soft-floor variant needs a compliant contact model")
        if "deform-floor" in self.variants and not (self.deformable_floor or self.compliant_contact):
            raise ValueError("the deform-floor variant needs a deformable floor or a compliant contact model")
        for name in ("unreadable_mesh_causes", "native_causes", "unsupported"):
            object.__setattr__(self, name, _frozen_map(getattr(self, name)))
        if self.matched_mesh_formats is None:
            object.__setattr__(self, "matched_mesh_formats", self.mesh_formats)

    def expresses(self, variant: str) -> bool:
        """Whether the target variant `variant` (e.g. 'soft-floor') can be built in this engine."""
        return variant in self.variants

    def unsupported_kind(self, feature: str) -> UnsupportedKind:
        return self.unsupported.get(feature, UNDECLARED)

    def mesh_failure_cause(self, message: str) -> str | None:
        """Cause id of a load failure about a mesh, from the engine's message; None otherwise."""
        import re

        from .. import meshes

        for pattern, cause in self.mesh_failure_causes:
            m = re.search(pattern, message)
            if m and ("binary" not in m.groupdict() or meshes.format_of(m.group("binary")) == "stl_binary"):
                return cause
        return None

    def __reduce__(self) -> tuple[Callable[[dict[str, Any]], Capabilities], tuple[dict[str, Any]]]:
        # mapping proxies do not pickle: rebuild from plain dicts
        kw = {f: getattr(self, f) for f in self.__dataclass_fields__}
        for name in ("unreadable_mesh_causes", "native_causes", "unsupported"):
            kw[name] = dict(kw[name])
        return (_capabilities, (kw,))


def _capabilities(kw: dict[str, Any]) -> Capabilities:
    return Capabilities(**kw)


@dataclass(frozen=True)
class ContactPoint:
    """One contact between a robot link and something else (the floor: other == 'floor')."""

    link: str
    other: str
    position: np.ndarray  # (3,) world, on the robot
    normal: np.ndarray  # (3,) world, pointing from `other` towards `link`
    normal_force: float  # N, >= 0
    penetration: float  # m, >= 0 when overlapping


@dataclass(frozen=True)
class Behaviour:
    """A hidden behaviour of this build: something the engine does that the URDF does not say (a
    velocity motor on every joint, link damping, a joint-speed cap, limits it stores but does not
    enforce, a locked joint it lets move...), known or measured by its backend. `check` reports each
    one as a finding of this source, as it stands.

    category: the finding category ('structure', 'kinematics', 'inertia', 'joints', 'contact',
    'dynamics'); quantity: what it is about, e.g. 'velocity_motor', 'link_damping'; subject: the
    joint or link name ('*' for the whole model); expected: what the URDF (and an engine without the
    behaviour) gives; actual: what this engine does; cause: its id in `simmatch.causes`; severity:
    'error', 'warning' or 'info'; detail: one sentence with the numbers; abs_error, rel_error,
    tolerance: the size where there is one (units of the quantity); extra: further JSON-safe
    numbers for the report."""

    category: str
    quantity: str
    subject: str
    expected: Any
    actual: Any
    cause: str
    severity: str = "error"
    detail: str = ""
    abs_error: float | None = None
    rel_error: float | None = None
    tolerance: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    """The backend's cause for a difference that an engine-agnostic comparator finds by comparing
    the declared model with the read-back one (a shape missing, a joint type changed, a root welded):
    the comparator names the difference, the engine that makes it names why.

    A finding of this source with the same category and quantity, whose subject is `subject` ('*':
    any), takes `cause` (an id in `simmatch.causes`) in place of 'unknown'. `case` narrows it to one
    outcome among those a comparator distinguishes ('' for any); the comparators that ask for one
    say which (contact.collision_shape: 'capsule', 'plane', 'mesh', 'merged' or 'file:PATH' for a
    mesh file the engine's own loader cannot read; contact.shape_kind: 'DECLARED->LOADED' kinds;
    joints.mimic: 'follows' or 'moves on its own'; structure.joint_type: 'DECLARED->LOADED' types;
    dynamics quantities: 'values' for numbers that differ (not a failed or missing computation);
    inertia.inertia: 'zeroed' for a tensor held as zero where the declared one breaks A + B >= C,
    'from_shapes' for a tensor the engine recomputed from the link's shapes; inertia.inertial (mass,
    COM and tensor of one link): 'no_inertial' for what the engine gives a link without <inertial>,
    'approximated' for an inertial the build replaced; these take precedence over model-level causes).
    `detail` is what the finding's detail becomes: '{detail}' in it stands for the comparator's own
    (a text without it replaces it; '' keeps it). `severity`, when given, replaces the finding's.
    `extra`: numbers added to the finding's extra."""

    category: str
    quantity: str
    cause: str
    subject: str = "*"
    case: str = ""
    detail: str = ""
    severity: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Readback:
    """What the engine actually holds, as a RobotModel in canonical names (links' inertials in the
    link frame; collisions as the engine will collide them; joints' limits, damping and friction as
    the engine applies them), joints or links the engine added or lost, and the records of what
    the engine does beyond it:

    - `behaviours`: hidden behaviours of this build (`Behaviour`), each a finding as it stands;
    - `explains`: the causes of differences a comparator finds (`Explanation`);
    - `not_held`: read-back quantities that do not say what the engine does, which comparators
      therefore skip: 'joint_axis' (axes not in the joint frame), 'effort' and 'velocity' (joint
      limits the engine does not hold, or does not apply under torque control), 'contact_stiffness';
    - `extras`: informational facts (integrator, root joint type, collision detector...) for
      display and tests; no comparator interprets them."""

    model: RobotModel
    extras: dict[str, Any] = field(default_factory=dict)
    added_joints: tuple[str, ...] = ()
    merged_links: dict[str, str] = field(default_factory=dict)  # link -> body it was merged into
    behaviours: tuple[Behaviour, ...] = ()
    explains: tuple[Explanation, ...] = ()
    not_held: frozenset[str] = frozenset()


def armature_explains(model: RobotModel, cause: str) -> list[Explanation]:
    """For an engine that holds no joint armature: `cause` of the armature it reads back as 0 (joints
    comparator) and of its M(q) (each armature joint's diagonal entry differs by exactly that joint's
    armature) and qdd (M^-1 (tau - h) with that smaller M) differing from the declared model's."""
    carried = [j for j in model.dof_joints if j.armature]
    if not carried:
        return []
    listed = ", ".join(f"{j.name} {j.armature:g}" for j in carried[:6]) + (
        f" and {len(carried) - 6} more" if len(carried) > 6 else "")
    out = [Explanation("joints", "armature", cause, j.name) for j in carried]
    out += [Explanation("dynamics", "mass_matrix", cause, f"{j.name}/{j.name}", "values",
                        f"{{detail}}; the engine holds no armature: M(q)'s diagonal lacks {j.armature:g} here")
            for j in carried]
    out.append(Explanation("dynamics", "forward_dynamics", cause, "*", "values",
                           f"{{detail}}; the engine's M(q) lacks the joints' armature ({listed})"))
    return out


def unreadable_mesh_explains(engine: str, model: RobotModel) -> list[Explanation]:
    """For a native load: each collision mesh whose format `engine`'s own loader cannot read, as the
    cause of that shape missing (case 'file:PATH'); the link loads without it."""
    import os

    from .. import meshes

    out = []
    for link in model.links:
        for g in link.collisions:
            cause = meshes.unreadable_cause(engine, g.filename) if g.kind == "mesh" else None
            if cause:
                assert g.filename is not None  # unreadable_cause finds a cause only for a named file
                e = Explanation("contact", "collision_shape", cause, link.name, f"file:{g.filename}",
                                f"{engine}'s own loader cannot read {os.path.basename(g.filename)} "
                                f"({meshes.format_of(g.filename)}): the link loads without this shape")
                if e not in out:
                    out.append(e)
    return out


def vec3(v: Any) -> tuple[float, float, float]:
    """An engine's 3-vector (a sequence or array of 3 numbers) as a triple of floats; ValueError for
    another length."""
    x, y, z = v
    return float(x), float(y), float(z)


def locked_position(joint: Joint) -> float:
    """The position (rad or m) at which the URDF locks `joint`: a revolute or prismatic joint with
    lower == upper, whose limit the model keeps. AssertionError for a joint that is not locked."""
    lim = joint.limit
    assert lim is not None and lim.lower is not None, f"{joint.name}: not a locked joint"
    return float(lim.lower)


def locked_joint_behaviour(engine: str, joint: Joint, treatment: str, cause: str) -> Behaviour:
    """A joint the URDF locks (lower == upper) that `engine` loaded as a moving joint: held by a
    limit constraint ('held ...': info) or free to move (an error), with `cause`."""
    held = treatment.startswith("held")
    lower = locked_position(joint)
    return Behaviour("joints", "locked_joint", joint.name, f"locked at {lower:g}", treatment, cause,
                     severity="info" if held else "error",
                     detail=f"URDF {joint.locked_type} joint with lower = upper = {lower:g}: "
                            f"{'a moving joint held by a limit constraint' if held else 'free to move'} in {engine}")


_BackendT = TypeVar("_BackendT", bound="Backend")


# Model-level features whose category and cause every engine shares (the simulation options of an MJCF)
MODEL_UNSUPPORTED = {"integrator": UnsupportedKind("dynamics", "mjcf_integrator"),
                     "option_flag": UnsupportedKind("dynamics", "mjcf_option_flag")}


def _model_unsupported(text: str) -> Unsupported:
    """One entry of `RobotModel.unsupported` ("feature 'subject': reason") as an Unsupported (with the
    category and cause of `MODEL_UNSUPPORTED` for those features, else the backend's)."""
    head, _, reason = text.partition("': ")
    feature, _, subject = head.partition(" '")
    if not reason or not subject:
        return Unsupported("model", "*", text)
    kind = MODEL_UNSUPPORTED.get(feature)
    if kind is not None:
        return Unsupported(feature, subject, reason, kind.category, kind.cause)
    return Unsupported(feature, subject, reason)


class Backend(ABC):
    """One engine holding one robot. Subclasses implement the underscored hooks."""

    engine: str = ""
    # What this engine can do (run-time setters, shapes, joints, mesh formats, variants, how its
    # unsupported features are reported); every subclass declares its own.
    capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, model: RobotModel, config: SimConfig | None = None, load: str = "matched"):
        if load not in LOADS:
            raise ValueError(f"load must be one of {LOADS}, not {load!r}")
        self.model = model
        self.config = config or SimConfig.for_model(model)  # the model file's dt and gravity, if it declares them
        self.load = load
        if load == "native" and model.source_format not in self.capabilities.native_formats:
            raise EngineFailure(self.engine, load, f"the native import of an {model.source_format.upper()} file is "
                                "not implemented yet (use --load matched)", cause="native_format_not_implemented")
        self.unsupported: list[Unsupported] = [_model_unsupported(s) for s in model.unsupported]
        self.notes: list[str] = []  # facts about this build worth printing (flags used, etc.)
        self._dof = model.dof
        self._torque = np.zeros(model.dof)
        # Actuator strength per joint (1 = as commanded); target variants such as low-power set it.
        self.torque_scale = np.ones(model.dof)
        # A state-dependent actuator (the emf variant): joint velocities (dof,) -> factor (dof,) on the
        # torques, evaluated before every engine step (`step`, `rollout`); None: no such factor.
        self.torque_map: Callable[[np.ndarray], np.ndarray] | None = None
        # (dof,) torques given to the engine for its last step (after torque_scale and torque_map)
        self.last_applied = np.zeros(model.dof)
        self.variant: str | None = None
        self._effort = np.array([
            (j.limit.effort if j.limit is not None and j.limit.effort else np.inf) for j in model.dof_joints
        ])
        self._neg_effort = -self._effort

    # -- state --------------------------------------------------------------------------------
    @property
    def joint_names(self) -> list[str]:
        return self.model.joint_names

    @property
    def dof(self) -> int:
        return self._dof  # a plain attribute: apply_torques asks on every step

    def set_state(self, state: State) -> None:
        """Set positions and velocities (and the root pose/twist when floating)."""
        if np.shape(state.q) != (self.dof,) or np.shape(state.dq) != (self.dof,):
            raise ValueError(f"state has {np.shape(state.q)} positions, {self.model.name} has {self.dof} DoF")
        if self.model.floating and not state.floating:
            raise ValueError(f"{self.model.name} has a floating base: the state needs a root pose")
        self._set_state(state)

    def get_state(self) -> State:
        state = self._get_state()
        # NaN/inf anywhere make the sum non-finite; Python's sum of a short list beats ndarray.sum()
        total = sum(state.q.tolist()) + sum(state.dq.tolist())
        if state.floating:
            # a floating base has all four root arrays
            assert (state.root_pos is not None and state.root_quat is not None
                    and state.root_lin_vel is not None and state.root_ang_vel is not None)
            total += float(state.root_pos.sum() + state.root_quat.sum() + state.root_lin_vel.sum()
                           + state.root_ang_vel.sum())
        if not math.isfinite(total):
            raise PhysicsDiverged(f"{self.engine}: non-finite state")
        return state

    # -- control ------------------------------------------------------------------------------
    def apply_torques(self, tau: npt.ArrayLike) -> np.ndarray:
        """Set joint torques (N m or N) held for the following steps, clipped to each joint's
        URDF effort limit where one is given (> 0), then multiplied by `torque_scale`. Returns the
        torques actually applied."""
        tau = np.asarray(tau, dtype=float)
        if tau.shape != (self._dof,):
            tau = tau.reshape(-1)
            if tau.shape != (self._dof,):
                raise ValueError(f"expected {self.dof} torques, got {tau.shape}")
        t = _clip(tau, self._neg_effort, self._effort)  # a new array: the caller's tau is never written
        np.multiply(t, self.torque_scale, out=t)
        self._torque = t
        self.last_applied = t
        self._apply_torques(t)
        return t.copy()

    def rollout(self, torques: npt.ArrayLike, substeps: int = 1) -> Trajectory:
        """Open-loop run from the current state: torques (T, dof), each held over `substeps` engine
        steps. The fast path for long runs: torques are clipped and scaled once for the whole
        sequence, states go straight into preallocated arrays, and no per-step objects are made
        (a `torque_map` is still applied before every engine step; `Trajectory.applied` is the
        torque before it). Stops at the first non-finite state (`Trajectory.diverged_at`)."""
        tau = np.asarray(torques, dtype=float)
        if tau.ndim != 2 or tau.shape[1] != self._dof:
            raise ValueError(f"expected torques of shape (T, {self._dof}), got {tau.shape}")
        applied = np.minimum(np.maximum(tau, self._neg_effort), self._effort) * self.torque_scale
        T = len(applied)
        if self.model.floating:  # root conversions are engine-specific: go through get_state
            states = [self.get_state()]
            diverged = None
            one = self._step if self.torque_map is None else self._mapped_step
            for t in range(T):
                self._torque = self.last_applied = applied[t]
                self._apply_torques(applied[t])
                for _ in range(substeps):
                    one()
                try:
                    states.append(self.get_state())
                except PhysicsDiverged:
                    diverged = t
                    break
            n = len(states)
            return Trajectory(np.array([s.q for s in states]), np.array([s.dq for s in states]), applied[:n - 1],
                              np.array([s.root_pos for s in states]), np.array([s.root_quat for s in states]),
                              np.array([s.root_lin_vel for s in states]), np.array([s.root_ang_vel for s in states]),
                              diverged)
        Q, DQ = np.empty((T + 1, self._dof)), np.empty((T + 1, self._dof))
        s0 = self.get_state()
        Q[0], DQ[0] = s0.q, s0.dq
        read, apply, step = self._read_joint_state, self._apply_torques, self._step
        if self.torque_map is not None:
            step = self._mapped_step
        for t in range(T):
            self._torque = self.last_applied = applied[t]
            apply(applied[t])
            for _ in range(substeps):
                step()
            read(Q[t + 1], DQ[t + 1])
        self._after_rollout()
        finite = np.isfinite(Q).all(axis=1) & np.isfinite(DQ).all(axis=1)
        diverged = None
        if not finite.all():
            first = int(np.argmin(finite))  # row index of the first non-finite state
            diverged, Q, DQ, applied = first - 1, Q[:first], DQ[:first], applied[:first - 1]
        return Trajectory(Q, DQ, applied[:len(Q) - 1], diverged_at=diverged)

    def _read_joint_state(self, q_out: np.ndarray, dq_out: np.ndarray) -> None:
        """Write the current joint positions and velocities into the given rows (fixed base).
        Engines override this with their cheapest read."""
        s = self._get_state()
        q_out[:], dq_out[:] = s.q, s.dq

    def _after_rollout(self) -> None:
        """Engine check after a fast rollout (MuJoCo: did it silently reset?)."""

    def step(self, n: int = 1) -> None:
        """Advance `n` engine steps with the torques last given to `apply_torques` (times the
        `torque_map` at the state before each step, when there is one)."""
        if self.torque_map is None:
            self._steps(n)
            return
        for _ in range(n):
            self._mapped_step()

    def _steps(self, n: int) -> None:
        """`n` engine steps with the torques held (engines override it with one call where they have one)."""
        for _ in range(n):
            self._step()

    def _mapped_step(self) -> None:
        """One engine step with the held torques times `torque_map`(joint velocities now): the one
        place a state-dependent actuator is applied, for every engine and every stepping path."""
        assert self.torque_map is not None, "only called with a torque map"
        if self.model.floating:
            dq = self._get_state().dq
        else:
            buf = self.__dict__.get("_map_buf")
            if buf is None:
                buf = self._map_buf = (np.empty(self._dof), np.empty(self._dof))
            self._read_joint_state(*buf)
            dq = buf[1]
        t = self._torque * self.torque_map(dq)
        self.last_applied = t
        self._apply_torques(t)
        self._step()

    def renew(self) -> bool:
        """Return this build to its state right after construction, in place: the state of
        `State.zeros`, no torques, no external forces, every run-time contact parameter as built (the
        `torque_scale` and `torque_map` a variant set stay). True when the engine can do so exactly,
        so that what follows steps bit for bit as on a new build; False (the default, e.g. PyBullet,
        which cannot switch a compliant contact back to rigid) when the caller must build anew."""
        return False

    # -- run-time corrections (learn-dyn's hybrid simulator) ----------------------------------
    # Which of set_contact_params' keywords this engine honours: `capabilities.contact_params`.

    def set_contact_params(self, link: str, friction: float | None = None, restitution: float | None = None,
                           stiffness: float | None = None, damping: float | None = None) -> None:
        """Change a link's contact with the floor from now on: lateral friction coefficient,
        restitution, and a compliant contact (stiffness N/m with damping N s/m; both None = the
        engine's rigid contact). None leaves a parameter as it is (stiffness/damping: rigid)."""
        raise EngineFailure(self.engine, self.load, f"engine {self.engine} cannot change contact parameters at run time")

    def get_contact_params(self, link: str) -> dict[str, float | None]:
        """The link's contact parameters as the engine holds them now (read back, not remembered):
        keys friction, restitution, stiffness (N/m), damping (N s/m); None where the engine has no such
        number (a rigid contact's stiffness). Raises EngineFailure for an engine without run-time setters
        or an unknown link."""
        raise EngineFailure(self.engine, self.load, f"engine {self.engine} cannot read contact parameters back")

    def apply_external_force(self, link: str, force: npt.ArrayLike, torque: npt.ArrayLike | None = None) -> None:
        """World-frame force (N) at the link's COM and torque (N m), held for the following steps
        until changed (zeros remove it)."""
        raise EngineFailure(self.engine, self.load, f"engine {self.engine} cannot apply external forces")

    # -- what the engine cannot represent ------------------------------------------------------
    def declared_unsupported(self) -> list[Unsupported]:
        """`unsupported`, each entry with the category and cause id this engine declares for its
        feature (`capabilities.unsupported`; an entry that set its own keeps them)."""
        out = []
        for u in self.unsupported:
            kind = self.capabilities.unsupported_kind(u.feature)
            out.append(replace(u, category=u.category or kind.category, cause=u.cause or kind.cause))
        return out

    # -- what the engine holds ----------------------------------------------------------------
    @abstractmethod
    def readback(self) -> Readback: ...

    @abstractmethod
    def link_frames(self) -> dict[str, np.ndarray]:
        """World (4, 4) frame of every canonical link the engine has, at the current state."""

    @abstractmethod
    def link_coms(self) -> dict[str, np.ndarray]:
        """World (3,) COM of every canonical link with mass, at the current state."""

    # -- dynamics at the current state (joint block for a floating base) ----------------------
    @abstractmethod
    def mass_matrix(self) -> np.ndarray:
        """(dof, dof) joint-space mass matrix at the current state."""

    @abstractmethod
    def bias_forces(self) -> np.ndarray:
        """(dof,) Coriolis, centrifugal and gravity generalized forces at the current state (the
        `h` in M qdd + h = tau), no damping, friction or contact."""

    def gravity_torques(self) -> np.ndarray:
        """(dof,) generalized gravity forces at the current q (bias forces with zero velocity)."""
        saved = self.get_state()
        still = State(saved.q, np.zeros_like(saved.dq), saved.root_pos, saved.root_quat,
                      None if saved.root_lin_vel is None else np.zeros(3),
                      None if saved.root_ang_vel is None else np.zeros(3))
        self.set_state(still)
        try:
            return self.bias_forces()
        finally:
            self.set_state(saved)

    def forward_dynamics(self, tau: npt.ArrayLike) -> np.ndarray:
        """(dof,) joint accelerations for torques `tau` at the current state, free of contact,
        damping and friction: M^-1 (tau - h). For a floating base the root is held fixed. A joint
        that moves no mass (a zero row of M: M is singular) gets 0, the others the solution of the
        rest of the system."""
        M, rhs = self.mass_matrix(), np.asarray(tau, dtype=float) - self.bias_forces()
        live = np.abs(M).max(axis=1, initial=0.0) > 1e-12 * np.abs(M).max(initial=0.0)
        if live.all():
            return np.linalg.solve(M, rhs)
        qdd = np.zeros(len(rhs))
        qdd[live] = np.linalg.solve(M[np.ix_(live, live)], rhs[live])
        return qdd

    def joint_limit_forces(self) -> np.ndarray | None:
        """(dof,) generalized force (N m or N, canonical order, along each joint's axis) that the
        joint-limit constraints applied during the last `step`; 0 where no limit acted. Call it
        right after `step`. Default: None, meaning this engine does not report limit forces."""
        return None

    @abstractmethod
    def contacts(self) -> list[ContactPoint]:
        """Contacts with positive normal force or penetration, at the current state."""

    def close(self) -> None:
        """Release the engine's resources."""

    # -- hooks --------------------------------------------------------------------------------
    @abstractmethod
    def _set_state(self, state: State) -> None: ...

    @abstractmethod
    def _get_state(self) -> State: ...

    @abstractmethod
    def _apply_torques(self, tau: np.ndarray) -> None: ...

    @abstractmethod
    def _step(self) -> None: ...

    def __enter__(self: _BackendT) -> _BackendT:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.model.name} load={self.load} dof={self.dof}>"
