"""Where a rollout stops being physically meaningful: the start of an engine's blow-up.

An engine that blows up does not always say so. MuJoCo raises its instability warning (simmatch's
`PhysicsDiverged`) only once an acceleration passes 1e10, after several states whose bodies already
fly at hundreds of m/s; PyBullet never does: its joint speeds run into their cap (1e6 rad/s) and the
base flies kilometres away, every number finite. Gap numbers taken over such a tail (a GT error of
1e6, a penetration of 600 m) measure nothing.

The bound comes from the model: a physical run holds no energy that its torques did not supply.
With E the mechanical energy of the declared model (kinetic + potential, `ReferenceDynamics.energy`)
and the applied torques' work W = sum tau . (dq_t + dq_t+1) / 2 * dt, a state is unphysical when

    E_t - E_0 - W_t  >  ENERGY_FACTOR * (sum |tau . dq| dt  +  m g L)

(m the model's mass, L its reach, `kinematics.model_scales`): the energy gained beyond the torques'
work exceeds ENERGY_FACTOR times all the work the torques could have done in either direction plus
the energy that lifts the whole robot by its own size. The engines' semi-implicit steps do not keep
energy exactly; measured (PyBullet, MuJoCo and DART on the hopper, the double pendulum and laikago,
drop/sine/random, variants soft-floor, heavy-head, low-power) the ratio stays below 1, and below 3
on laikago under sine torques, where light legs turn at 400 rad/s (0.8 rad per step) and PyBullet
and MuJoCo still agree to 1e-12, until the blow-up starts. In the ten blow-ups measured (laikago,
sine, five episodes, PyBullet and MuJoCo) the ratio passes 10 at most two steps after passing 3, and
reaches 5e4 to 8e7 before the engine fails or the run ends. Dissipation (contacts, damping, friction) only lowers the ratio, so a real gap, even
a hopper falling through the floor, is never cut.

The one-step comparison (dst reset to src's state every step) uses the same bound per step, from
src's state before the step.
"""

from __future__ import annotations

import numpy as np

from ..compare.reference import ReferenceDynamics
from ..kinematics import model_scales
from ..model import RobotModel, State

ENERGY_FACTOR = 10.0

DEFINITION = ("the last state before an engine blows up: its own PhysicsDiverged or a non-finite state, or the "
              "first state holding energy no torque supplied (kinetic + potential energy above the start plus "
              f"the torques' work by more than {ENERGY_FACTOR:g} x (the torques' total |work| + m g L, the "
              "robot's weight times its reach)); numbers stop there")


class EnergyCheck:
    """The energy bound of one model (see the module docstring)."""

    def __init__(self, model: RobotModel, gravity: tuple[float, float, float] = (0.0, 0.0, -9.81)) -> None:
        self.model = model
        self.reference = ReferenceDynamics(model, gravity=gravity)
        mass, reach = model_scales(model)
        self.scale = mass * float(np.linalg.norm(gravity) or 9.81) * reach  # m g L, J

    def _energy(self, states: list[State]) -> np.ndarray:
        ke, pe = self.reference.energy(states)
        return ke + pe

    def first_unphysical(self, states: list[State], applied: np.ndarray, dt: float) -> int | None:
        """Index of the first state of an open-loop run (`states` T + 1, `applied` (T, dof) torques
        held over `dt` each) whose energy breaks the bound, None when none does."""
        n = min(len(states), len(applied) + 1)
        if n < 2 or (self.model.dof == 0 and not self.model.floating):
            return None
        e = self._energy(states[:n])
        dq = np.array([s.dq for s in states[:n]], dtype=float).reshape(n, self.model.dof)
        power = np.asarray(applied[:n - 1], dtype=float) * 0.5 * (dq[1:] + dq[:-1]) * dt
        work = np.concatenate([[0.0], np.cumsum(power.sum(axis=1))])
        budget = np.concatenate([[0.0], np.cumsum(np.abs(power).sum(axis=1))]) + self.scale
        bad = np.nonzero(~(e - e[0] - work <= ENERGY_FACTOR * budget))[0]  # NaN energy counts as unphysical
        return int(bad[0]) if bad.size else None

    def first_unphysical_step(self, before: list[State], after: list[State], applied: np.ndarray,
                              dt: float) -> int | None:
        """For one-step states (`after[t + 1]` is one step from `before[t]` under `applied[t]`;
        `after[0]` is `before[0]`): the first index t + 1 whose state breaks the bound relative to
        `before[t]`, None when none does."""
        n = min(len(after), len(before), len(applied) + 1)
        if n < 2 or (self.model.dof == 0 and not self.model.floating):
            return None
        e0, e1 = self._energy(before[:n - 1]), self._energy(after[1:n])
        dq0 = np.array([s.dq for s in before[:n - 1]], dtype=float).reshape(n - 1, self.model.dof)
        dq1 = np.array([s.dq for s in after[1:n]], dtype=float).reshape(n - 1, self.model.dof)
        power = np.asarray(applied[:n - 1], dtype=float) * 0.5 * (dq0 + dq1) * dt
        gain = e1 - e0 - power.sum(axis=1)
        bad = np.nonzero(~(gain <= ENERGY_FACTOR * (np.abs(power).sum(axis=1) + self.scale)))[0]
        return int(bad[0]) + 1 if bad.size else None
