"""Range checks of command-line options, shared by every command. Each raises `UsageError` with one
line naming the option, the value and what it must be; the commands call them before any work
(before a model is loaded, an engine started or a file written), so bad input costs nothing and
leaves nothing behind.

Caps that keep a run bounded (`--random-q`, gap's total steps) are lifted with `--no-limit`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simmatch.errors import UsageError
from simmatch.fields import SEED_MAX

if TYPE_CHECKING:  # for annotations only: this module is imported by every command, kept light
    from _typeshed import DataclassInstance

    from simmatch.model import RobotModel

# Sizes beyond which a run takes minutes to hours (measured here on a shared 2-core machine: `check
# hopper` ~1 s start-up plus a few ms per random q, a 250-joint chain ~0.4 s per random q; `gap` on
# the hopper ~1.7 ms per step, both engines and the one-step replay). `--no-limit` lifts them.
RANDOM_Q_MAX = 2000
GAP_STEPS_MAX = 30_000  # horizon x episodes x scenarios (+ the --explain re-runs): ~1 min on the hopper
ENGINE_LINKS_MAX = 1000  # links of a model built in the engines (1000 welded links: ~45 s of check here)
LIFT = "--no-limit lifts this cap"


def _show(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def integer(value: int, option: str, minimum: int | None = None, maximum: int | None = None,
            what: str = "") -> int:
    """`value` if minimum <= value <= maximum, else UsageError. `what` explains the upper bound."""
    if minimum is not None and value < minimum:
        raise UsageError(f"{option} {value}: must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise UsageError(f"{option} {value}: must be at most {maximum}{' ' + what if what else ''}")
    return value


def number(value: float | None, option: str, minimum: float | None = None, maximum: float | None = None,
           positive: bool = False) -> float | None:
    """`value` if it is finite and in range (`positive`: > 0), else UsageError. None passes (unset)."""
    if value is None:
        return None
    if not math.isfinite(value):
        raise UsageError(f"{option} {value}: must be a finite number")
    if positive and not value > 0:
        raise UsageError(f"{option} {value:g}: must be positive")
    if minimum is not None and value < minimum:
        raise UsageError(f"{option} {value:g}: must be at least {minimum:g}")
    if maximum is not None and value > maximum:
        raise UsageError(f"{option} {value:g}: must be at most {maximum:g}")
    return value


def seed(value: int, option: str = "--seed") -> int:
    """A seed in [0, 2^32 - 1]."""
    return integer(value, option, 0, SEED_MAX)


def choice(value: str, option: str, choices: tuple[str, ...] | list[str]) -> str:
    if value not in choices:
        shown = value if value.strip() and value.isprintable() and " " not in value else repr(value)
        raise UsageError(f"{option} {shown}: choose {', '.join(choices[:-1])} or {choices[-1]}")
    return value


def base(value: str, option: str = "--base") -> str:
    return choice(value, option, ("fixed", "floating", "auto"))


def check_config(cfg: DataclassInstance) -> None:
    """Range-check every field of a command's config from its metadata (`simmatch.fields.option`):
    minimum/maximum (a number or another field's name), positive, choices; None passes (unset).
    One UsageError naming the option, the value and the bound; fields in declaration order."""
    import dataclasses

    from simmatch.fields import cli_of, flag_of

    for f in dataclasses.fields(cfg):
        c = cli_of(f)
        value = getattr(cfg, f.name)
        if c is None or value is None:
            continue
        flag = flag_of(f)

        def bound(b: float | str | None) -> Any:
            return getattr(cfg, b) if isinstance(b, str) else b

        lo, hi = bound(c.minimum), bound(c.maximum)
        why = c.maximum_why
        if isinstance(value, bool):
            continue
        if c.choices is not None:
            choice(value, flag, c.choices)
        elif isinstance(value, int):
            integer(value, flag, None if lo is None else int(lo), None if hi is None else int(hi), why)
        elif isinstance(value, float):
            number(value, flag, lo, hi, positive=c.positive)


def random_q(value: int, no_limit: bool = False) -> int:
    """Number of random configurations: >= 0, at most RANDOM_Q_MAX unless `no_limit`."""
    return integer(value, "--random-q", 0, None if no_limit else RANDOM_Q_MAX,
                   f"(more takes minutes to hours; {LIFT})")


def engine_model_size(model: RobotModel, no_limit: bool = False) -> None:
    """Refuse to build a model of more than ENGINE_LINKS_MAX links in the engines (their loaders and
    read-backs take minutes there; 10,000 links ran out the 300 s per-engine timeout)."""
    n = len(model.links)
    if not no_limit and n > ENGINE_LINKS_MAX:
        raise UsageError(f"{model.source or model.name}: {n} links: engines build at most {ENGINE_LINKS_MAX} "
                         f"(larger models take minutes in the engines; {LIFT}; --engines none checks the "
                         "model alone)")


def existing_file(path: str | Path | None, option: str, suffixes: tuple[str, ...] = (),
                  what: str = "file") -> Path | None:
    """`path` if it names a readable, non-empty regular file with one of `suffixes` (when given)."""
    if path is None:
        return None
    p = Path(path)
    if str(path) == "":
        raise UsageError(f"{option}: empty path")
    if not p.exists():
        raise UsageError(f"{option} {p}: no such {what}")
    if not p.is_file():
        raise UsageError(f"{option} {p}: not a regular file")
    if suffixes and p.suffix.lower() not in suffixes:
        raise UsageError(f"{option} {p}: expected a {' or '.join(suffixes)} {what}")
    try:
        size = p.stat().st_size
        with open(p, "rb"):
            pass
    except OSError as exc:
        raise UsageError(f"{option} {p}: cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise UsageError(f"{option} {p}: empty file")
    return p


def npz_file(path: str | Path | None, option: str, keys: tuple[str, ...] = ()) -> Path | None:
    """An existing .npz archive (a zip of .npy arrays, no pickled objects) holding `keys`."""
    p = existing_file(path, option, (".npz",), "dataset")
    if p is None:
        return None
    import zipfile

    try:
        with zipfile.ZipFile(p) as z:
            names = {n[:-4] if n.endswith(".npy") else n for n in z.namelist()}
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UsageError(f"{option} {p}: not an .npz archive (numpy.savez)") from None
    missing = [k for k in keys if k not in names]
    if missing:
        raise UsageError(f"{option} {p}: .npz archive lacks {', '.join(repr(k) for k in missing)}")
    return p


def model_arg(value: str | None, option: str = "MODEL") -> str | None:
    """A model name or path: not empty (an empty path would name the current folder)."""
    if value is not None and not value.strip():
        raise UsageError(f"{option}: empty model name (give a shipped model name or a URDF path)")
    return value


def engine_list(text: str, option: str = "--engines") -> str:
    """A comma list with at least one name (or 'none'/'all'); the names are checked by the caller."""
    if not text.strip() or not any(t.strip() for t in text.split(",")):
        from simmatch.backends import engine_names

        raise UsageError(f"{option} {text!r}: name at least one engine ({', '.join(engine_names())}), 'all' or 'none'")
    return text


def run_name(name: str, option: str = "--run") -> str:
    """A run folder name: one path component (no '/', '..' or leading '.')."""
    if name and (name in (".", "..") or "/" in name or "\\" in name or name.startswith(".") or "\0" in name):
        raise UsageError(f"{option} {name!r}: must be a plain folder name (no '/', no leading '.')")
    return name
