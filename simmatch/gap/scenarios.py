"""Seeded, reproducible input scenarios for `simmatch gap`.

A scenario gives, for each episode, an initial `State` and the torques to apply: either an
open-loop sequence (T, dof) or, for `policy`, a function of the current state. Torques act only on
actuated joints (URDF effort limit > 0); unactuated joints (a planar root) and joints that move no
mass always get 0.

- `drop`: zero torque from the standing pose (q = 0; a floating root is placed just above the
  floor): contact and falling.
- `sine`: each actuated joint gets amplitude * sin(2 pi f t + phase), f in [0.5, 2] Hz, random phase.
- `random`: uniform random knots in [-amplitude, amplitude] every 50 ms, linearly interpolated
  (smoothed random torques).
- `replay=FILE`: torques from an `.npz` (key `torques`) or `.csv` (one row per step; an optional
  header row of joint names), with one column per DoF or per actuated joint.
- `policy=FILE`: a saved torch policy (TorchScript, or a `torch.save`d `nn.Module`) mapping the
  canonical state vector (`State.as_vector()`, float32) to torques (dof or actuated joints); for the
  policy.zip of `simmatch train-policy`, the TorchScript policy.pt it writes next to it.

`torque_scale`: for `sine`/`random` the amplitude as a fraction of each joint's effort limit
(default 0.5); for `replay`/`policy` a multiplier (default 1). `noise`: standard deviation of the
Gaussian added to the initial q and dq (rad, m, rad/s, m/s), clipped to the joint limits.
Everything random comes from one `numpy.random.Generator` seeded with (seed, episode).
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from ..kinematics import joint_range, link_frames
from ..model import RobotModel, State

BUILTIN = ("drop", "sine", "random")
FILE_SCENARIOS = ("replay", "policy")
SCENARIOS = BUILTIN + FILE_SCENARIOS
DEFAULT_AMPLITUDE = 0.5
KNOT_PERIOD = 0.05  # s, random scenario


@dataclass(frozen=True)
class ScenarioSpec:
    """One scenario and its options (see module docstring)."""

    name: str
    file: str | None = None
    horizon: int = 1000
    episodes: int = 1
    torque_scale: float | None = None
    noise: float = 0.0
    seed: int = 0

    @property
    def label(self) -> str:
        return self.name if self.file is None else f"{self.name}={Path(self.file).name}"

    @property
    def scale(self) -> float:
        if self.torque_scale is not None:
            return float(self.torque_scale)
        return DEFAULT_AMPLITUDE if self.name in ("sine", "random") else 1.0


def parse_scenario(text: str, **options: Any) -> ScenarioSpec:
    """'drop', 'sine', 'random', 'replay=FILE', 'policy=FILE' (also 'replay:FILE')."""
    name, _, file = text.replace(":", "=", 1).partition("=")
    name = name.strip()
    if name not in SCENARIOS:
        raise UsageError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)} "
                         "(replay and policy take a file: replay=torques.npz)")
    if name in FILE_SCENARIOS and not file:
        raise UsageError(f"scenario {name!r} needs a file: {name}=PATH")
    if name in BUILTIN and file:
        raise UsageError(f"scenario {name!r} takes no file")
    spec = ScenarioSpec(name, file or None, **options)
    if spec.horizon < 1:
        raise UsageError("horizon must be at least 1 step")
    if spec.episodes < 1:
        raise UsageError("episodes must be at least 1")
    if spec.noise < 0:
        raise UsageError("noise must be >= 0")
    if file and not Path(file).exists():
        raise UsageError(f"{file}: no such file")
    return spec


def actuated_mask(model: RobotModel) -> np.ndarray:
    """(dof,) True where the joint has an effort limit > 0 and moves some mass (a torque on a joint
    whose whole subtree is massless has no defined effect: each engine does something else)."""
    from ..kinematics import massless_subtree_joints

    idle = set(massless_subtree_joints(model))
    return np.array([bool(j.limit is not None and (j.limit.effort or 0) > 0 and j.name not in idle)
                     for j in model.dof_joints], dtype=bool)


def effort_limits(model: RobotModel) -> np.ndarray:
    return np.array([(j.limit.effort or 0.0) if j.limit is not None else 0.0 for j in model.dof_joints])


def standing_state(model: RobotModel) -> State:
    """q = 0; a floating root is lifted so that its lowest collision shape clears the floor by 1 cm."""
    state = State.zeros(model)
    if not model.floating:
        return state
    frames = link_frames(model, state)
    lowest = np.inf
    for link in model.links:
        if link.name not in frames:
            continue
        for g in link.collisions:
            c = (frames[link.name] @ g.origin.matrix)[:3, 3]
            if g.kind == "box":
                assert g.size is not None, "a box geometry always has its size (Geometry)"
                r = 0.5 * float(np.linalg.norm(g.size))
            elif g.kind in ("sphere", "cylinder", "capsule"):
                r = (g.radius or 0.0) + 0.5 * (g.length or 0.0)
            else:
                r = 0.05 * max(g.scale)
            lowest = min(lowest, c[2] - r)
    lift = 0.01 - lowest if np.isfinite(lowest) else 1.0
    return State(state.q, state.dq, np.array([0.0, 0.0, lift]), state.root_quat, state.root_lin_vel,
                 state.root_ang_vel)


@dataclass
class Episode:
    """Initial state and torque source of one episode. Exactly one of `torques` (T, dof) and
    `policy` (state -> (dof,) torques) is set."""

    index: int
    initial: State
    torques: np.ndarray | None = None
    policy: Callable[[State], np.ndarray] | None = None


class Scenario:
    def __init__(self, spec: ScenarioSpec, model: RobotModel, dt: float):
        self.spec, self.model, self.dt = spec, model, float(dt)
        self.mask = actuated_mask(model)
        self.effort = effort_limits(model)
        self._file_torques: np.ndarray | None = None
        self._policy_module: Callable[..., Any] | None = None
        if spec.name == "replay":
            assert spec.file is not None, "a replay scenario names a file (parse_scenario)"
            self._file_torques = self._expand(load_torques(spec.file, model), spec.file)
        elif spec.name == "policy":
            assert spec.file is not None, "a policy scenario names a file (parse_scenario)"
            self._policy_module = load_policy(spec.file)
            self._check_policy(spec.file)

    def _check_policy(self, path: str) -> None:
        """Run the policy once on a state of this model (at rest, zeros; a floating root upright) before any
        engine work: a module that cannot take this model's state vector, or gives neither one torque per
        DoF nor one per actuated joint, is refused in one line (UsageError) naming, when its train-policy
        folder records it, the model it was trained on."""
        import torch

        from ..registry import model_arg, trained_on_hint

        assert self._policy_module is not None
        n, n_act = self.model.dof, int(self.mask.sum())
        x = np.zeros(2 * n + (13 if self.model.floating else 0))
        if self.model.floating:
            x[6] = 1.0  # root_quat (x, y, z, w): identity
        try:
            with torch.no_grad():
                out = self._policy_module(torch.as_tensor(x, dtype=torch.float32).unsqueeze(0))
            size = int(np.asarray(out.detach().cpu().numpy()).size)
        except Exception as exc:  # the module's own error (a matrix of another size): not simmatch's
            why = (str(exc).strip().splitlines() or [type(exc).__name__])[-1].strip()[:160]
            raise UsageError(f"{path}: the policy cannot run on {model_arg(self.model)}'s state ({len(x)} values: "
                             f"{why}){trained_on_hint(path, self.model)}") from None
        if size not in (n, n_act):
            needs = f"{n}" if n == n_act else f"{n} (every DoF) or {n_act} (actuated joints)"
            raise UsageError(f"{path}: policy returned {size} values; {model_arg(self.model)} needs {needs}"
                             f"{trained_on_hint(path, self.model)}")

    @property
    def horizon(self) -> int:
        if self._file_torques is not None:
            return min(self.spec.horizon, len(self._file_torques))
        return self.spec.horizon

    def _rng(self, episode: int) -> np.random.Generator:
        return np.random.default_rng([int(self.spec.seed), int(episode), SCENARIOS.index(self.spec.name)])

    def _expand(self, tau: np.ndarray, source: str) -> np.ndarray:
        n_act = int(self.mask.sum())
        if tau.ndim != 2 or tau.shape[1] not in (self.model.dof, n_act):
            raise UsageError(f"{source}: torques must have {self.model.dof} (every DoF) or {n_act} "
                             f"(actuated joints) columns, got shape {tau.shape}")
        if not np.all(np.isfinite(tau)):
            raise UsageError(f"{source}: torques contain non-finite values")
        if tau.shape[1] == self.model.dof:
            return tau.astype(float)
        full = np.zeros((len(tau), self.model.dof))
        full[:, self.mask] = tau
        return full

    def initial_state(self, rng: np.random.Generator) -> State:
        s = standing_state(self.model)
        if self.spec.noise <= 0:
            return s
        q = s.q + rng.normal(0.0, self.spec.noise, self.model.dof)
        dq = s.dq + rng.normal(0.0, self.spec.noise, self.model.dof)
        for k, j in enumerate(self.model.dof_joints):
            if j.limited:
                assert j.limit is not None, "a limited joint has a <limit> (Joint.limited)"
                q[k] = np.clip(q[k], j.limit.lower, j.limit.upper)
        return State(q, dq, s.root_pos, s.root_quat, s.root_lin_vel, s.root_ang_vel)

    def episode(self, index: int) -> Episode:
        rng = self._rng(index)
        init = self.initial_state(rng)
        T, n, name = self.horizon, self.model.dof, self.spec.name
        amp = self.spec.scale * self.effort * self.mask
        if name == "drop":
            return Episode(index, init, np.zeros((T, n)))
        if name == "sine":
            t = np.arange(T) * self.dt
            f = rng.uniform(0.5, 2.0, n)
            phase = rng.uniform(0, 2 * np.pi, n)
            return Episode(index, init, amp * np.sin(2 * np.pi * f * t[:, None] + phase))
        if name == "random":
            every = max(1, int(round(KNOT_PERIOD / self.dt)))
            knots = rng.uniform(-1.0, 1.0, (T // every + 2, n))
            t = np.arange(T) / every
            i0 = np.floor(t).astype(int)
            a = (t - i0)[:, None]
            return Episode(index, init, amp * ((1 - a) * knots[i0] + a * knots[i0 + 1]))
        if name == "replay":
            assert self._file_torques is not None, "a replay scenario loads its torques in __init__"
            return Episode(index, init, self.spec.scale * self._file_torques[:T])
        return Episode(index, init, policy=self._make_policy())

    def _make_policy(self) -> Callable[[State], np.ndarray]:
        import torch

        module, mask, scale, n = self._policy_module, self.mask, self.spec.scale, self.model.dof
        assert module is not None, "a policy scenario loads its module in __init__"
        n_act = int(mask.sum())

        def act(state: State) -> np.ndarray:
            obs = torch.as_tensor(state.as_vector(), dtype=torch.float32).unsqueeze(0)
            with torch.no_grad():
                out = module(obs)
            tau = np.asarray(out.detach().cpu().numpy(), dtype=float).reshape(-1)
            if tau.shape == (n,):
                return scale * tau
            if tau.shape == (n_act,):
                full = np.zeros(n)
                full[mask] = tau
                return scale * full
            raise UsageError(f"{self.spec.file}: policy returned {tau.shape[0]} values; expected {n} "
                             f"(every DoF) or {n_act} (actuated joints)")

        return act


def load_torques(path: str, model: RobotModel) -> np.ndarray:
    """(T, columns) torques from .npz (key 'torques') or .csv (optional header of joint names)."""
    tau = _read_torques(path, model)
    if tau.size == 0:
        raise UsageError(f"{path}: no torques (empty table)")
    if tau.ndim != 2:
        raise UsageError(f"{path}: torques must be a (steps, joints) table, got shape {tau.shape}")
    if not np.isfinite(tau).all():
        raise UsageError(f"{path}: torques hold NaN or infinite values")
    return tau


def _read_torques(path: str, model: RobotModel) -> np.ndarray:
    p = Path(path)
    if p.is_file() and p.stat().st_size == 0:
        kind = "a readable .npz" if p.suffix.lower() == ".npz" else "a table of torques"
        raise UsageError(f"{path}: not {kind} file (empty file)")
    if p.suffix.lower() == ".npz":
        try:
            with np.load(p, allow_pickle=False) as data:
                if "torques" not in data:
                    raise UsageError(f"{path}: no array named 'torques' (found: {', '.join(data.files) or 'none'})")
                tau = np.asarray(data["torques"], dtype=float)
        except (OSError, EOFError, ValueError, TypeError, KeyError, zipfile.BadZipFile) as exc:  # empty, truncated, not an .npz
            why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise UsageError(f"{path}: not a readable .npz file ({why})") from None
        return tau.reshape(-1, 1) if tau.ndim == 1 else tau
    if p.suffix.lower() == ".csv":
        try:
            with open(p, newline="", encoding="utf-8") as f:
                rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise UsageError(f"{path}: not a readable UTF-8 .csv file ({type(exc).__name__})") from None
        if not rows:
            raise UsageError(f"{path}: empty")
        header = None
        try:
            float(rows[0][0])
        except ValueError:
            header, rows = [c.strip() for c in rows[0]], rows[1:]
        try:
            tau = np.array([[float(c) for c in r] for r in rows], dtype=float)
        except ValueError as e:
            raise UsageError(f"{path}: not a table of numbers ({e})") from None
        if header is not None:
            unknown = [h for h in header if h not in model.joint_names]
            if unknown:
                raise UsageError(f"{path}: header names unknown joints: {', '.join(unknown)}")
            full = np.zeros((len(tau), model.dof))
            for c, h in enumerate(header):
                full[:, model.joint_names.index(h)] = tau[:, c]
            return full
        return tau
    raise UsageError(f"{path}: replay takes .npz (key 'torques') or .csv")


def load_policy(path: str) -> Callable[..., Any]:
    """A torch.jit or torch.save'd nn.Module in eval mode. For the folder or the policy.zip
    (stable-baselines3) of `simmatch train-policy`, the TorchScript policy.pt it writes there. torch is imported here
    only."""
    try:
        import torch
    except ImportError:
        raise UsageError("policy scenarios need torch: pip install 'simmatch[learn]'") from None
    _refuse_gait_policy(path)
    if Path(path).is_dir():  # train-policy's folder: its TorchScript policy.pt
        if not (Path(path) / "policy.pt").is_file():
            raise UsageError(f"{path}: a folder without policy.pt (make one with `simmatch train-policy`)")
        path = str(Path(path) / "policy.pt")
    if _is_sb3_zip(path):
        pt = Path(path).with_name("policy.pt")
        if not pt.is_file():
            raise UsageError(f"{path}: a stable-baselines3 zip; gap runs the TorchScript policy.pt that "
                             "`simmatch train-policy` writes next to it, and there is none (train it again)")
        path = str(pt)
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated in 2.13
            module = torch.jit.load(path, map_location="cpu")  # type: ignore[no-untyped-call]  # torch.jit.load is unannotated in torch
    except Exception:
        try:
            module = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as e:
            raise UsageError(f"{path}: not a TorchScript or torch.save'd module ({type(e).__name__})") from None
    if not callable(module):
        raise UsageError(f"{path}: holds a {type(module).__name__}, not a callable nn.Module "
                         "(save the module, not its state_dict)")
    if hasattr(module, "eval"):
        module.eval()
    return module


def _refuse_gait_policy(path: str) -> None:
    """A train-policy policy over a gait (`train-policy --gait trot`, recorded in its folder's config.json
    and in its policy.zip's `data` record as `task_gait`, so a zip copied away from its folder is known
    too) acts on the gait's time as well as the state: not a state -> torques scenario (UsageError)."""
    import contextlib
    import json

    folder = Path(path) if Path(path).is_dir() else Path(path).parent
    gait: object = None
    where = "config.json"
    with contextlib.suppress(OSError, ValueError, AttributeError):
        gait = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("gait", "none")
    if gait in (None, "none"):
        zp = folder / "policy.zip" if Path(path).is_dir() else Path(path)
        try:
            with zipfile.ZipFile(zp) as z:
                gait, where = json.loads(z.read("data")).get("task_gait", "none"), f"{zp.name}'s task_gait"
        except (OSError, KeyError, ValueError, AttributeError, zipfile.BadZipFile):
            return
    if gait not in (None, "none"):
        raise UsageError(f"{path}: a train-policy policy over the {gait} gait ({where}); its action depends "
                         "on the gait's time, which a state -> torques scenario does not have: run it with "
                         "`simmatch learn-dyn --policy`")


def _is_sb3_zip(path: str) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return {"data", "policy.pth"} <= set(z.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def joint_ranges(model: RobotModel) -> np.ndarray:
    """(dof, 2) joint ranges (for plots)."""
    return np.array([joint_range(j) for j in model.dof_joints])
