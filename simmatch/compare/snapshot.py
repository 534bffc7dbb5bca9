"""What one source says about a model, as plain picklable data: a `Snapshot`.

A source is an engine in one load mode (gathered inside an isolated child process by
`take_snapshot`), or the model itself (`model_snapshot`: canonical forward kinematics and the numpy
reference dynamics of `compare.reference`). Comparators only ever see Snapshots, so a comparison
can be tested by planting a defect in one, without any engine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import SimConfig
from ..kinematics import link_coms, link_frames, massless_subtree_joints, random_q, random_state
from ..model import RobotModel, State
from .reference import ReferenceDynamics

if TYPE_CHECKING:
    from ..backends.base import Behaviour, Explanation, Unsupported


@dataclass(frozen=True)
class Samples:
    """The states every source is queried at, drawn once from the seed. `kin_q`: (K, dof), row 0
    is q = 0, then N random q within limits; the root (floating base) sits at the world origin.
    `states`: N random (q, dq) states (floating base: random root pose, zero root twist, see
    compare.reference); `taus`: (N, dof) random torques for forward dynamics."""

    kin_q: np.ndarray
    states: tuple[State, ...]
    taus: np.ndarray
    seed: int

    @staticmethod
    def draw(model: RobotModel, n: int, seed: int) -> Samples:
        rng = np.random.default_rng(seed)
        qs = [np.zeros(model.dof)] + [random_q(model, rng) for _ in range(n)]
        states = []
        for _ in range(n):
            s = random_state(model, rng, vel_scale=1.0)
            if s.floating:
                s = State(s.q, s.dq, s.root_pos, s.root_quat, np.zeros(3), np.zeros(3))
            states.append(s)
        taus = rng.normal(0.0, 1.0, (n, model.dof)) * _torque_scale(model)
        return Samples(np.array(qs).reshape(len(qs), model.dof), tuple(states), taus, seed)

    def kin_state(self, model: RobotModel, k: int) -> State:
        q = self.kin_q[k]
        if model.floating:
            return State(q, np.zeros(model.dof), np.zeros(3), np.array([0.0, 0.0, 0.0, 1.0]), np.zeros(3),
                         np.zeros(3))
        return State(q, np.zeros(model.dof))


def _torque_scale(model: RobotModel) -> np.ndarray:
    """Random torques of the size of the joints' effort limits (10 where none is given); none on a
    joint that moves no mass (its acceleration would be undefined)."""
    idle = set(massless_subtree_joints(model))
    out = []
    for j in model.dof_joints:
        e = j.limit.effort if j.limit is not None and j.limit.effort else 10.0
        out.append(0.0 if j.name in idle else min(e, 100.0))
    return np.array(out, dtype=float)


def solve_qdd(model: RobotModel, M: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Joint accelerations M qdd = rhs, (dof,). Joints that move no mass (zero rows and columns
    of M) get 0, the others the exact solution of the rest of the system; a still singular M
    (no such joint to blame) gives the least-squares solution. Never NaN for finite input."""
    idle = set(massless_subtree_joints(model))
    keep = [i for i, n in enumerate(model.joint_names) if n not in idle]
    qdd = np.zeros(model.dof)
    if not keep:
        return qdd
    Mk, rk = M[np.ix_(keep, keep)], np.asarray(rhs, float)[keep]
    try:
        qdd[keep] = np.linalg.solve(Mk, rk)
    except np.linalg.LinAlgError:
        qdd[keep] = np.linalg.lstsq(Mk, rk, rcond=None)[0]
    return qdd


@dataclass
class Snapshot:
    """Everything one source reports. Per-sample arrays are indexed like `Samples`: frames[link] is
    (K, 4, 4), coms[link] (K, 3); M (N, dof, dof); gravity, bias, qdd (N, dof). A dynamics
    quantity that failed is None with its message in `errors`."""

    engine: str
    load: str
    ok: bool = True
    error: str = ""
    crashed: bool = False
    error_cause: str | None = None  # cause id the backend gave its load failure
    error_subject: str | None = None  # the link or joint the backend named in its load failure
    model: RobotModel | None = None  # what the source holds (engine readback, or the model itself)
    extras: dict[str, Any] = field(default_factory=dict)  # the readback's informational facts (never compared)
    behaviours: tuple[Behaviour, ...] = ()  # backends.Behaviour: the engine's hidden behaviours, reported as they stand
    explains: tuple[Explanation, ...] = ()  # backends.Explanation: the engine's causes of differences comparators find
    not_held: frozenset[str] = frozenset()  # read-back quantities that comparators skip (Readback.not_held)
    mimic: dict[str, dict[str, Any]] = field(default_factory=dict)  # joints.probe_mimic of the <mimic> followers
    mimic_motion: dict[str, dict[str, Any]] = field(default_factory=dict)  # joints.probe_mimic_motion
    added_joints: tuple[str, ...] = ()
    merged_links: dict[str, str] = field(default_factory=dict)
    unsupported: list[Unsupported] = field(default_factory=list)  # backends.base.Unsupported, category and cause set
    notes: list[str] = field(default_factory=list)
    frames: dict[str, np.ndarray] = field(default_factory=dict)
    coms: dict[str, np.ndarray] = field(default_factory=dict)
    M: np.ndarray | None = None
    gravity: np.ndarray | None = None
    bias: np.ndarray | None = None
    qdd: np.ndarray | None = None
    errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # timing (never written to reports)

    @property
    def name(self) -> str:
        return f"{self.engine}/{self.load}"

    @property
    def held_model(self) -> RobotModel:
        """`model` of a source that loaded (`ok`): every one holds a model (`model_snapshot`'s, or
        the engine's readback); only a `failed_snapshot` has none. AssertionError on one of those."""
        assert self.model is not None, f"{self.name}: a source that did not load holds no model"
        return self.model


def _stack(per_sample: list[dict[str, np.ndarray]], shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    names = sorted({n for d in per_sample for n in d})
    out = {}
    for n in names:
        out[n] = np.array([d.get(n, np.full(shape, np.nan)) for d in per_sample], dtype=float)
    return out


def model_snapshot(model: RobotModel, samples: Samples, config: SimConfig | None = None,
                   engine: str = "model", load: str = "declared") -> Snapshot:
    """The model's own answer: canonical kinematics and numpy reference dynamics."""
    cfg = config or SimConfig()
    snap = Snapshot(engine, load, model=model)
    frames, coms = [], []
    for k in range(len(samples.kin_q)):
        s = samples.kin_state(model, k)
        frames.append(link_frames(model, s))
        coms.append(link_coms(model, s))
    snap.frames, snap.coms = _stack(frames, (4, 4)), _stack(coms, (3,))
    ref = ReferenceDynamics(model, cfg.gravity)
    Ms, gs, hs, qdds = [], [], [], []
    for s, tau in zip(samples.states, samples.taus):
        M, h = ref.mass_matrix(s), ref.bias_forces(s)
        Ms.append(M)
        hs.append(h)
        gs.append(ref.gravity_torques(s))
        qdds.append(solve_qdd(model, M, tau - h))
    n, N = model.dof, len(samples.states)
    snap.M = np.array(Ms, dtype=float).reshape(N, n, n)
    snap.gravity, snap.bias, snap.qdd = (np.array(x, dtype=float).reshape(N, n) for x in (gs, hs, qdds))
    return snap


def mid_state(model: RobotModel, aloft: bool = False) -> State:
    """A state away from every limit (PyBullet's motor probe reads a joint held at a limit as a
    motor), root at the origin; with `aloft`, a floating root 1 m above the model's reach (m), so
    that probes that step (the mimic probes) start clear of the floor: a humanoid at the origin has
    its legs through it (talos in DART: 2518 contacts, a 0.2 s probe took minutes)."""
    from ..kinematics import joint_range, model_scales

    q = np.array([0.5 * sum(joint_range(j)) if j.limited else 0.0 for j in model.dof_joints])
    if model.floating:
        z = model_scales(model)[1] + 1.0 if aloft else 0.0
        return State(q, np.zeros(model.dof), np.array([0.0, 0.0, z]), np.array([0.0, 0.0, 0.0, 1.0]), np.zeros(3),
                     np.zeros(3))
    return State(q, np.zeros(model.dof))


def take_snapshot(engine: str, load: str, model: RobotModel, config: SimConfig, samples: Samples) -> Snapshot:
    """Build `model` in `engine` (`load` mode) and gather everything. Meant to run inside
    `run_isolated`: an EngineFailure propagates (the parent turns it into a finding)."""
    from ..backends import make_backend

    t0 = time.perf_counter()
    backend = make_backend(engine, model, config, load)
    t1 = time.perf_counter()
    try:
        snap = Snapshot(engine, load)
        backend.set_state(mid_state(model))
        rb = backend.readback()
        snap.model = rb.model
        snap.extras = dict(rb.extras)
        snap.behaviours, snap.explains = tuple(rb.behaviours), tuple(rb.explains)
        snap.not_held = frozenset(rb.not_held)
        if model.mimic_joints:
            from .joints import probe_mimic, probe_mimic_motion

            snap.mimic = probe_mimic(backend, model, mid_state(model, aloft=True))
            snap.mimic_motion = probe_mimic_motion(backend, model)
        snap.added_joints = tuple(rb.added_joints)
        snap.merged_links = dict(rb.merged_links)
        snap.unsupported = backend.declared_unsupported()
        snap.notes = list(backend.notes)
        frames, coms = [], []
        for k in range(len(samples.kin_q)):
            backend.set_state(samples.kin_state(model, k))
            frames.append(backend.link_frames())
            coms.append(backend.link_coms())
        snap.frames, snap.coms = _stack(frames, (4, 4)), _stack(coms, (3,))
        t2 = time.perf_counter()
        n = model.dof
        results: dict[str, list[np.ndarray]] = {"M": [], "gravity": [], "bias": [], "qdd": []}
        calls = {"M": backend.mass_matrix, "gravity": backend.gravity_torques, "bias": backend.bias_forces}
        for s, tau in zip(samples.states, samples.taus):
            backend.set_state(s)
            for key, fn in calls.items():
                if key in snap.errors:
                    continue
                try:
                    results[key].append(np.asarray(fn(), dtype=float))
                except Exception as exc:  # one quantity failing must not hide the others
                    snap.errors[key] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            if "qdd" not in snap.errors:
                try:
                    results["qdd"].append(np.asarray(backend.forward_dynamics(tau), dtype=float))
                except Exception as exc:
                    snap.errors["qdd"] = f"{type(exc).__name__}: {exc}"
        for key, shape in (("M", (n, n)), ("gravity", (n,)), ("bias", (n,)), ("qdd", (n,))):
            if key not in snap.errors:
                setattr(snap, key, np.array(results[key], dtype=float).reshape((len(samples.states), *shape)))
        t3 = time.perf_counter()
        snap.seconds = {"build": t1 - t0, "kinematics": t2 - t1, "dynamics": t3 - t2}
        return snap
    finally:
        backend.close()


def failed_snapshot(engine: str, load: str, error: str, crashed: bool, cause: str | None = None,
                    subject: str | None = None) -> Snapshot:
    return Snapshot(engine, load, ok=False, error=error, crashed=crashed, error_cause=cause, error_subject=subject)
