"""What `simmatch sweep PATH...` checks: every model found under the given paths, each with its
check options.

- a folder is searched recursively (hidden folders left out) for `*.urdf` and `*.xml`: a `.xml` whose
  root element is `<mujoco>` is an MJCF (`simmatch.mjcf.is_mjcf`), one whose root is `<robot>` a URDF;
  any other XML (a scene fragment, a launch file, `<mujocoinclude>`) is skipped with the reason, as is an MJCF
  that another MJCF of the folder pulls in with `<include>` (a fragment of that model);
- a `.urdf` or `.xml` file is that model;
- any other file is a list: one model per line, a path (relative to the list's folder) followed by
  `check` options for that model (`arm.urdf --base fixed --random-q 5`), `#` starts a comment.

A model's options are the sweep's (`--random-q`, `--base`, ... given to `sweep`) overridden by those
written on its line. Every line is read and its options checked before anything runs: a missing
file or a bad option is one line naming the list, the line number and the problem (UsageError).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import shlex
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..compare.config import CheckConfig
from ..errors import SimmatchError, UsageError
from ..outputs import safe

MODEL_SUFFIXES = (".urdf", ".xml")
# check options a list line may not give: they belong to the sweep (where it writes, how it talks)
_SWEEP_ONLY = ("--out", "-o", "--json", "--no-report", "--quiet", "-q", "--fail-on", "--no-limit")


@dataclass(frozen=True)
class ModelSpec:
    """One model of a sweep: `path` (absolute), the options written for it (`args`, as on its list
    line; () for a file found in a folder), where it came from (`origin`: 'list.txt:3' or the
    folder), its format ('urdf' or 'mjcf') and the check it gets (`config`)."""

    path: str
    args: tuple[str, ...]
    origin: str
    format: str
    config: CheckConfig

    @property
    def sha256(self) -> str:
        """SHA-256 of the model file (not of its meshes): a result of an earlier sweep counts only for
        the same file content."""
        h = hashlib.sha256()
        try:
            with open(self.path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        except OSError:
            return ""
        return h.hexdigest()

    @property
    def id(self) -> str:
        """Stable name of its result folder: the file's stem and 8 hex digits of the SHA-256 of its
        absolute path and its options (one file listed twice with other options: two results)."""
        key = "\0".join((self.path, *self.args))
        return f"{safe(Path(self.path).stem)}-{hashlib.sha256(key.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"


@dataclass(frozen=True)
class Skipped:
    """A file found in a folder that is not a robot description: `path` and why it is skipped."""

    path: str
    reason: str


def root_tag(path: str | os.PathLike[str]) -> str | None:
    """The root element's tag of an XML file; None when it is not well-formed XML or unreadable."""
    try:
        for _, elem in ET.iterparse(os.fspath(path), events=("start",)):
            return str(elem.tag)
    except (OSError, ET.ParseError, ValueError, LookupError):
        return None
    return None


def model_format(path: str | os.PathLike[str]) -> tuple[str | None, str]:
    """('urdf' | 'mjcf', '') for a robot description, (None, why) for any other file."""
    from ..mjcf import is_mjcf

    p = Path(path)
    if p.suffix.lower() == ".urdf":
        return "urdf", ""
    if is_mjcf(p):
        return "mjcf", ""
    tag = root_tag(p)
    if tag == "robot":
        return "urdf", ""
    if tag is None:
        return None, "not well-formed XML"
    return None, f"root element <{tag}> is neither <robot> (URDF) nor <mujoco> (MJCF)"


@functools.lru_cache(maxsize=1)
def _line_parser() -> tuple[Any, dict[str, Any]]:
    """A click command with `simmatch check`'s config options (generated from CheckConfig, as check's
    own) whose body keeps the parsed config and the options written, in the returned dict."""
    import typer

    from ..cli.generate import RunOptions, command, given_options

    holder: dict[str, Any] = {}

    def body(cfg: CheckConfig, ro: RunOptions) -> None:
        holder["cfg"] = cfg
        holder["given"] = given_options()

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command("check")(command(CheckConfig, body))
    return typer.main.get_command(app), holder


def parse_options(args: list[str], defaults: CheckConfig, where: str) -> CheckConfig:
    """`defaults` with the check options in `args` (e.g. ['--base', 'fixed']) applied and range-checked.
    Raises UsageError '<where>: <problem>'."""
    if not args:
        return defaults
    import typer

    from ..cli import options as cli_options

    click_usage_error: type[Exception] = typer.BadParameter.__mro__[1]  # click's UsageError (typer vendors click)

    for a in args:
        if a.split("=", 1)[0] in _SWEEP_ONLY:
            raise UsageError(f"{where}: {a.split('=', 1)[0]} is a sweep option, not a per-model one")
    cmd, holder = _line_parser()
    try:
        cmd.main(args=[defaults.model, *args], prog_name="check", standalone_mode=False)
        cfg: CheckConfig = holder["cfg"]
        cli_options.random_q(cfg.random_q)
    except click_usage_error as exc:
        raise UsageError(f"{where}: {' '.join(exc.format_message().split())}") from None  # type: ignore[attr-defined]
    except SimmatchError as exc:
        raise UsageError(f"{where}: {exc}") from None
    changes = {name: getattr(cfg, name) for name in holder["given"] if name != "model"}
    return dataclasses.replace(defaults, **changes)


def _spec(path: Path, args: tuple[str, ...], origin: str, fmt: str, defaults: CheckConfig,
          where: str, folder: Path | None = None) -> ModelSpec:
    cfg = parse_options(list(args), dataclasses.replace(defaults, model=str(path)), where)
    if folder is not None and cfg.reference is not None and not Path(cfg.reference).is_absolute():
        # a reference written on a list line is relative to the list's folder, as the model is
        cfg = dataclasses.replace(cfg, reference=str((folder / cfg.reference).resolve()))
    return ModelSpec(str(path), args, origin, fmt, cfg)


def spec_for(path: str | os.PathLike[str], args: tuple[str, ...] | list[str] = (), defaults: CheckConfig | None = None,
             origin: str = "") -> ModelSpec:
    """The spec of one model file checked with `defaults` and the check options `args` (a list line's
    options). Raises UsageError for a missing file, a file that is not a robot description, a bad option."""
    p = Path(os.path.expanduser(path)).resolve()
    where = origin or str(path)
    if not p.is_file():
        raise UsageError(f"{where}: {path}: no such file")
    fmt, why = model_format(p)
    if fmt is None:
        raise UsageError(f"{where}: {path}: not a robot description ({why})")
    return _spec(p, tuple(args), where, fmt, defaults or CheckConfig(model=""), where)


def read_list(path: Path, defaults: CheckConfig) -> list[ModelSpec]:
    """The models of a list file (see the module docstring). Raises UsageError naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a UTF-8 text file (a list of models, one per line)") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    specs = []
    for n, line in enumerate(text.splitlines(), 1):
        where = f"{path}:{n}"
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise UsageError(f"{where}: {exc}") from None
        if not words:
            continue
        model = Path(os.path.expanduser(words[0]))
        model = (model if model.is_absolute() else path.parent / model).resolve()
        if not model.is_file():
            raise UsageError(f"{where}: {words[0]}: no such file")
        fmt, why = model_format(model)
        if fmt is None:
            raise UsageError(f"{where}: {words[0]}: not a robot description ({why})")
        specs.append(_spec(model, tuple(words[1:]), where, fmt, defaults, where, path.parent))
    return specs


def _included(mjcfs: set[Path]) -> dict[Path, str]:
    """Files that the MJCFs `mjcfs` pull in with <include file=...> (resolved against the including
    file's folder, as MuJoCo does for the main file) -> the name of one file that includes it."""
    out: dict[Path, str] = {}
    for f in sorted(mjcfs):
        try:
            root = ET.parse(f).getroot()
        except (OSError, ET.ParseError, ValueError, LookupError):
            continue
        for el in root.iter("include"):
            name = el.get("file")
            if name:
                target = (f.parent / name).resolve()
                if target != f.resolve():
                    out.setdefault(target, f.name)
    return out


def discover(paths: list[str], defaults: CheckConfig, exclude: Path | None = None) -> tuple[list[ModelSpec], list[Skipped]]:
    """The models under `paths` (folders, model files, list files; see the module docstring), in the
    order given (a folder's files sorted by path), each model once; and the XML files skipped.
    `exclude`: a folder never searched (the sweep's own output). Raises UsageError (one line) for a
    missing path, an unreadable list, a bad line; and when nothing at all is found."""
    specs: list[ModelSpec] = []
    skipped: list[Skipped] = []
    ex = exclude.resolve() if exclude is not None else None
    for raw in paths:
        p = Path(os.path.expanduser(raw))
        if not p.exists():
            raise UsageError(f"{raw}: no such file or folder")
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in MODEL_SUFFIXES and f.is_file()
                           and not any(part.startswith(".") for part in f.relative_to(p).parts[:-1])
                           and not (ex is not None and (ex == f.resolve().parent or ex in f.resolve().parents)))
            formats = [(f, *model_format(f)) for f in found]
            included = _included({f for f, fmt, _ in formats if fmt == "mjcf"})
            for f, fmt, why in formats:
                by = included.get(f.resolve())
                if fmt == "mjcf" and by is not None:
                    fmt, why = None, f"included by {by} (an MJCF fragment, checked as part of that model)"
                if fmt is None:
                    skipped.append(Skipped(str(f.resolve()), why))
                    continue
                specs.append(_spec(f.resolve(), (), str(p), fmt, defaults, str(f)))
        elif p.suffix.lower() in MODEL_SUFFIXES:
            fmt, why = model_format(p)
            if fmt is None:
                raise UsageError(f"{raw}: not a robot description ({why})")
            specs.append(_spec(p.resolve(), (), raw, fmt, defaults, raw))
        else:
            specs.extend(read_list(p, defaults))
    seen: set[str] = set()
    unique = []
    for s in specs:
        if s.id not in seen:
            seen.add(s.id)
            unique.append(s)
    if not unique:
        raise UsageError(f"{', '.join(paths)}: no URDF or MJCF model found"
                         + (f" ({len(skipped)} XML files skipped: not robot descriptions)" if skipped else ""))
    return unique, skipped
