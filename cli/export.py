"""`simmatch export MODEL --to mjcf|urdf --out FILE`: the model as simmatch reads and builds it,
written in MJCF or URDF with a header comment of what the format could not carry
(`simmatch.export`). Its options are `simmatch.export.config.ExportConfig` plus `--out FILE` (the
one file written; required) and `--json`.

Exit codes: 0 written, 2 bad input (the model, an --out that is a folder, has another format's
suffix, cannot be written or is the input file itself): one line, nothing written."""

from __future__ import annotations

import sys

from simmatch.errors import UsageError
from simmatch.export.config import ExportConfig

from .generate import RunOptions, command


def run(cfg: ExportConfig, ro: RunOptions) -> None:
    """Write the model in MJCF or URDF, with a header comment listing what could not be carried."""
    from rich.markup import escape

    from simmatch.export import check_out
    from simmatch.outputs import dumps_json
    from simmatch.registry import base_pose_of, resolve_path

    from . import options
    from .gap import stdout_console

    options.model_arg(cfg.model)
    base_pose_of(cfg.base_pose)
    if ro.out is None:
        raise UsageError("export: --out FILE is required (the file to write, e.g. --out robot.xml)")
    check_out(ro.out, cfg.to, resolve_path(cfg.model))  # before any work: nothing is loaded or written
    result = cfg.run(ro.out)
    if ro.json:
        sys.stdout.write(dumps_json({"path": str(result.path), "to": result.to, "config": cfg.record(),
                                     "not_carried": list(result.lost), "written_as": list(result.carried),
                                     "unsupported": list(result.model.unsupported)}) + "\n")
        sys.stdout.flush()
        return
    console = stdout_console(highlight=False)
    console.print(f"wrote {escape(str(result.path))} ({result.to.upper()} of {escape(result.model.name)}, "
                  f"base {escape(result.model.base_text)})")
    console.print(f"not carried: {len(result.lost)}; left out when read: {len(result.model.unsupported)}"
                  + ("" if not result.lost else " (listed in the file's header comment)"))
    for line in result.lost:
        console.print(f"  [yellow]not carried:[/] {escape(line)}")


export = command(ExportConfig, run, run=("out", "json"), help={
    "out": "The file to write (required; unlike other commands' --out, a file, not a folder): .xml for MJCF, "
           ".urdf (or .xml) for URDF. Replaced atomically if it exists; never the input model itself.",
})
