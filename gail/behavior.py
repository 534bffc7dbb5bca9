"""Behaviour policies that make the robot move while target data is recorded and while the generator
trains (the behaviour is fixed inside the hybrid environment).

- `sine`: per-joint sinusoids, frequency and phase drawn per episode (scripted, no training);
- `random`: uniform random actions, held for a few control steps;
- `ppo`: a task policy trained with PPO in the source engine (`train_task_policy`), hopper reward:
  alive bonus + forward velocity - action cost - joint-limit penalty, early termination on falling.
  `log_std` sets the exploration noise used when it acts as a behaviour (target data must be diverse).

All act in normalised action space [-1, 1] per actuated joint, on state vectors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simmatch.model import RobotModel

from .features import actuated_indices, generator_obs, height_index, horizontal_indices

if TYPE_CHECKING:  # the learn extra is optional: imported where it is used
    import gymnasium as gym


class Behaviour(ABC):
    name = "behaviour"

    def reset(self, rng: np.random.Generator) -> None:
        pass

    @abstractmethod
    def act(self, s: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        """The action (behaviour) or correction (corrector) for this observation."""


class SineBehaviour(Behaviour):
    """PD tracking of sinusoidal joint targets: q_des = q0 + A sin(2 pi f t + phase), with q0, A, f
    and phase drawn per episode inside the joint limits; a = kp (q_des - q) - kd dq (normalised)."""

    name = "sine"

    def __init__(self, model: RobotModel, amplitude: float = 0.5, freq=(0.5, 2.0), kp: float = 0.5,
                 kd: float = 0.05, dt: float = 0.02):
        self.idx = actuated_indices(model)
        self.n, self.dof = len(self.idx), model.dof
        self.amplitude, self.freq, self.kp, self.kd, self.dt = amplitude, freq, kp, kd, dt
        lims = []
        for i in self.idx:
            j = model.dof_joints[i]
            lims.append(j.bounds or (-1.0, 1.0))
        self.lims = np.array(lims)
        self.reset(np.random.default_rng(0))

    def reset(self, rng):
        lo, hi = self.lims[:, 0], self.lims[:, 1]
        self.q0 = np.clip(rng.uniform(-0.5, 0.5, self.n), lo, hi)
        self.A = self.amplitude * rng.uniform(0.3, 1.0, self.n)
        self.f = rng.uniform(*self.freq, self.n)
        self.phase = rng.uniform(0, 2 * np.pi, self.n)

    def act(self, s, t, rng):
        q, dq = s[:self.dof][self.idx], s[self.dof:2 * self.dof][self.idx]
        q_des = self.q0 + self.A * np.sin(2 * np.pi * self.f * t * self.dt + self.phase)
        return np.clip(self.kp * (q_des - q) - self.kd * dq, -1, 1)


class RandomBehaviour(Behaviour):
    name = "random"

    def __init__(self, model: RobotModel, hold: int = 3, scale: float = 0.8):
        self.n, self.hold, self.scale = len(actuated_indices(model)), hold, scale
        self._a = np.zeros(self.n)

    def act(self, s, t, rng):
        if t % self.hold == 0:
            self._a = rng.uniform(-self.scale, self.scale, self.n)
        return self._a.copy()


def task_obs(model: RobotModel, s: np.ndarray) -> np.ndarray:
    """The task policy's observation: the state without absolute horizontal position."""
    return generator_obs(model, s, np.zeros(0))


TASK_SUBSTEPS = 10  # engine steps per control step of a policy that does not record its own (50 Hz)


def policy_task(ppo) -> tuple[int, str]:
    """(substeps, gait) a trained task policy (a stable-baselines3 PPO) runs at: engine steps per control
    step and its gait (`laikago.GAITS`), kept in its zip by `train_task_policy` (attributes `task_substeps`,
    `task_gait`); a zip written before they were kept: (TASK_SUBSTEPS, "none")."""
    return int(getattr(ppo, "task_substeps", TASK_SUBSTEPS)), str(getattr(ppo, "task_gait", "none"))


def _zip_record(path) -> dict:
    """A stable-baselines3 zip's `data` record (its saved attributes, JSON) without loading its networks;
    {} for a zip that cannot be read (loading it reports the damage)."""
    import json
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return json.loads(z.read("data"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return {}


def policy_task_of(path) -> tuple[int, str]:
    """`policy_task` of a policy zip without loading its networks (the zip's `data` record); a zip that
    cannot be read gives the defaults (loading it reports the damage)."""
    data = _zip_record(path)
    return int(data.get("task_substeps", TASK_SUBSTEPS)), str(data.get("task_gait", "none"))


def policy_reward(ppo) -> TaskReward:
    """The `TaskReward` a trained task policy (a stable-baselines3 PPO) was trained with: its fall cost
    `fall_s` (s of alive bonus; train-policy --fall-cost), kept in its zip by `train_task_policy`
    (attribute `task_fall_s`; 1.0 for a zip written before it was kept), the other fields at their
    defaults (train-policy sets no other)."""
    return TaskReward(fall_s=float(getattr(ppo, "task_fall_s", TaskReward.fall_s)))


def policy_reward_of(path) -> TaskReward:
    """`policy_reward` of a policy zip without loading its networks (the zip's `data` record); a zip that
    cannot be read gives the default (loading it reports the damage)."""
    return TaskReward(fall_s=float(_zip_record(path).get("task_fall_s", TaskReward.fall_s)))


class PPOBehaviour(Behaviour):
    """A trained task policy (stable-baselines3 PPO zip). log_std: exploration noise (None: the
    policy's own learned log-std; use a number such as -1.0 for diverse target data). A policy trained
    over a gait (`train-policy --gait trot`) runs over the same gait: its observation gets the gait's phase
    and its action is the residual added to the gait's (`laikago.residual_action`), the gait evaluated
    every control period `dt` (s). `substeps` (engine steps per control step of the run using it): must
    be the policy's own (`policy_task`), else UsageError naming the file and both; None: not checked."""

    name = "ppo"

    def __init__(self, model: RobotModel, path: str, log_std: float | None = None, deterministic: bool = False,
                 dt: float = 0.02, substeps: int | None = None):
        from stable_baselines3 import PPO

        self.model = model
        self.path = str(path)
        if not Path(self.path).is_file():  # SB3 would try PATH.zip and name that: 'policy.zip.zip'
            from simmatch.errors import UsageError

            where = "" if Path(self.path).is_absolute() else f" (a relative path, read from {Path.cwd()})"
            raise UsageError(f"{self.path}: no such policy file{where}")
        try:
            self.ppo = PPO.load(self.path, device="cpu")
        except Exception as exc:  # empty, truncated or not an SB3 zip: whatever the unzipper or torch raises
            from simmatch.errors import UsageError

            why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise UsageError(f"{self.path}: not a readable policy zip from `simmatch train-policy` ({why})") from None
        self.substeps, gait = policy_task(self.ppo)
        if substeps is not None and substeps != self.substeps:
            from simmatch.errors import UsageError

            raise UsageError(f"{self.path}: a policy trained at {self.substeps} engine steps per control step "
                             f"(train-policy --substeps {self.substeps}); this run uses --substeps {substeps}")
        from .laikago import make_gait

        try:
            self.gait = make_gait(gait, model, dt)
        except ValueError as exc:
            from simmatch.errors import UsageError
            from simmatch.registry import trained_on_hint

            raise UsageError(f"{self.path}: {exc}{trained_on_hint(self.path, self.model)}") from None
        self._check_spaces()
        self.log_std, self.deterministic = log_std, deterministic

    def reset(self, rng: np.random.Generator) -> None:
        if self.gait is not None:
            self.gait.reset(rng)

    def _check_spaces(self) -> None:
        """The policy must observe `task_obs` of this model and give one action per actuated joint (a policy
        trained for another robot failed as an internal error in the first rollout, after the run folder
        was written); UsageError naming the file and both sizes."""
        from simmatch.errors import UsageError

        from .dataset import initial_state

        s0 = initial_state(self.model, np.random.default_rng(0), 0.0)
        want = ((len(task_obs(self.model, s0)) + (2 if self.gait is not None else 0),),
                (len(actuated_indices(self.model)),))
        got = (self.ppo.observation_space.shape, self.ppo.action_space.shape)
        if got != want:
            from simmatch.registry import model_arg, trained_on_hint

            size = ["x".join(map(str, shape or ())) for shape in got]
            arg = model_arg(self.model)
            raise UsageError(f"{self.path}: a policy for another robot: it observes {size[0]} values and gives "
                             f"{size[1]} actions, {arg} needs {want[0][0]} and {want[1][0]} (train one "
                             f"with `simmatch train-policy {arg}`){trained_on_hint(self.path, self.model)}")

    def act(self, s, t, rng):
        from .laikago import gait_phase, residual_action

        obs = task_obs(self.model, s)
        if self.gait is not None:
            obs = np.concatenate([obs, gait_phase(self.gait, t)])
        mean, _ = self.ppo.predict(obs, deterministic=True)
        if self.deterministic:
            a = np.clip(mean, -1, 1)
        else:
            if self.log_std is None:
                std = np.exp(self.ppo.policy.log_std.detach().numpy())
            else:
                std = np.full(mean.shape, np.exp(self.log_std))
            a = np.clip(mean + std * rng.standard_normal(mean.shape), -1, 1)
        return a if self.gait is None else residual_action(self.gait, s, t, a)


def export_torques(ppo, model: RobotModel, path) -> Path:
    """Write a trained task policy as the TorchScript module `gap -s policy=FILE` runs: a (B, n) float32
    tensor of `State.as_vector()` -> (B, dof) joint torques (N, N m): the policy's deterministic
    action (its Gaussian mean, clipped to [-1, 1] as `PPO.predict` does) on the task observation
    (`task_obs`: the state without its horizontal position; a legged robot's `laikago.legged_obs`) times each actuated joint's effort limit
    (`features.torques`), 0 elsewhere. Self-contained: loading it needs torch only. A policy over a gait
    (`policy_task`) needs the gait's time, which a state -> torques module does not have: ValueError."""
    import warnings

    _, gait = policy_task(ppo)
    if gait != "none":
        raise ValueError(f"a policy over the {gait} gait is not exported as a state -> torques module (its "
                         "action depends on the gait's time); run it with learn-dyn --policy")

    import torch

    from simmatch.outputs import atomic_file

    from .features import horizontal_indices, state_size

    n, dof = state_size(model), model.dof
    keep = [i for i in range(n) if i not in set(horizontal_indices(model))]
    act = actuated_indices(model)
    scatter = torch.zeros(len(act), dof)
    for k, i in enumerate(act):
        limit = model.dof_joints[i].limit
        assert limit is not None and limit.effort is not None  # actuated: an effort limit > 0
        scatter[k, i] = float(limit.effort)
    policy = ppo.policy
    from .laikago import legged_obs_torch, legged_spec

    legged = legged_spec(model) is not None

    class StateToTorques(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = policy.pi_features_extractor
            self.actor = policy.mlp_extractor.policy_net
            self.action_net = policy.action_net
            self.register_buffer("keep", torch.tensor(keep, dtype=torch.long))
            self.register_buffer("scatter", scatter)
            self.scatter: torch.Tensor  # a registered buffer (typed for mypy)

        def forward(self, obs):
            x = self.features(legged_obs_torch(obs, dof) if legged else obs.index_select(1, self.keep))
            return torch.clamp(self.action_net(self.actor(x)), -1.0, 1.0) @ self.scatter

    module = StateToTorques().eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # torch.jit is deprecated in 2.13 but still the self-contained format
        probe = torch.zeros(1, n)
        if model.floating:
            probe[0, 6] = 1.0  # identity root quaternion (x-y-z-w)
        traced = torch.jit.trace(module, probe)
        with atomic_file(path, "wb") as f:
            torch.jit.save(traced, f)
    return Path(path)


def make_behaviour(kind: str, model: RobotModel, policy: str | None = None, log_std: float | None = None,
                   dt: float = 0.02, trot_amp: float = 1.0, substeps: int | None = None) -> Behaviour:
    """The behaviour `kind` (sine | random | trot), or the task policy at `policy`. `dt`: the control
    period (s) of a scripted behaviour or of a policy's gait; `trot_amp`: the trot's swing-amplitude
    scale (TrotBehaviour); `substeps`: engine steps per control step, checked against the policy's own
    (`PPOBehaviour`). Raises ValueError for an unknown kind or a trot on a model without a legged spec
    (gail/laikago.py), UsageError for a policy of another robot or control step."""
    if policy:
        return PPOBehaviour(model, policy, log_std, dt=dt, substeps=substeps)
    if kind == "trot":
        from .laikago import TrotBehaviour, legged_spec

        spec = legged_spec(model)
        if spec is None:
            raise ValueError(f"behaviour trot needs a legged robot (Laikago); {model.name} is not one")
        return TrotBehaviour(model, spec, dt=dt, amp_scale=trot_amp)
    if kind == "sine":
        return SineBehaviour(model)
    if kind == "random":
        return RandomBehaviour(model)
    raise ValueError(f"unknown behaviour {kind!r}: choose sine, random or trot, or give --policy PATH")


# -- the task: hopping forward ------------------------------------------------------------------
@dataclass(frozen=True)
class TaskReward:
    """The hopping task's reward per control step and its end, after Gymnasium's Hopper-v4:

    reward = healthy + forward * vx - ctrl * |a|^2 - limits * p, with vx (m/s) the root's world-x
    velocity over the control step, a (n_actuated,) the normalised action in [-1, 1] and p (rad, m for a
    slide) how far the joints are inside the outer 5% of their range (summed). The episode ends
    (terminated: the robot fell) when a planar root's height drops more than `drop_max` (m) below its
    start or it pitches more than `pitch_max` (rad) either way (Hopper-v4: torso below 0.7 m, |pitch| >
    0.2 rad; 0.55 m below the hopper's start height of 1.25 m is 0.7 m), a floating root's height is below
    0.3 m (`sim.fell_fn`). A legged robot (gail/laikago.py) is rewarded by `laikago.walk_reward` and ends
    when its torso touches the floor."""

    healthy: float = 1.0
    forward: float = 1.0
    ctrl: float = 1e-3
    limits: float = 1.0
    pitch_max: float = 0.8
    drop_max: float = 0.55
    # an engine that blows up (measured: PyBullet's Laikago under random torques of 0.2 x its effort
    # limits reaches 1e6 m/s) ends the episode as an engine failure (terminated, reward -10, the state
    # before the step kept), never rewarded for the distance it flew: the root's linear speed above
    # root_speed_max (m/s) or any velocity of the state above speed_max (m/s, rad/s), or a non-finite
    # state. Measured under random torques in PyBullet: hopper at most 83 rad/s (any velocity) over 60
    # episodes, the shipped hopper policy 49 rad/s and a few m/s at its root.
    root_speed_max: float = 20.0
    speed_max: float = 200.0
    # a legged robot's fall (its torso touching the floor) costs this many seconds of alive bonus
    # (`laikago.walk_fall_penalty`; train-policy --fall-cost)
    fall_s: float = 1.0


# The hopper's task bar: this far forward (m) in `HOP_BAR_STEPS` control steps (50 Hz) without falling.
HOP_BAR_M = 1.5
HOP_BAR_STEPS = 500


def task_bar_m(model: RobotModel) -> float:
    """The task's bar (m forward in 500 control steps without falling) for `model`: a legged robot's
    `laikago.WALK_BAR_M`, else the hopper's `HOP_BAR_M`."""
    from .laikago import WALK_BAR_M, legged_spec

    return WALK_BAR_M if legged_spec(model) is not None else HOP_BAR_M


def forward_index(model: RobotModel) -> int | None:
    """Index in the state vector (`State.as_vector()`) of the root's world-x position (m): a floating
    root's x (0), a planar root's slide along x; None for a root that cannot move along x."""
    if model.floating:
        return 0
    for i, j in enumerate(model.dof_joints):
        if j.type == "prismatic" and abs(j.axis[0]) == 1:
            return i
    return None


def make_task_env(model: RobotModel, src: str, seed: int = 0, max_steps: int = 500, substeps: int = TASK_SUBSTEPS,
                  corrector=None, config=None, space: str = "contact", reward: TaskReward | None = None,
                  gait: str = "none"):
    """Gymnasium env of the task: hop forward in `src` (an engine or variant; `TaskReward`, default
    `TaskReward()`), a legged robot walks forward (`laikago.walk_reward`, ending when the torso touches
    the floor, which costs `laikago.walk_fall_penalty`). Observation: `task_obs` (float32); action: (n_actuated,) in [-1, 1], times each joint's
    effort limit as torque, held for `substeps` engine steps (one control step, 50 Hz by default);
    truncated after `max_steps` control steps. `info`: "state" (the state vector), "distance" (m, the
    root's world-x travel since the reset; 0 for a root that cannot move along x).
    `corrector(obs, rng) -> u` applies hybrid corrections each step (policy refinement inside the
    learned simulator); None is the plain engine. An engine that raises during a step ends the
    episode (terminated, reward -10). `gait` (`laikago.GAITS`): "trot" makes the action a residual over
    the scripted trot (`laikago.residual_action`, the trot's frequency and amplitudes drawn per episode
    from the environment's rng) and appends the gait's phase (sin, cos) to the observation; the action
    cost is the residual's. Raises ValueError for an unknown gait or a trot on a non-legged model."""
    import gymnasium as gym

    from .dataset import initial_state
    from .laikago import gait_phase, legged_spec, make_gait, residual_action, walk_fall_penalty, walk_reward
    from .sim import HybridSim, fell_fn

    n_act = len(actuated_indices(model))
    legged = legged_spec(model) is not None
    rw = reward or TaskReward()
    xi = forward_index(model)
    n = model.dof
    if model.floating:  # [pos, quat, q, lin, ang, dq]
        vel, root_vel = np.arange(7 + n, 13 + 2 * n), np.arange(7 + n, 10 + n)
    else:  # [q, dq]; a planar root's slides are joints
        vel = np.arange(n, 2 * n)
        root_vel = np.array([n + i for i in sorted({*horizontal_indices(model), height_index(model)})
                             if model.dof_joints[i].type == "prismatic"], dtype=int)

    class TaskEnv(gym.Env):
        metadata = {"render_modes": []}  # noqa: RUF012 (gymnasium.Env declares it so)

        def __init__(self):
            self.sim = HybridSim(model, src, space if corrector is not None else None, config, substeps)
            self.fell = fell_fn(model, pitch_max=rw.pitch_max, drop_max=rw.drop_max, backend=lambda: self.sim.backend)
            self.gait = make_gait(gait, model, self.sim.dt)
            s0 = initial_state(model, np.random.default_rng(0), 0.0)
            n_obs = len(task_obs(model, s0)) + (2 if self.gait is not None else 0)
            self.observation_space = gym.spaces.Box(-np.inf, np.inf, (n_obs,), np.float32)
            self.action_space = gym.spaces.Box(-1.0, 1.0, (n_act,), np.float32)
            self.rng = np.random.default_rng(seed)
            self.limits = [j.bounds for j in model.dof_joints]
            self.x0 = 0.0
            self._closed = False

        def _info(self, s):
            return {"state": s.copy(), "distance": float(s[xi] - self.x0) if xi is not None else 0.0}

        def _obs(self, s):
            o = task_obs(model, s)
            if self.gait is not None:
                o = np.concatenate([o, gait_phase(self.gait, self.t)])
            return o.astype(np.float32)

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            if seed is not None:
                self.rng = np.random.default_rng(seed)
            self.s = initial_state(model, self.rng)
            self.x0 = float(self.s[xi]) if xi is not None else 0.0
            self.sim.reset_to(self.s)
            self.t = 0
            if self.gait is not None:
                self.gait.reset(self.rng)
            if corrector is not None and hasattr(corrector, "reset"):
                corrector.reset(self.rng)
            return self._obs(self.s), self._info(self.s)

        def step(self, action):
            a = np.clip(np.asarray(action, float), -1, 1)
            applied = a if self.gait is None else residual_action(self.gait, self.s, self.t, a)
            u = corrector(self.sim.obs(self.s, applied), self.rng) if corrector is not None else None
            try:
                s2 = self.sim.step(self.s, applied, u)
            except Exception:
                return self._obs(self.s), -10.0, True, False, self._info(self.s)
            if not np.isfinite(s2).all() or np.abs(s2[vel]).max() > rw.speed_max \
                    or np.linalg.norm(s2[root_vel]) > rw.root_speed_max:  # blown up
                return self._obs(self.s), -10.0, True, False, self._info(self.s)
            if legged:  # walking: forward base velocity + alive bonus - action cost
                reward = walk_reward(model, self.s, s2, a, self.sim.dt)
            else:
                fwd = (s2[xi] - self.s[xi]) / self.sim.dt if xi is not None else 0.0
                pen = 0.0
                for i, lim in enumerate(self.limits):
                    if lim is not None:
                        lo, hi = lim
                        margin = 0.05 * (hi - lo)
                        pen += max(0.0, lo + margin - s2[i]) + max(0.0, s2[i] - (hi - margin))
                reward = rw.healthy + rw.forward * fwd - rw.ctrl * float(a @ a) - rw.limits * pen
            self.s, self.t = s2, self.t + 1
            term = self.fell(s2)
            if term and legged:  # the torso touched the floor
                reward -= walk_fall_penalty(self.sim.dt, rw.fall_s)
            return self._obs(s2), float(reward), term, self.t >= max_steps, self._info(s2)

        def close(self):
            if not self._closed:
                self._closed = True
                self.sim.close()

    return TaskEnv()


@dataclass(frozen=True)
class PPOSettings:
    """PPO's settings for the task (stable-baselines3's names; the learning rate is train_task_policy's
    `lr`, n_steps and batch_size follow `rollout_size`): epochs per rollout, discount, GAE lambda,
    entropy coefficient, the initial log-std of the Gaussian policy, hidden layer sizes (policy and
    value function alike, tanh)."""

    n_epochs: int = 10
    gamma: float = 0.99
    gae_lambda: float = 0.95
    ent_coef: float = 0.0
    log_std_init: float = -0.5
    net_arch: tuple[int, ...] = (64, 64)


def rollout_size(steps: int, n_envs: int, cap: int = 1024) -> tuple[int, int]:
    """PPO's (n_steps, batch_size) for a run of `steps` environment steps in `n_envs` environments:
    n_steps = min(cap, ceil(steps / n_envs)) per environment and rollout (at least 2 in all: SB3 needs
    2), so that a short run trains about `steps` steps rather than a whole rollout of cap steps per
    environment; batch_size = the largest divisor of the rollout (n_steps * n_envs) up to 256, or the
    whole rollout when that divisor would be below 32 (PPO's minibatches then split it evenly)."""
    n_steps = max(min(cap, -(-steps // n_envs)), 2 if n_envs == 1 else 1)
    size = n_steps * n_envs
    batch = max(d for d in range(1, min(256, size) + 1) if size % d == 0)
    return n_steps, (batch if batch >= 32 or size <= 32 else size)


def train_task_policy(model: RobotModel, src: str, steps: int, seed: int, out_path, n_envs: int = 2,
                      log=print, corrector_factory=None, init_path: str | None = None, lr: float = 3e-4,
                      space: str = "contact", max_steps: int = 500, progress: bool = True, *,
                      env_workers: int = 0, log_dir=None, reward: TaskReward | None = None,
                      settings: PPOSettings | None = None, substeps: int = TASK_SUBSTEPS, gait: str = "none",
                      select_every: int = 0, select_episodes: int = 10):
    """PPO on the task (`make_task_env`, `reward`) in `src` for about `steps` environment steps over
    `n_envs` environments (`rollout_size`: n_steps per environment and rollout, minibatch size; the other
    settings `settings`, default `PPOSettings()`, learning rate `lr`); `init_path`: continue a saved policy (its own settings,
    its rollout size set by the same rule, its own substeps and gait: `policy_task`, and, when `reward` is
    None, its own reward: `policy_reward`). The environments hold each action for `substeps` engine steps
    and run under `gait` (`make_task_env`); both and the reward's fall cost are kept in the saved zip
    (`policy_task`, `policy_reward`). Environment k is seeded seed + 1000 k at construction and
    seed + k at the first reset. The environments run in `env_workers` processes (`vec_env.ProcessVecEnv`;
    0: in this process, SB3's DummyVecEnv); the trained policy is the same bit for bit whatever that
    number. `log_dir` (a folder): the training curve, one row per rollout, written there at the end
    (`progress.csv` through SB3's logger: time/total_timesteps, rollout/ep_rew_mean, rollout/ep_len_mean
    (over the last 100 episodes), rollout/ep_dist_mean (m, their forward distance), time/steps_per_s
    (this rollout's), PPO's train/*; and `curve.png`), each file replaced whole. `select_every` > 0: after
    the PPO update that first passes each further `select_every` environment steps, and after the last, the
    deterministic policy runs `select_episodes` episodes in `src` from the same held-out start states
    (environment seeded `SELECT_SEED` + seed before each evaluation, apart from the final evaluation's
    seeds; eval/mean_reward in the curve), and the checkpoint with the highest mean return is the one saved
    and returned (`ppo.task_selected_step`: its step; the training itself is the same bit for bit:
    evaluation draws nothing from the trainer's generators). Saves the
    stable-baselines3 zip at `out_path` (usable as `--policy`) and returns the PPO object."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import CallbackList
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

    from .vec_env import ProcessVecEnv

    torch.set_num_threads(1)
    if init_path:
        substeps, gait = policy_task_of(init_path)
        reward = reward or policy_reward_of(init_path)
    reward = reward or TaskReward()

    def env_fn(k: int) -> Callable[[], gym.Env]:
        return lambda: Monitor(make_task_env(model, src, seed + 1000 * k, max_steps=max_steps, space=space,
                                             reward=reward, substeps=substeps, gait=gait,
                                             corrector=corrector_factory(k) if corrector_factory else None),
                               info_keywords=("distance",))

    workers = min(env_workers, n_envs)
    makers = [env_fn(k) for k in range(n_envs)]
    envs: VecEnv = ProcessVecEnv(makers, workers) if workers > 0 else DummyVecEnv(makers)
    try:
        envs.seed(seed)
        n_steps, batch = rollout_size(steps, n_envs)
        if init_path:
            ppo = PPO.load(init_path, env=envs, device="cpu", seed=seed, n_steps=n_steps, batch_size=batch)
        else:
            st = settings or PPOSettings()
            ppo = PPO("MlpPolicy", envs, n_steps=n_steps, batch_size=batch, n_epochs=st.n_epochs,
                      learning_rate=lr, gamma=st.gamma, gae_lambda=st.gae_lambda, ent_coef=st.ent_coef,
                      seed=seed, device="cpu", verbose=0,
                      policy_kwargs=dict(net_arch=list(st.net_arch), log_std_init=st.log_std_init))
        # SB3 saves the object's attributes: these travel in its zip (`policy_task`, `policy_reward`)
        ppo.__dict__.update(task_substeps=substeps, task_gait=gait, task_fall_s=float(reward.fall_s))
        # the step a --select-every run kept (`take_best`) is this run's: one loaded from init_path's zip is not
        ppo.__dict__.pop("task_selected_step", None)
        callbacks = [_progress_callback(steps, log)] if progress else []
        selector = None
        if select_every > 0:
            selector = _select_callback(lambda: Monitor(make_task_env(model, src, SELECT_SEED + seed,
                                                                      max_steps=max_steps, space=space,
                                                                      reward=reward, substeps=substeps, gait=gait)),
                                        select_every, select_episodes, SELECT_SEED + seed)
            callbacks.append(selector)
        tmp = None
        if log_dir is not None:
            tmp = _start_curve_log(ppo, Path(log_dir))
            callbacks.append(_curve_callback())
        else:  # no curve: a logger that writes nothing (SB3's default makes a folder SB3-<time> in the temp dir)
            from stable_baselines3.common.logger import Logger

            ppo.set_logger(Logger(folder=None, output_formats=[]))
        try:
            ppo.learn(steps, reset_num_timesteps=init_path is None, callback=CallbackList(callbacks))
            if selector is not None:
                selector.take_best(ppo)
            from simmatch.outputs import save_sb3

            save_sb3(ppo, out_path)
            if tmp is not None:
                _finish_curve_log(ppo, tmp, Path(log_dir), task_bar_m(model))
        finally:
            if selector is not None:
                selector.close()
            if tmp is not None:
                import shutil

                shutil.rmtree(tmp, ignore_errors=True)
    finally:
        envs.close()
    return ppo


PROGRESS_CSV = "progress.csv"
CURVE_PNG = "curve.png"
# train-policy --select-every: each evaluation's environment is seeded SELECT_SEED + seed, its first episode
# reset with that seed and the others drawing on from the same generator (only a reset draws: the same start
# states for every checkpoint); the final evaluations reset with seed, seed + 1, ...
SELECT_SEED = 10_000


def _select_callback(make_env: Callable[[], gym.Env], every: int, episodes: int, env_seed: int):
    """A callback that, at the start of a rollout once `every` more environment steps have passed since its
    last evaluation (the policy PPO has just updated) and when training ends, runs the deterministic policy
    for `episodes` episodes (stable-baselines3's `evaluate_policy`) in one environment seeded `env_seed`
    before each evaluation (the same start states for every checkpoint), logs eval/mean_reward and keeps the
    parameters with the highest mean return in memory; `take_best(ppo)` loads them into ppo and sets
    `ppo.task_selected_step`; `close()` closes the environment."""
    import copy

    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import DummyVecEnv

    class Select(BaseCallback):
        def __init__(self):
            super().__init__()
            self.env = DummyVecEnv([make_env])
            self.best, self.best_step, self.best_params = -np.inf, -1, None
            self.next = every

        def _evaluate(self) -> None:
            self.env.seed(env_seed)
            result = evaluate_policy(self.model, self.env, n_eval_episodes=episodes, deterministic=True)
            mean = float(result[0])  # type: ignore[arg-type]  # (mean, std) without return_episode_rewards
            # a row of its own in the curve, at the step of the checkpoint it evaluated; the values PPO's
            # update has logged but not yet written (train/*, written with the next rollout's row) are set
            # aside and put back, so that the rollout rows are those of a run without --select-every
            lg = self.logger
            values, counts, excluded = dict(lg.name_to_value), dict(lg.name_to_count), dict(lg.name_to_excluded)
            lg.name_to_value.clear()
            lg.name_to_count.clear()
            lg.name_to_excluded.clear()
            lg.record("time/total_timesteps", int(self.num_timesteps))
            lg.record("eval/mean_reward", float(mean))
            lg.dump(self.num_timesteps)
            lg.name_to_value.update(values)
            lg.name_to_count.update(counts)
            lg.name_to_excluded.update(excluded)
            if mean > self.best:
                self.best, self.best_step = float(mean), int(self.num_timesteps)
                self.best_params = copy.deepcopy(self.model.get_parameters())

        def _on_rollout_start(self) -> None:
            if self.num_timesteps >= self.next:
                self._evaluate()
                self.next = self.num_timesteps + every

        def _on_step(self) -> bool:
            return True

        def _on_training_end(self) -> None:
            self._evaluate()  # the policy after the last update

        def take_best(self, ppo) -> None:
            if self.best_params is not None:
                ppo.set_parameters(self.best_params, exact_match=True, device="cpu")
            ppo.task_selected_step = self.best_step if self.best_params is not None else int(ppo.num_timesteps)

        def close(self) -> None:
            self.env.close()

    return Select()


def _start_curve_log(ppo, folder: Path) -> Path:
    """SB3's logger (CSV output) into a temporary folder inside `folder` (removed by the next run when
    this one is killed: simmatch.outputs' temporary naming)."""
    import os
    import tempfile

    from stable_baselines3.common.logger import configure

    tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".{PROGRESS_CSV}.tmp-{os.getpid()}-"))
    ppo.set_logger(configure(str(tmp), ["csv"]))
    return tmp


def _finish_curve_log(ppo, tmp: Path, folder: Path, bar_m: float) -> None:
    from simmatch.outputs import write_text

    ppo.logger.close()
    write_text(folder / PROGRESS_CSV, (tmp / "progress.csv").read_text())
    plot_curve(folder / PROGRESS_CSV, folder / CURVE_PNG, bar_m)


def _curve_callback():
    """Adds the mean forward distance of the last 100 episodes (m; the Monitor's `distance`) and this
    rollout's environment steps per second to each row SB3's logger writes."""
    import time

    from stable_baselines3.common.callbacks import BaseCallback

    class _Curve(BaseCallback):
        def _on_rollout_start(self) -> None:
            self.t0, self.n0 = time.perf_counter(), self.num_timesteps

        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            eps = self.model.ep_info_buffer
            if eps:
                self.logger.record("rollout/ep_dist_mean", float(np.mean([e["distance"] for e in eps])))
            dt = max(time.perf_counter() - self.t0, 1e-9)
            self.logger.record("time/steps_per_s", (self.num_timesteps - self.n0) / dt)

    return _Curve()


_CURVE_PANELS = (("rollout/ep_rew_mean", "episode return (mean of the last 100)"),
                 ("rollout/ep_len_mean", "episode length (control steps)"),
                 ("rollout/ep_dist_mean", "forward distance per episode (m)"),
                 ("time/steps_per_s", "environment steps per second"))


def plot_curve(csv_path, png_path, bar_m: float | None = None) -> Path:
    """curve.png: the training curve of `progress.csv` (`train_task_policy`'s log_dir), one panel per
    quantity against environment steps (episode return, with the held-out deterministic return of
    --select-every where logged and the checkpoint kept, the first with the highest; length; forward
    distance, with the task's bar `bar_m` (m; default the hopper's); steps/s), written whole. Raises
    OSError (OutputError) when it cannot be written."""
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from simmatch.outputs import save_figure

    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))

    def series(key: str) -> tuple[np.ndarray, np.ndarray]:
        pts = [(float(r["time/total_timesteps"]), float(r[key])) for r in rows
               if r.get(key) not in (None, "") and r.get("time/total_timesteps") not in (None, "")]
        return (np.array([p[0] for p in pts]), np.array([p[1] for p in pts])) if pts else (np.zeros(0), np.zeros(0))

    fig, axes = plt.subplots(2, 2, figsize=(9, 5.6))
    for ax, (key, title) in zip(axes.flat, _CURVE_PANELS):
        x, y = series(key)
        ax.plot(x, y, marker="." if len(x) < 30 else None, label="training episodes")
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
        if key == "rollout/ep_rew_mean":
            xe, ye = series("eval/mean_reward")
            if len(xe):
                ax.plot(xe, ye, "o-", ms=3, label="held-out, deterministic (--select-every)")
                k = int(np.argmax(ye))  # the checkpoint take_best kept: the first with the highest return
                ax.plot(xe[k], ye[k], "*", ms=11, color="C3", label=f"kept: step {int(xe[k]):,}")
                ax.legend(fontsize=7)
        if key == "rollout/ep_dist_mean" and len(y):
            bar = HOP_BAR_M if bar_m is None else bar_m
            ax.axhline(bar, color="0.5", ls=":", lw=1, label=f"the task's bar: {bar} m")
            ax.legend(fontsize=7)
    for ax in axes[1]:
        ax.set_xlabel("environment steps", fontsize=8)
    fig.suptitle("train-policy: PPO training curve", fontsize=10)
    fig.tight_layout()
    try:
        save_figure(fig, png_path, dpi=90)
    finally:
        plt.close(fig)
    return Path(png_path)


def evaluate_return(model: RobotModel, policy_path, target: str, episodes: int = 5, seed: int = 0,
                    max_steps: int = 500, *, reward: TaskReward | None = None) -> dict:
    """The policy (deterministic: its Gaussian mean) for `episodes` episodes of at most `max_steps`
    control steps in `target` (engine or variant) at the policy's own substeps and gait (`policy_task`)
    and, when `reward` is None, under its own reward (`policy_reward`), episode k reset with seed + k. Returns "return"
    (mean undiscounted task return), "return_std", "length" (mean control steps), and per episode in
    "episodes": "return", "length", "distance" (m, the root's world-x travel; 0 for a root that cannot
    move along x), "fell" (the episode ended before `max_steps`: the robot fell, `TaskReward`);
    "distance" (m, mean) and "falls" (episodes that fell)."""
    from stable_baselines3 import PPO

    ppo = PPO.load(str(policy_path), device="cpu")
    substeps, gait = policy_task(ppo)
    env = make_task_env(model, target, seed, max_steps=max_steps, reward=reward or policy_reward(ppo),
                        substeps=substeps, gait=gait)
    per = []
    try:
        for ep in range(episodes):
            obs, info = env.reset(seed=seed + ep)
            total, n, done, term = 0.0, 0, False, False
            while not done:
                a, _ = ppo.predict(obs, deterministic=True)
                obs, r, term, trunc, info = env.step(a)
                total, n, done = total + r, n + 1, term or trunc
            per.append({"return": float(total), "length": n, "distance": float(info["distance"]), "fell": bool(term)})
    finally:
        env.close()
    rets = [e["return"] for e in per]
    return {"return": float(np.mean(rets)), "return_std": float(np.std(rets)),
            "length": float(np.mean([e["length"] for e in per])),
            "distance": float(np.mean([e["distance"] for e in per])),
            "falls": sum(e["fell"] for e in per), "episodes": per}


def _progress_callback(total: int, log):
    """A rich progress bar with steps/s for PPO (stable-baselines3's own needs tqdm)."""
    from stable_baselines3.common.callbacks import BaseCallback

    class _Bar(BaseCallback):
        def _on_training_start(self) -> None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("[bold]PPO"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[info]}"), TimeElapsedColumn(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("ppo", total=total, info="")
            self.t0, self.n0 = __import__("time").time(), self.num_timesteps

        def _on_step(self) -> bool:
            if self.n_calls % 256 == 0:
                dt = max(__import__("time").time() - self.t0, 1e-9)
                self.bar.update(self.task, completed=self.num_timesteps - self.n0,
                                info=f"{(self.num_timesteps - self.n0) / dt:.0f} steps/s")
            return True

        def _on_training_end(self) -> None:
            self.bar.stop()

    return _Bar()
