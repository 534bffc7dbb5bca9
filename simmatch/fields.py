"""Config fields that carry their command-line face.

Each command's options are one frozen dataclass (`CheckConfig`, `GapConfig`, `LearnDynConfig`,
`TrainPolicyConfig`): the command line is generated from its fields (`simmatch.cli.generate`), the
values are range-checked from the same fields (`simmatch.cli.options.check_config`), and the report
records `dataclasses.asdict(config)`, from which `from_dict` rebuilds the config that gives the same
numbers. This module holds no command logic and imports neither typer nor rich.

`option(default, help=...)` is `dataclasses.field` with a `Cli` in its metadata:

- `flag`: the long option (default `--field-name`); `short`: e.g. `-n`; `positional`: the
  command's argument (MODEL); `hidden_aliases`: old spellings still accepted, not shown in --help.
- `minimum`, `maximum` (a number, or the name of another field whose value bounds this one),
  `positive` (> 0), `choices`, `maximum_why` (said when the upper bound is hit).
- `parse`: text -> value for fields whose type the command line cannot spell directly (a comma list
  -> tuple, 'POS,LIN,ANG' -> MetricWeights); `text`: value -> the default shown in --help.
- `cli=False`: a field the command sets itself (never an option).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from dataclasses import MISSING, dataclass
from typing import Any

SEED_MAX = 2**32 - 1  # numpy, torch and the engines all take a seed in [0, 2^32)
# help texts of the options every command shares
MODEL_HELP = "Shipped model name (hopper, hopper-box, pendulum, double-pendulum, laikago, ...) or a URDF or MJCF (.xml with a <mujoco> root) path."
BASE_HELP = "fixed | floating | auto (auto: a massless root link is the world)."
BASE_POSE_HELP = ("Where a fixed base is mounted: 'x y z roll pitch yaw' (m, rad; URDF rpy), e.g. "
                  "'0 0 1 0 1.5708 0' on a wall.")


@dataclass(frozen=True)
class Cli:
    help: str
    flag: str | None = None
    short: str | None = None
    positional: bool = False
    hidden_aliases: tuple[str, ...] = ()
    minimum: float | str | None = None
    maximum: float | str | None = None
    positive: bool = False
    choices: tuple[str, ...] | None = None
    maximum_why: str = ""
    parse: Callable[[str], Any] | None = None
    text: Callable[[Any], str] | None = None
    cli: bool = True


def option(default: Any = MISSING, *, help: str, default_factory: Any = MISSING, **cli: Any) -> Any:
    """A dataclass field with its command-line face (see the module docstring)."""
    meta = {"cli": Cli(help=help, **cli)}
    if default_factory is not MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def cli_of(f: dataclasses.Field) -> Cli | None:
    return f.metadata.get("cli")


def flag_of(f: dataclasses.Field) -> str:
    c = cli_of(f)
    if c is not None and c.positional:
        return f.name.upper()
    return (c.flag if c is not None and c.flag else None) or "--" + f.name.replace("_", "-")


LAYER_MAX = 65536  # a hidden layer wider than this is a typo (and gigabytes of weights)


def comma_ints(text: str) -> tuple[int, ...]:
    """Hidden layer sizes: '128,128' -> (128, 128); ValueError on anything else, or on a size outside
    1..LAYER_MAX (-1 crashed torch after the run folder was made, 0 built a zero-width network)."""
    parts = [t.strip() for t in str(text).split(",")]
    if not parts or any(not p for p in parts):
        raise ValueError("expected comma-separated integers, e.g. 64,64")
    sizes = tuple(int(p) for p in parts)
    if any(not 1 <= n <= LAYER_MAX for n in sizes):
        raise ValueError(f"layer sizes must be integers from 1 to {LAYER_MAX}, e.g. 64,64")
    return sizes


def comma_text(value) -> str:
    return ",".join(str(v) for v in value)


def from_dict(cls, d: dict):
    """The config `cls` from `dataclasses.asdict(config)` (a report's record): lists become tuples,
    nested dataclasses are rebuilt, unknown keys are ignored (a report of a newer version)."""
    hints = typing.get_type_hints(cls)
    kw = {}
    for f in dataclasses.fields(cls):
        if f.name not in d:
            continue
        v = d[f.name]
        t = hints[f.name]
        if dataclasses.is_dataclass(t) and isinstance(v, dict):
            v = from_dict(t, v)
        elif isinstance(v, list):
            v = tuple(v)
        kw[f.name] = v
    return cls(**kw)
