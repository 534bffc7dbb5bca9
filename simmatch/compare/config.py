"""`simmatch check`'s options: one frozen dataclass from which the command line is generated
(`simmatch.cli.generate`) and which check.json records (`config.check`, `dataclasses.asdict`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..backends import engine_names
from ..fields import BASE_HELP, BASE_POSE_HELP, MODEL_HELP, SEED_MAX, comma_text, from_dict, option

if TYPE_CHECKING:  # for the annotation only: .run is imported when a check runs
    from .run import CheckResult

# every engine in the registry when this module is first imported (an engine registered later is
# checked when named: --engines NAME)
ENGINES_DEFAULT = tuple(engine_names())


def parse_engines_text(text: str) -> tuple[str, ...]:
    """'bullet,dart' / 'all' / 'none' -> engine names (UsageError naming --engines)."""
    from ..errors import UsageError
    from .run import parse_engines

    if not any(t.strip() for t in str(text).split(",")):
        raise UsageError(f"--engines {text!r}: name at least one engine "
                         f"({', '.join(engine_names())}), 'all' or 'none'")
    return tuple(parse_engines(text))


@dataclass(frozen=True)
class CheckConfig:
    """Everything that decides a check report's findings and numbers."""

    model: str = option(help=MODEL_HELP, positional=True)
    random_q: int = option(20, short="-n", minimum=0,
                           help="Random configurations (and random states) to compare at, besides q = 0 "
                                "(at most 2000 unless --no-limit).")
    engines: tuple[str, ...] = option(ENGINES_DEFAULT, short="-e", parse=parse_engines_text, text=comma_text,
                                      help=f"Comma list of {', '.join(ENGINES_DEFAULT)} ('all': every registered "
                                           "engine); 'none' to check only the model (with --reference).")
    load: str = option("both", choices=("native", "matched", "both"),
                       help="native (each engine's URDF importer), matched (simmatch's faithful build) or both.")
    seed: int = option(0, minimum=0, maximum=SEED_MAX, help="Seed of the random samples: same seed, same report.")
    tol: tuple[str, ...] = option((), help="Tolerance override NAME=VALUE, repeatable (e.g. --tol "
                                           "inertia_rel=1e-3).")
    base: str = option("auto", choices=("fixed", "floating", "auto"), help=BASE_HELP)
    base_pose: str | None = option(None, help=BASE_POSE_HELP)
    reference: str | None = option(None, short="-r", help="Also hold the model against this reference model "
                                                          "(a URDF converted or edited from it).")
    render: bool = option(False, help="Also draw render/check_shapes.png in the report folder: a panel per engine "
                                      "x load with the collision shapes each engine holds at q = 0, coloured by "
                                      "finding. Changes no finding.")

    def record(self) -> dict[str, Any]:
        """What check.json holds (`config.check`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckConfig:
        """The config of a check.json's `config.check`."""
        return from_dict(cls, d)

    def run(self, **kw: Any) -> CheckResult:
        """`run_check` with these options (`kw`: run_check's other arguments, e.g. jobs)."""
        from ..findings import Tolerances
        from .run import run_check

        return run_check(self.model, engines=list(self.engines), load=self.load, random_q=self.random_q,
                         seed=self.seed, tol=Tolerances().with_overrides(self.tol), base=self.base,
                         base_pose=self.base_pose, reference=self.reference, **kw)
