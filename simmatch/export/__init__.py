"""`simmatch export`: a model written in MJCF or URDF, as simmatch reads and builds it.

`export_model` loads a model (URDF or MJCF, `registry.load_model`), writes its canonical model, the
one every matched engine build starts from, in the format asked (`mjcf`: `simmatch.export.mjcf`
through MuJoCo's MjSpec; `urdf`: `simmatch.export.urdf`), and puts a header comment at the top of
the file that lists what the format could not carry (URDF: armature, springs, ...; MJCF: ...), how
some things were written instead, and the model's own `unsupported` and `ignored` lists (what the
source held that simmatch's model already leaves out). The same format gives a normalised copy.

The file is written atomically (`outputs.write_text`); the input file itself is never overwritten.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..config import SimConfig
from ..errors import UsageError
from ..model import RobotModel

FORMATS = ("mjcf", "urdf")
SUFFIXES = {"mjcf": (".xml",), "urdf": (".urdf", ".xml")}


@dataclass
class Notes:
    """What an export could not carry (`lost`), how it wrote what the format has no direct element
    for (`carried`), and the engine build's own notes (`engine_notes`, not put in the header)."""

    lost: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    engine_notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExportResult:
    """`path`: the file written; `to`: its format; `lost`, `carried`: the header's two lists."""

    path: Path
    to: str
    model: RobotModel
    lost: tuple[str, ...]
    carried: tuple[str, ...]


def _comment_text(line: str) -> str:
    # '--' may not appear inside an XML comment
    return " ".join(line.split()).replace("--", "- -")


def header(model: RobotModel, to: str, notes: Notes) -> str:
    """The header comment of an exported file (an XML comment, one item a line)."""
    source = f"{model.source_format.upper()} {model.source}" if model.source else model.source_format.upper()
    lines = [f"Written by simmatch export from {source} ({model.name}; base {model.base_text}).",
             f"The canonical model simmatch builds in the engines, as {to.upper()}."]
    lost = list(dict.fromkeys(notes.lost))
    from_source = [*model.unsupported, *(f"{e} '{s}': {w}" for e, s, w in model.ignored)]
    lines.append(f"Not carried into this {to.upper()} ({len(lost)}):" if lost else
                 f"Not carried into this {to.upper()}: nothing of the canonical model.")
    lines += [f"  - {x}" for x in lost]
    if from_source:
        lines.append(f"Already left out when simmatch read the source ({len(from_source)}):")
        lines += [f"  - {x}" for x in from_source]
    carried = list(dict.fromkeys(notes.carried))
    if carried:
        lines.append("Written as:")
        lines += [f"  - {x}" for x in carried]
    return "<!--\n" + "\n".join(_comment_text(x) if not x.startswith("  - ") else "  - " + _comment_text(x[4:])
                                 for x in lines) + "\n-->\n"


def render(model: RobotModel, to: str, config: SimConfig | None = None) -> tuple[str, Notes]:
    """The exported text of `model` in format `to` ('mjcf' or 'urdf'), header included, and its notes.
    Raises UsageError for another format, EngineFailure when MuJoCo refuses the MJCF spec."""
    if to not in FORMATS:
        raise UsageError(f"--to must be one of {', '.join(FORMATS)}, not {to!r}")
    notes = Notes()
    config = config or SimConfig()
    if to == "mjcf":
        from .mjcf import to_mjcf

        body = to_mjcf(model, config, notes)
        if any(x.startswith("visual ") for x in notes.lost) or any(link.visuals for link in model.links):
            notes.lost.append("visual materials and colours (the canonical model keeps none)")
        if any(j.limit is not None and j.limit.velocity for j in model.dof_joints):
            notes.lost.append("joint velocity limits (MJCF has none)")
        if any(link.contact is not None and link.contact.restitution for link in model.links):
            notes.lost.append("restitution (MJCF has none)")
        text = header(model, to, notes) + body
    else:
        from .urdf import to_urdf

        body = to_urdf(model, notes)
        text = '<?xml version="1.0"?>\n' + header(model, to, notes) + body
    return text, notes


def check_out(out: str | os.PathLike[str], to: str, source: str | os.PathLike[str] | None) -> Path:
    """Validate the output file before any work: a file name (not a folder) whose suffix the format's
    readers take (.xml for MJCF, .urdf or .xml for URDF), in a folder that can be written, and not
    the input file. Raises UsageError (one line)."""
    from ..outputs import check_out_file

    p = Path(out)
    check_out_file(p)
    if to in SUFFIXES and p.suffix.lower() not in SUFFIXES[to]:
        article = "an" if to == "mjcf" else "a"
        raise UsageError(f"--out {p}: {article} {to.upper()} file must end in {' or '.join(SUFFIXES[to])} (simmatch "
                         "and the engines choose the reader by the file's name)")
    if source:
        src = Path(source)
        same = src.exists() and p.exists() and os.path.samefile(src, p)
        if same or src.resolve() == p.resolve():
            raise UsageError(f"--out {p}: is the input model itself; write the export to another file")
    return p


def export_model(model: str | RobotModel, to: str, out: str | os.PathLike[str], base: str = "auto",
                 base_pose: str | None = None, config: SimConfig | None = None) -> ExportResult:
    """Write `model` (a shipped name, a URDF or MJCF path, or a RobotModel) as `to` ('mjcf' or
    'urdf') to the file `out`, atomically, with the header comment (see `header`).

    Raises UsageError (bad format, an output path that cannot be written or is the input file),
    ModelError (the model file is bad input), EngineFailure (MuJoCo refuses the MJCF spec);
    nothing is written then."""
    from ..outputs import write_text
    from ..registry import load_model, resolve_path

    if to not in FORMATS:
        raise UsageError(f"--to must be one of {', '.join(FORMATS)}, not {to!r}")
    source = model.source if isinstance(model, RobotModel) else str(resolve_path(os.fspath(model)))
    path = check_out(out, to, source)
    m = model if isinstance(model, RobotModel) else load_model(model, base=base, base_pose=base_pose)
    text, notes = render(m, to, config)
    write_text(path, text)
    return ExportResult(path, to, m, tuple(dict.fromkeys(notes.lost)), tuple(dict.fromkeys(notes.carried)))
