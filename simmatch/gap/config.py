"""`simmatch gap`'s options: one frozen dataclass from which the command line is generated
(`simmatch.cli.generate`) and which gap.json records (`options`, `dataclasses.asdict`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from ..backends import engine_names
from ..config import SimConfig
from ..errors import UsageError
from ..fields import BASE_HELP, BASE_POSE_HELP, MODEL_HELP, SEED_MAX, from_dict, option
from ..metrics import MetricWeights
from ..model import RobotModel
from ..registry import base_pose_of
from ..variants import parse_target
from .scenarios import BUILTIN, ScenarioSpec, parse_scenario


def parse_weights(text: str) -> MetricWeights:
    """'POS,LIN,ANG' -> MetricWeights (UsageError naming --weights)."""
    try:
        vals = [float(x) for x in str(text).split(",")]
    except ValueError:
        raise UsageError(f"--weights {text!r}: expected three numbers POS,LIN,ANG") from None
    if len(vals) != 3 or not all(math.isfinite(v) and 0 <= v <= 1e6 for v in vals) or not any(vals):
        raise UsageError(f"--weights {text!r}: expected three numbers POS,LIN,ANG in [0, 1e6], not all zero")
    return MetricWeights(*vals)


def weights_text(w: MetricWeights) -> str:
    return f"{w.position:g},{w.linear_velocity:g},{w.angular_velocity:g}"


@dataclass(frozen=True)
class GapConfig:
    """Everything that decides a gap run's numbers (written to gap.json as `options`)."""

    model: str = option("hopper", positional=True, hidden_aliases=("--model", "-m"), help=MODEL_HELP)
    src: str = option("bullet", help=f"Source engine: {' or '.join(engine_names())} (a variant ENGINE:VARIANT "
                                     "also works).")
    dst: str = option("dart", help="Target: an engine or a variant, e.g. bullet:soft-floor, "
                                   "bullet:heavy-head=2, bullet:low-power=thigh_joint.")
    base: str = option("auto", choices=("fixed", "floating", "auto"), help=BASE_HELP)
    base_pose: str | None = option(None, help=BASE_POSE_HELP)
    load: str = option("matched", choices=("matched", "native"),
                       help="matched (physically identical builds) or native (each engine's own URDF import: "
                            "the naive end-to-end gap; a failing import exits 2).")
    scenarios: tuple[str, ...] = option(BUILTIN, flag="--scenario", short="-s",
                                        help="drop, sine, random, replay=FILE (.npz 'torques' / .csv), "
                                             "policy=FILE (TorchScript, torch.save'd module, or train-policy's "
                                             "policy.zip). Repeat for several.")
    horizon: int = option(1000, minimum=1, help="Steps per episode.")
    episodes: int = option(1, minimum=1, help="Episodes per scenario.")
    torque_scale: float | None = option(None, minimum=0.0, maximum=100.0,
                                        help="sine/random: amplitude as a fraction of the effort limit (default "
                                             "0.5); replay/policy: multiplier (default 1).")
    noise: float = option(0.0, minimum=0.0, maximum=10.0, help="Std of Gaussian noise on the initial q and dq.")
    seed: int = option(0, minimum=0, maximum=SEED_MAX, help="Seed: the same seed gives the same numbers.")
    threshold: float = option(0.1, positive=True, maximum=1e6,
                              help="GT-metric value that counts as divergence.")
    weights: MetricWeights = option(default_factory=MetricWeights, parse=parse_weights, text=weights_text,
                                    help="GT metric weights POS,LIN_VEL,ANG_VEL.")
    dt: float | None = option(None, minimum=1e-6, maximum=0.1,
                              help="Time step (s); default: the model file's own (an MJCF's <option timestep>), "
                                   "else 1/500. gap.json records the one used.")
    solver_iterations: int = option(50, minimum=1, maximum=100_000, help="Constraint solver iterations.")
    explain: bool = option(False, help="Re-run with each known mismatch removed/aligned and rank them by the "
                                       "share of the gap they explain.")
    explain_scenario: str | None = option(None, help="Scenario for --explain (default: the first one).")
    render: bool = option(False, help="Also draw each scenario into the report folder: render/SCENARIO.mp4 (src "
                                      "solid, dst a translucent ghost, episode 0, real time) and "
                                      "render/SCENARIO_divergence.png; the renderer used is in gap.json "
                                      "(notes.render). Changes no number.")

    def config(self, model: RobotModel | None = None) -> SimConfig:
        """The simulation settings: `dt` (None: `model`'s declared time step, else SimConfig's 1/500),
        the gravity `model` declares (an MJCF's <option gravity>; SimConfig's otherwise) and
        `solver_iterations` (`SimConfig.for_model`)."""
        base = SimConfig(solver_iterations=self.solver_iterations)
        if self.dt is not None:
            base = base.with_(dt=self.dt)
        return base if model is None else SimConfig.for_model(model, base, given=("dt",) if self.dt is not None else ())

    def scenario_specs(self) -> list[ScenarioSpec]:
        return [parse_scenario(s, horizon=self.horizon, episodes=self.episodes, torque_scale=self.torque_scale,
                               noise=self.noise, seed=self.seed) for s in self.scenarios]

    def validate(self) -> None:
        if self.load not in ("matched", "native"):
            raise UsageError(f"--load must be 'matched' or 'native', not {self.load!r}")
        if self.base not in ("fixed", "floating", "auto"):
            raise UsageError(f"--base must be fixed, floating or auto, not {self.base!r}")
        base_pose_of(self.base_pose)
        if not self.threshold > 0:
            raise UsageError("threshold must be positive")
        parse_target(self.src)
        parse_target(self.dst)
        if not self.scenarios:
            raise UsageError("no scenario given")

    def record(self) -> dict[str, Any]:
        """What gap.json holds (`options`)."""
        d = asdict(self)
        d["scenarios"] = list(self.scenarios)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GapConfig:
        """The config of a gap.json's `options`."""
        return from_dict(cls, d)


GapOptions = GapConfig  # the name before the config had its own module
