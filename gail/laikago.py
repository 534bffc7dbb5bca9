"""Legged robots in learn-dyn (Laikago, the paper's second robot): what the hopper path hard-codes,
given per robot by a `LeggedSpec`.

- the feet (the contact links of the correction spaces) and the torso (early termination when it
  touches the floor, read back from the engine's contacts);
- a standing initial state (the zero pose of pybullet_data's Laikago has its legs splayed);
- the notes' observation: root height, roll-pitch-yaw, base linear and angular velocity, q, dq;
- `TrotBehaviour`: a scripted trot, joint targets from a phase oscillator tracked by PD torques that
  simmatch computes (torque control, normalised by the effort limits);
- the walking reward of `train-policy`: forward velocity + alive bonus - action cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simmatch.model import RobotModel

from .behavior import Behaviour
from .features import _effort, actuated_indices

LAIKAGO_FEET = ("toeFR", "toeFL", "toeRR", "toeRL")
LAIKAGO_LEGS = ("FR", "FL", "RR", "RL")


@dataclass(frozen=True)
class LeggedSpec:
    """Per-robot facts of a floating-base legged robot.

    torso: the root link whose floor contact ends an episode; feet: the contact links (one per leg,
    in leg order); stand_q: (dof,) rad, the standing joint pose; stand_height: m, the root height at
    which the feet just touch the floor in that pose; hip, thigh, knee: indices in q per leg; hip_x: per
    leg, the x component (+1 or -1) of its hip (abduction) joint's axis in the torso frame (x forward),
    which sets the sign of a roll correction on that leg (`TrotBehaviour` roll_gain)."""

    torso: str
    feet: tuple[str, ...]
    stand_q: tuple[float, ...]
    stand_height: float
    hip: tuple[int, ...]
    thigh: tuple[int, ...]
    knee: tuple[int, ...]
    hip_x: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)


_SPECS: dict[int, tuple[RobotModel, LeggedSpec | None]] = {}


def legged_spec(model: RobotModel) -> LeggedSpec | None:
    """`_legged_spec`, remembered per model object (asked every control step by the observation)."""
    hit = _SPECS.get(id(model))
    if hit is not None and hit[0] is model:
        return hit[1]
    if len(_SPECS) > 64:
        _SPECS.clear()
    spec = _legged_spec(model)
    _SPECS[id(model)] = (model, spec)
    return spec


def _legged_spec(model: RobotModel) -> LeggedSpec | None:
    """The spec of a known legged robot (Laikago: floating root `chassis`, feet toeFR/FL/RR/RL, joints
    <leg>_hip_motor_2_chassis_joint, <leg>_upper_leg_2_hip_motor_joint, <leg>_lower_leg_2_upper_leg_joint,
    the chassis frame x forward, y left, z up: `_torso_frame_forward`), None for any other model."""
    if not model.floating:
        return None
    names = {l.name for l in model.links}
    if not set(LAIKAGO_FEET) <= names or "chassis" not in names:
        return None
    jn = list(model.joint_names)
    try:
        hip = tuple(jn.index(f"{leg}_hip_motor_2_chassis_joint") for leg in LAIKAGO_LEGS)
        thigh = tuple(jn.index(f"{leg}_upper_leg_2_hip_motor_joint") for leg in LAIKAGO_LEGS)
        knee = tuple(jn.index(f"{leg}_lower_leg_2_upper_leg_joint") for leg in LAIKAGO_LEGS)
    except ValueError:
        return None
    if not _torso_frame_forward(model, hip):
        return None
    q = np.zeros(model.dof)
    q[list(thigh)], q[list(knee)] = STAND_THIGH, STAND_KNEE
    hip_x = tuple(1.0 if a[0] >= 0 else -1.0 for a in _hip_axes(model, hip))
    # measured in PyBullet's matched build: toe centre 0.512 m below the chassis origin in this pose,
    # toe sphere radius 0.03 m
    return LeggedSpec("chassis", LAIKAGO_FEET, tuple(float(x) for x in q), 0.545, hip, thigh, knee, hip_x)


def _torso_frame_forward(model: RobotModel, hip: tuple[int, ...]) -> bool:
    """Whether the torso's frame is the one the spec assumes (x forward, y left, z up: the standing state's
    identity orientation, the roll reflex): the front hips (FR, FL) lie ahead of the rear ones
    (origin x), the right ones (FR, RR) right of the left ones (origin y), and each hip axis lies along x.
    pybullet_data's laikago_toes.urdf (y up, z forward: its users rotate it at load) has the same names and
    fails this: standing it upright would lay it on its side."""
    xyz = np.array([model.dof_joints[i].origin.xyz for i in hip], float)
    axes = _hip_axes(model, hip)
    axes /= np.maximum(np.linalg.norm(axes, axis=1, keepdims=True), 1e-12)
    return bool(min(xyz[0, 0], xyz[1, 0]) > max(xyz[2, 0], xyz[3, 0])
                and max(xyz[0, 1], xyz[2, 1]) < min(xyz[1, 1], xyz[3, 1])
                and np.all(np.abs(axes[:, 0]) > 0.9))


def _hip_axes(model: RobotModel, hip: tuple[int, ...]) -> np.ndarray:
    """(len(hip), 3): each hip joint's axis in its parent link's frame, the torso's (URDF: the axis in the
    joint frame, rotated by the origin's fixed-axis roll-pitch-yaw)."""
    from scipy.spatial.transform import Rotation

    joints = [model.dof_joints[i] for i in hip]
    return np.array([Rotation.from_euler("xyz", j.origin.rpy).apply(np.asarray(j.axis, float)) for j in joints])


STAND_THIGH, STAND_KNEE = -0.9, 1.1  # rad: the feet under the hips


def standing_state(model: RobotModel, spec: LeggedSpec, rng: np.random.Generator, noise: float = 0.005) -> np.ndarray:
    """State vector (see features.to_vec) standing at rest on the floor, small uniform noise on q and dq."""
    n = model.dof
    v = np.zeros(13 + 2 * n)
    v[2] = spec.stand_height
    v[3:7] = (0.0, 0.0, 0.0, 1.0)  # x-y-z-w
    v[7:7 + n] = np.asarray(spec.stand_q) + rng.uniform(-noise, noise, n)
    v[13 + n:] = rng.uniform(-noise, noise, n)
    return v


def legged_obs(model: RobotModel, s: np.ndarray) -> np.ndarray:
    """The notes' observation (6 + 6 + 2 dof,): root height (m), roll, pitch, yaw (rad, extrinsic xyz),
    base linear velocity (m/s) and angular velocity (rad/s), both in the base frame, q (rad), dq (rad/s).
    `s` is a floating-base state vector [pos, quat xyzw, q, lin, ang, dq] (world frame)."""
    n = model.dof
    s = np.asarray(s, float)
    R = _quat_matrix(s[3:7])  # numpy, not scipy's Rotation: this runs every control step
    rpy = (np.arctan2(R[2, 1], R[2, 2]), np.arcsin(np.clip(-R[2, 0], -1.0, 1.0)), np.arctan2(R[1, 0], R[0, 0]))
    return np.concatenate([[s[2]], rpy, R.T @ s[7 + n:10 + n], R.T @ s[10 + n:13 + n], s[7:7 + n],
                           s[13 + n:13 + 2 * n]])


def _quat_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrix (3, 3) of a quaternion x-y-z-w (normalised here)."""
    x, y, z, w = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def legged_obs_torch(x, dof: int):
    """`legged_obs` on a (B, 13 + 2 dof) torch tensor of state vectors -> (B, 10 + 2 dof), for the
    exported TorchScript policy (the same numbers as `legged_obs`, in torch ops only)."""
    import torch

    q4 = x[:, 3:7] / torch.linalg.norm(x[:, 3:7], dim=1, keepdim=True)
    qx, qy, qz, qw = q4[:, 0], q4[:, 1], q4[:, 2], q4[:, 3]
    R = torch.stack([
        torch.stack([1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qz * qw), 2 * (qx * qz + qy * qw)], 1),
        torch.stack([2 * (qx * qy + qz * qw), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qx * qw)], 1),
        torch.stack([2 * (qx * qz - qy * qw), 2 * (qy * qz + qx * qw), 1 - 2 * (qx * qx + qy * qy)], 1)], 1)
    roll = torch.atan2(R[:, 2, 1], R[:, 2, 2])
    pitch = torch.asin(torch.clamp(-R[:, 2, 0], -1.0, 1.0))
    yaw = torch.atan2(R[:, 1, 0], R[:, 0, 0])
    lin = torch.einsum("bji,bj->bi", R, x[:, 7 + dof:10 + dof])  # R^T v: world -> base frame
    ang = torch.einsum("bji,bj->bi", R, x[:, 10 + dof:13 + dof])
    return torch.cat([x[:, 2:3], torch.stack([roll, pitch, yaw], 1), lin, ang, x[:, 7:7 + dof],
                      x[:, 13 + dof:13 + 2 * dof]], 1)


def torso_on_ground(backend, torso: str) -> bool:
    """True when the engine reports a contact between link `torso` and the floor (backend.contacts())."""
    return any(c.link == torso and c.other == "floor" for c in backend.contacts())


class TrotBehaviour(Behaviour):
    """A scripted trot: diagonal leg pairs (FR+RL, FL+RR) in anti-phase. Per leg, phase
    phi = 2 pi f t dt + offset; thigh target stand + A_thigh sin(phi), knee target stand + A_knee
    max(0, cos(phi)) (the foot lifts while it swings forward); PD torques kp (q* - q) - kd dq (N m; kp,
    kd per joint kind: hip, thigh, knee) plus a constant feed-forward `ff` (N m per joint kind),
    normalised by each joint's effort limit to actions in [-1, 1]. Per episode, f and the amplitudes are
    drawn from the rng around their nominal values (+-`jitter` relative): deterministic given the seed.
    `amp_scale` multiplies both amplitudes: joint speeds grow with it (measured in PyBullet over 20
    trajectories of 100 steps at 250 Hz: |dq| 99th percentile 2.7 rad/s at 1, 9.8 at 3; max 9.9, 18.3),
    and so does the share of states where a speed-dependent target (emf) differs from the source.

    `dt` (s) is the control period: the PD is evaluated once per control step and held, which is
    stable at 250 Hz (learn-dyn `--substeps 2`) and not at 50 Hz (the light lower leg: measured, the
    robot sags and falls with gains low enough for a 20 ms hold). An open-loop gait without balance
    feedback: measured over 5 seeds, it walks 2 s in PyBullet and MuJoCo and falls after 1.8 to 5 s
    (enough for learn-dyn's trajectories; not a controller).

    `roll_gain` (rad/rad) and `roll_rate_gain` (rad/(rad/s)) add a balance reflex on the hips: each hip
    target moves by -hip_x (roll_gain roll + roll_rate_gain omega_x) (`LeggedSpec.hip_x`; roll from the
    base orientation, omega_x the base angular velocity about its forward axis, base frame), which
    turns every leg against the torso's roll. Both 0 (the default): the open-loop trot above. `residual_scale`: when the trot is the gait of a
    residual policy (`residual_action`), the policy's action is multiplied by it before it is added."""

    name = "trot"

    def __init__(self, model: RobotModel, spec: LeggedSpec, freq: float = 2.5, thigh_amp: float = -0.12,
                 knee_amp: float = 0.15, kp=100.0, kd=2.0, ff=0.0, dt: float = 0.004,
                 jitter: float = 0.05, amp_scale: float = 1.0, roll_gain: float = 0.0,
                 roll_rate_gain: float = 0.0, residual_scale: float = 1.0):
        self.model, self.spec = model, spec
        self.residual_scale = float(residual_scale)
        self.roll_gain, self.roll_rate_gain = float(roll_gain), float(roll_rate_gain)
        self.hip_sign = -np.asarray(spec.hip_x, float)
        self.idx = actuated_indices(model)
        self.n = model.dof
        self.effort = np.array([_effort(model.dof_joints[i]) for i in self.idx])
        self.nominal = (freq, thigh_amp * amp_scale, knee_amp * amp_scale)
        self.dt, self.jitter = dt, jitter
        self.kp, self.kd, self.ff = np.zeros(model.dof), np.zeros(model.dof), np.zeros(model.dof)
        for gains, out in ((kp, self.kp), (kd, self.kd), (ff, self.ff)):
            g = np.broadcast_to(np.asarray(gains, float), (3,))
            for k, joints in enumerate((spec.hip, spec.thigh, spec.knee)):
                out[list(joints)] = g[k]
        self.offset = np.zeros(model.dof)
        for k in (1, 2):  # FL, RR: the second diagonal pair
            self.offset[[spec.hip[k], spec.thigh[k], spec.knee[k]]] = np.pi
        self.reset(np.random.default_rng(0))

    def reset(self, rng: np.random.Generator) -> None:
        f, a_t, a_k = self.nominal
        self.f, self.a_thigh, self.a_knee = (x * (1.0 + rng.uniform(-self.jitter, self.jitter)) for x in (f, a_t, a_k))

    def targets(self, t: int) -> np.ndarray:
        """Joint targets (dof,) rad at control step t."""
        phi = 2 * np.pi * self.f * t * self.dt + self.offset
        q = np.array(self.spec.stand_q, float)
        th, kn = list(self.spec.thigh), list(self.spec.knee)
        q[th] += self.a_thigh * np.sin(phi[th])
        q[kn] += self.a_knee * np.maximum(0.0, np.cos(phi[kn]))
        return q

    def act(self, s: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        n = self.n
        q, dq = s[7:7 + n], s[13 + n:13 + 2 * n]
        target = self.targets(t)
        if self.roll_gain or self.roll_rate_gain:
            R = _quat_matrix(s[3:7])
            roll = np.arctan2(R[2, 1], R[2, 2])
            omega_x = float(R[:, 0] @ s[10 + n:13 + n])  # base angular velocity about the base x axis
            target[list(self.spec.hip)] += self.hip_sign * (self.roll_gain * roll + self.roll_rate_gain * omega_x)
        tau = self.ff + self.kp * (target - q) - self.kd * dq
        return np.clip(tau[self.idx] / self.effort, -1.0, 1.0)


def walk_reward(model: RobotModel, s: np.ndarray, s2: np.ndarray, a: np.ndarray, dt: float) -> float:
    """Walking reward per control step: forward (world x) base velocity (m/s) + alive bonus 1 - 1e-3 |a|^2
    (a fall costs `walk_fall_penalty` more, given by the task environment when the torso touches)."""
    return float((s2[0] - s[0]) / dt + 1.0 - 1e-3 * float(np.asarray(a) @ np.asarray(a)))


# A fall (the torso touching the floor) costs this many seconds of alive bonus. Measured (train-policy
# laikago --substeps 2 --gait trot, 400k steps): without it the residual policy learns to speed up until it
# pitches over (10 of 10 evaluation episodes fall after 277-395 control steps, 0.70-1.11 m); with it 6 of
# 10 stand the whole 500 steps.
WALK_FALL_S = 1.0


def walk_fall_penalty(dt: float, fall_s: float = WALK_FALL_S) -> float:
    """The reward taken at a fall: `fall_s` seconds of the alive bonus at control period dt (s),
    fall_s / dt (250 at 250 Hz for 1 s), so that it weighs the same at every control rate."""
    return fall_s / dt


# The walking task's bar (issue 13): this far forward (m) in 500 control steps without the torso touching
# the floor.
WALK_BAR_M = 1.0


# -- a policy over a gait (train-policy --gait): the residual over the scripted trot ------------------
GAITS = ("none", "trot", "balanced-trot")

# balanced-trot: the trot at 1.5 times its swing amplitudes with the hip roll reflex. Chosen by sweeps of
# the gait alone in PyBullet at 250 Hz (seeds 0-9; scripts in /tmp, not kept): the plain trot at 1.5x walks
# 0.69-1.27 m and rolls over after 401-472 steps; with the roll reflex (0.7, -0.06) 9 of 10 stand 500 steps
# and walk 1.46-1.64 m, and all pitch over nose down by step 739 as they speed up to ~1 m/s. A thigh pitch
# reflex (each thigh target + 2 pitch; tried, then removed) kept 6 of 10 up for 1000 steps but slowed the
# first 500 to 1.01-1.18 m, where PPO's residual, trading distance for standing, dropped below the 1 m bar
# (0-6 of 10 from 550k to 1M steps). The residual is scaled by 0.1 (at most 10 N m on Laikago's 100 N m joints): with the trot's
# full-scale residual PPO's first updates move the policy's mean by a few N m and the deterministic policy
# falls in 10 of 10 episodes after 50k steps (train-policy --log-std-init -2, seeds 100-109; measured with
# the pitch reflex still in the gait).
BALANCED_TROT = {"amp_scale": 1.5, "roll_gain": 0.7, "roll_rate_gain": -0.06, "residual_scale": 0.1}


def make_gait(name: str, model: RobotModel, dt: float) -> TrotBehaviour | None:
    """The gait `name` a residual policy runs under (`GAITS`): None for "none"; for "trot" the scripted
    trot (`TrotBehaviour`, nominal amplitudes), for "balanced-trot" the same at `BALANCED_TROT`'s
    amplitude with its roll reflex and its residual scale; evaluated every control period `dt` (s). Raises ValueError for an
    unknown name or a gait on a model without a legged spec."""
    if name == "none":
        return None
    if name not in GAITS:
        raise ValueError(f"unknown gait {name!r}: choose one of {', '.join(GAITS)}")
    spec = legged_spec(model)
    if spec is None:
        raise ValueError(f"gait {name} needs a legged robot (Laikago, its torso frame x forward and z up); "
                         f"{model.name} is not one")
    return TrotBehaviour(model, spec, dt=dt, **(BALANCED_TROT if name == "balanced-trot" else {}))


def gait_phase(gait: TrotBehaviour, t: int) -> np.ndarray:
    """The gait's phase at control step t as (sin, cos) (2,) of the first diagonal pair's (FR+RL) phase
    2 pi f t dt: what a residual policy observes after `task_obs`."""
    phi = 2 * np.pi * gait.f * t * gait.dt
    return np.array([np.sin(phi), np.cos(phi)])


def residual_action(gait: TrotBehaviour, s: np.ndarray, t: int, a: np.ndarray) -> np.ndarray:
    """The action applied under a gait: clip(gait PD action + residual_scale * policy action a, -1, 1)
    (n_actuated,), normalised by the effort limits; `s` the state vector, t the control step."""
    return np.clip(gait.act(s, t, _NO_RNG) + gait.residual_scale * np.asarray(a, float), -1.0, 1.0)


_NO_RNG = np.random.default_rng(0)  # TrotBehaviour.act draws nothing
