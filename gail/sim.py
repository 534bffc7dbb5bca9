"""The hybrid simulator: a source engine plus corrections chosen each control step.

`HybridSim.step(s, a, u)` sets correction u (generator output, see corrections.py), applies the
behaviour action a as torques, advances `substeps` engine steps (50 Hz control over a 500 Hz
simulation by default) and returns the next state vector. u = None is the raw source engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from simmatch.config import SimConfig
from simmatch.model import RobotModel
from simmatch.variants import make_target

from .corrections import CorrectionSpace, lowest_points
from .features import _effort, actuated_indices, generator_obs, to_state, to_vec


def fell_fn(model: RobotModel, pitch_max: float = np.inf,
            drop_max: float = 1.2, backend: Callable[[], object] | None = None) -> Callable[[np.ndarray], bool]:
    """Early termination (falling). Planar roots: torso dropped more than `drop_max` m or pitched more
    than `pitch_max` rad (data collection default: only a torso sunk below the floor; the robot
    falling and lying on the ground is data too. The hopping task uses 0.8 rad, 0.55 m); floating roots: root below 0.3 m;
    a legged robot (gail/laikago.py) given `backend` (a callable returning the engine backend now in use):
    its torso in contact with the floor, read back from the engine."""
    from .features import height_index
    from .laikago import legged_spec, torso_on_ground

    h = height_index(model)
    spec = legged_spec(model)
    if spec is not None and backend is not None:  # the notes: stop when the torso touches the ground
        return lambda s: torso_on_ground(backend(), spec.torso)
    if model.floating:
        return lambda s: bool(s[2] < 0.3)
    pitch = None
    for i, j in enumerate(model.dof_joints):
        if j.type == "prismatic":
            continue
        if j.type in ("revolute", "continuous") and i > 0:
            pitch = i  # the planar root's rotation, after its slides
        break
    if pitch is None:
        return lambda s: bool(s[h] < -drop_max)
    return lambda s: bool(s[h] < -drop_max or abs(s[pitch]) > pitch_max)


class HybridSim:
    def __init__(self, model: RobotModel, src: str, space: str | CorrectionSpace | None = "contact",
                 config: SimConfig | None = None, substeps: int = 10):
        self.model = model
        # without a config: the model file's own time step and gravity (an MJCF's <option>), else SimConfig's
        self._config = config or SimConfig.for_model(model)
        self.backend = make_target(src, model, self._config)
        self.src = src
        self.base_scale = np.array(self.backend.torque_scale, dtype=float)
        if isinstance(space, CorrectionSpace) or space is None:
            self.space = space
        else:
            self.space = CorrectionSpace(space, model, self.backend.capabilities.contact_params)
        self.substeps = substeps
        self._nominal_set = False
        self.physics_s = 0.0  # engine time of the last step() (seconds), for the speed breakdown
        idx = actuated_indices(model)
        self._act_idx = np.array(idx, dtype=int)
        self._effort = np.array([_effort(model.dof_joints[i]) for i in idx], dtype=float)

    def rebuild(self) -> None:
        """A fresh engine: no contact caches, no corrections left over (PyBullet cannot switch a
        compliant contact back to rigid). The trainer calls this at every iteration start so that
        an iteration does not depend on the history of the engine (identical resume). An engine that
        can return to its as-built state exactly (`Backend.renew`, MuJoCo) does so in place."""
        if self.backend.renew():
            self.backend.torque_scale = self.base_scale.copy()
        else:
            self.backend.close()
            self.backend = make_target(self.src, self.model, self._config)
        self._nominal_set = False

    @property
    def dt(self) -> float:
        return self.backend.config.dt * self.substeps

    def reset_to(self, s: np.ndarray) -> None:
        self.backend.set_state(to_state(self.model, s))

    def correct(self, u: np.ndarray | None) -> np.ndarray | None:
        if self.space is None:
            return None
        if u is None:  # nominal = raw source behaviour
            u = np.zeros(self.space.dim)
        low = lowest_points(self.backend, self.space.links) if self.space.kind == "force" else None
        return self.space.apply(self.backend, u, self.base_scale, low)

    def step(self, s: np.ndarray | None, a: np.ndarray, u: np.ndarray | None = None,
             reset: bool = False) -> np.ndarray:
        """Advance one control step from the engine's current state (or from `s` when reset)."""
        if reset:
            assert s is not None, "reset needs the state to reset to"
            self.reset_to(s)
        if u is not None or (self.space is not None and not self._nominal_set):
            self.correct(u)
            self._nominal_set = u is None
        tau = np.zeros(self.model.dof)  # features.torques(model, a), with the joint lookups done once
        tau[self._act_idx] = np.minimum(np.maximum(a, -1.0), 1.0) * self._effort  # np.clip, without its wrapper
        t0 = time.perf_counter()
        self.backend.apply_torques(tau)
        self.backend.step(self.substeps)
        self.physics_s = time.perf_counter() - t0
        return to_vec(self.backend.get_state())

    def obs(self, s: np.ndarray, a: np.ndarray) -> np.ndarray:
        return generator_obs(self.model, s, a)

    def close(self) -> None:
        self.backend.close()
