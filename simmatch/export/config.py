"""`simmatch export`'s options: one frozen dataclass from which the command line is generated
(`simmatch.cli.generate`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..fields import BASE_HELP, BASE_POSE_HELP, MODEL_HELP, from_dict, option

if TYPE_CHECKING:
    from pathlib import Path

    from . import ExportResult


@dataclass(frozen=True)
class ExportConfig:
    """What decides an exported file's content (the file's path is the run option `--out FILE`)."""

    model: str = option(help=MODEL_HELP, positional=True)
    to: str = option(choices=("mjcf", "urdf"),
                     help="Format to write: mjcf (MuJoCo XML, through MjSpec) or urdf; the model's own format "
                          "gives a normalised copy.")
    base: str = option("auto", choices=("fixed", "floating", "auto"), help=BASE_HELP)
    base_pose: str | None = option(None, help=BASE_POSE_HELP)

    def record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExportConfig:
        return from_dict(cls, d)

    def run(self, out: str | Path) -> ExportResult:
        """`export_model` with these options, writing the file `out`."""
        from . import export_model

        return export_model(self.model, self.to, out, base=self.base, base_pose=self.base_pose)
