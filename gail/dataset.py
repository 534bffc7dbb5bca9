"""Target data: (s, a, s') trajectories rolled out by a behaviour policy in the target engine,
saved to / loaded from .npz. Options as in the paper: observation noise (added to the recorded
states only) and action noise (added to the executed and recorded action)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simmatch.errors import PhysicsDiverged
from simmatch.model import RobotModel

from .features import actuated_indices, to_state, to_vec, torques


@dataclass
class Trajectory:
    states: np.ndarray  # (N+1, S)
    actions: np.ndarray  # (N, A) normalised actions in [-1, 1]
    terminated: bool = False  # ended by falling (not by the time limit)

    def __len__(self) -> int:
        return len(self.actions)


@dataclass
class Dataset:
    trajectories: list[Trajectory]
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.trajectories)

    @property
    def n_transitions(self) -> int:
        return sum(len(t) for t in self.trajectories)

    def transitions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All (s, a, s') stacked."""
        s = np.vstack([t.states[:-1] for t in self.trajectories])
        a = np.vstack([t.actions for t in self.trajectories])
        s2 = np.vstack([t.states[1:] for t in self.trajectories])
        return s, a, s2

    def split(self, heldout_frac: float, rng: np.random.Generator) -> tuple[Dataset, Dataset]:
        idx = rng.permutation(len(self.trajectories))
        k = max(1, int(round(heldout_frac * len(idx)))) if heldout_frac > 0 else 0
        held = [self.trajectories[i] for i in sorted(idx[:k])]
        train = [self.trajectories[i] for i in sorted(idx[k:])]
        return Dataset(train, dict(self.meta)), Dataset(held, dict(self.meta))

    def save(self, path) -> Path:
        """Write the dataset to `path` (.npz) whole: a temporary file renamed into place."""
        from simmatch.outputs import save_npz

        lens = np.array([len(t) for t in self.trajectories], dtype=int)
        return save_npz(
            path,
            states=np.vstack([t.states for t in self.trajectories]) if self.trajectories else np.zeros((0, 0)),
            actions=np.vstack([t.actions for t in self.trajectories]) if self.trajectories else np.zeros((0, 0)),
            lengths=lens,
            terminated=np.array([t.terminated for t in self.trajectories], dtype=bool),
            meta=np.array(json.dumps(self.meta, sort_keys=True)),
        )

    @staticmethod
    def load(path) -> Dataset:
        """Read a dataset written by `save`. Raises CorruptFile (one line naming the file) when it is
        empty, truncated, not an .npz, misses an array or its arrays do not fit together."""
        import zipfile

        from simmatch.outputs import CorruptFile

        path = Path(path)
        if not path.is_file():
            raise CorruptFile(path, "no such dataset file")
        if path.stat().st_size == 0:
            raise CorruptFile(path, "empty file (0 bytes), not a dataset")
        try:
            with np.load(path, allow_pickle=False) as z:
                missing = [k for k in ("states", "actions", "lengths", "terminated", "meta") if k not in z.files]
                if missing:
                    raise CorruptFile(path, f"not a simmatch dataset (no {', '.join(missing)} array)")
                states, actions, lens, term = z["states"], z["actions"], z["lengths"], z["terminated"]
                meta = json.loads(str(z["meta"]))
        except CorruptFile:
            raise
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
            why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CorruptFile(path, f"truncated or not an .npz dataset ({why})") from None
        lens = np.asarray(lens)
        if (lens.ndim != 1 or len(term) != len(lens) or (lens < 0).any() or not isinstance(meta, dict)
                or len(states) != int(lens.sum()) + len(lens) or len(actions) != int(lens.sum())):
            raise CorruptFile(path, f"arrays do not fit together ({len(lens)} trajectories, {len(states)} "
                                    f"states, {len(actions)} actions)")
        trajs, si, ai = [], 0, 0
        for n, t in zip(lens, term):
            trajs.append(Trajectory(states[si:si + n + 1].copy(), actions[ai:ai + n].copy(), bool(t)))
            si += n + 1
            ai += n
        return Dataset(trajs, meta)


def initial_state(model: RobotModel, rng: np.random.Generator, noise: float = 0.005) -> np.ndarray:
    """Standing still at the model's zero pose (a legged robot: its standing pose), with small uniform noise on q and dq (as Gym's hopper)."""
    from simmatch.model import State

    from .laikago import legged_spec, standing_state

    spec = legged_spec(model)
    if spec is not None:  # standing on its feet (a legged robot's zero pose is not a stance)
        return standing_state(model, spec, rng, noise)
    v = to_vec(State.zeros(model))
    n = model.dof
    if not model.floating:
        v[:2 * n] += rng.uniform(-noise, noise, 2 * n)
    return v


def rollout(backend, model: RobotModel, behaviour, rng: np.random.Generator, max_steps: int, substeps: int,
            act_noise: float = 0.0, fell=None, s0: np.ndarray | None = None) -> Trajectory:
    """One trajectory of `behaviour` in `backend` (its torque_scale is the target's actuators)."""
    s = initial_state(model, rng) if s0 is None else np.asarray(s0, float)
    backend.set_state(to_state(model, s))
    behaviour.reset(rng)
    states, actions, terminated = [s], [], False
    for t in range(max_steps):
        a = behaviour.act(s, t, rng)
        if act_noise > 0:
            a = np.clip(a + rng.normal(0, act_noise, a.shape), -1.0, 1.0)
        backend.apply_torques(torques(model, a))
        try:
            backend.step(substeps)
            s2 = to_vec(backend.get_state())
        except PhysicsDiverged:
            terminated = True
            break
        states.append(s2)
        actions.append(a)
        s = s2
        if fell is not None and fell(s):
            terminated = True
            break
    acts = np.array(actions).reshape(len(actions), len(actuated_indices(model)))
    return Trajectory(np.array(states), acts, terminated)


def collect(backend, model: RobotModel, behaviour, n_traj: int, max_steps: int, substeps: int,
            seed: int, act_noise: float = 0.0, obs_noise: float = 0.0, fell=None, meta: dict | None = None,
            progress=None) -> Dataset:
    rng = np.random.default_rng(seed)
    trajs = []
    for i in range(n_traj):
        tr = rollout(backend, model, behaviour, rng, max_steps, substeps, act_noise, fell)
        if len(tr) == 0:
            continue
        if obs_noise > 0:
            tr.states = tr.states + rng.normal(0, obs_noise, tr.states.shape)
        trajs.append(tr)
        if progress:
            progress(i + 1)
    m = dict(meta or {})
    m.update(act_noise=act_noise, obs_noise=obs_noise, substeps=substeps, max_steps=max_steps, seed=seed)
    return Dataset(trajs, m)
