"""Everything simmatch writes goes through this module: nothing half-written, JSON always valid.

- `atomic_file(path)`: write to a temporary file in the same folder, fsync, give it the usual mode
  (0666 minus the umask, as `open()` would) and rename it into place. A kill at any moment leaves
  either the old file or the new one, never a mix; an error (disk full, read-only) removes the
  temporary file and raises `OutputError` naming the file.
- `report_folder(final, owned)`: a report folder is written as a whole: into a temporary sibling
  folder, closed by `manifest.json` (every file with size and SHA-256), then swapped into place
  (one atomic exchange on Linux, else two renames), so an older run's files can never sit beside a
  newer run's.
- `dumps_json`: `allow_nan=False` always; a non-finite number becomes null and the object gets a
  `non_finite` field listing where and why.
- `check_out_dir` / `check_out_file`: `--out` checked before any computation (one line, exit 2,
  nothing created).
- `model_label`: report folder names: a shipped model keeps its name, a file path gets its stem
  plus a short hash of its absolute path, so two different `model.urdf` never share a folder.
- `CorruptFile`: what readers raise when a file simmatch wrote earlier is truncated or damaged.

Temporary names are `.<name>.tmp-<pid>-<random>`; those of a process that no longer runs (killed
with SIGKILL, power loss) are removed the next time that folder is written.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SimmatchError, UsageError

MANIFEST = "manifest.json"
_TMP_RE = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)-[A-Za-z0-9_]+$")


class OutputError(SimmatchError):
    """An output could not be written (disk full, read-only folder...); nothing was left half-written."""


class CorruptFile(SimmatchError):
    """A file simmatch wrote earlier (dataset, checkpoint, config) is truncated or damaged."""

    def __init__(self, path, problem: str, remedy: str = ""):
        self.path = str(path)
        super().__init__(f"{path}: {problem}" + (f"; {remedy}" if remedy else ""))


# -- what this process completed (for the one line printed on Ctrl-C) -------------------------
_completed: list[str] = []
_staging: set[str] = set()


def completed() -> list[str]:
    """Files and report folders this process finished writing, in order."""
    return list(_completed)


def interrupted_line() -> str:
    """What is on disk after an interrupt: whole files only (temporary ones are removed on the way out)."""
    done = list(dict.fromkeys(reversed(completed())))[::-1]  # each path once, where it was last written
    if not done:
        return "nothing was written (no file left half-written)"
    shown = ", ".join(done[-3:])
    more = f" (and {len(done) - 3} earlier)" if len(done) > 3 else ""
    return f"no file left half-written; complete before the interrupt: {shown}{more}"


# -- modes --------------------------------------------------------------------------------------
def _umask() -> int:
    try:  # Linux: read it without changing it
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def file_mode() -> int:
    """The mode `open(path, 'w')` would give a new file: 0o666 minus the umask."""
    return 0o666 & ~_umask()


def dir_mode() -> int:
    return 0o777 & ~_umask()


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(folder: Path, name: str | None = None) -> list[Path]:
    """Remove temporary files/folders left in `folder` by a process that no longer runs (for `name`
    only, or all). Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for e in entries:
        m = _TMP_RE.match(e.name)
        if not m or (name is not None and m["name"] != name) or _pid_alive(int(m["pid"])):
            continue
        try:
            shutil.rmtree(e) if e.is_dir() and not e.is_symlink() else e.unlink()
            removed.append(e)
        except OSError:
            pass
    return removed


def _tmp_prefix(name: str, kind: str = "tmp") -> str:
    return f".{name}.{kind}-{os.getpid()}-"


def _fail(path, exc: OSError) -> OutputError:
    why = exc.strerror or str(exc)
    return OutputError(f"{path}: cannot write: {why}; nothing was left half-written")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# the low-level opener (tests replace it to simulate a full disk where mounting a tmpfs is not allowed)
_fdopen = os.fdopen


@contextmanager
def c_output_silenced(fd: int = 1) -> Iterator[None]:
    """File descriptor `fd` (1 stdout, 2 stderr) points at the null device meanwhile, for C code that
    prints there (an engine's banner on import). C's stdio buffers are flushed before `fd` is
    restored, so nothing printed inside surfaces later. Without a real `fd` (captured), nothing is
    done. Python exceptions raised inside still propagate."""
    (sys.stdout if fd == 1 else sys.stderr).flush()
    try:
        saved = os.dup(fd)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        ctypes.CDLL(None).fflush(None)
        os.dup2(saved, fd)
        os.close(saved)


@contextmanager
def atomic_file(path, mode: str = "wb", **open_kw) -> Iterator[Any]:
    """Open a temporary file beside `path` for writing; on a clean exit it replaces `path` whole.

    Raises OutputError (naming `path`) when the folder is missing, read-only or full; on any error
    or interrupt the temporary file is removed and `path` is left as it was."""
    if "w" not in mode and "x" not in mode:
        raise ValueError(f"atomic_file is for writing, not mode {mode!r}")
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_tmp_prefix(path.name))
    except OSError as exc:
        raise _fail(path, exc) from exc
    try:
        with _fdopen(fd, mode.replace("x", "w"), **open_kw) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException as exc:
        with suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, SimmatchError):
            raise _fail(path, exc) from exc
        raise
    if str(path.parent) not in _staging:
        _completed.append(str(path))


def write_bytes(path, data: bytes) -> Path:
    with atomic_file(path, "wb") as f:
        f.write(data)
    return Path(path)


def write_text(path, text: str) -> Path:
    with atomic_file(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return Path(path)


def write_json(path, obj, *, indent: int | None = 2, sort_keys: bool = False) -> Path:
    return write_text(path, dumps_json(obj, indent=indent, sort_keys=sort_keys) + "\n")


def save_npz(path, compressed: bool = True, **arrays) -> Path:
    """np.savez(_compressed) through a temporary file (np.savez on a path would append '.npz')."""
    with atomic_file(path, "wb") as f:
        (np.savez_compressed if compressed else np.savez)(f, **arrays)
    return Path(path)


def save_figure(fig, path, **kw) -> Path:
    """fig.savefig through a temporary file; the format is taken from the suffix."""
    path = Path(path)
    kw.setdefault("format", path.suffix.lstrip(".") or "png")
    with atomic_file(path, "wb") as f:
        fig.savefig(f, **kw)
    return path


def save_torch(obj, path) -> Path:
    import torch

    with atomic_file(path, "wb") as f:
        torch.save(obj, f)
    return Path(path)


def save_sb3(algo, path) -> Path:
    """A stable-baselines3 model's .zip through a temporary file."""
    with atomic_file(path, "wb") as f:
        algo.save(f)
    return Path(path)


# -- JSON ---------------------------------------------------------------------------------------
def sanitize(obj, where: str = "$", bad: list[str] | None = None):
    """A copy of obj that JSON can hold: numpy scalars/arrays as Python numbers/lists, tuples as lists,
    NaN/Infinity as None (their paths appended to `bad`)."""
    if bad is None:
        bad = []
    if isinstance(obj, dict):
        return {k: sanitize(v, f"{where}.{k}", bad) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [sanitize(v, f"{where}[{i}]", bad) for i, v in enumerate(obj)]
    if isinstance(obj, np.ndarray):
        return sanitize(obj.tolist(), where, bad)
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        bad.append(f"{where}={'NaN' if math.isnan(obj) else ('Infinity' if obj > 0 else '-Infinity')}")
        return None
    return obj


NON_FINITE_WHY = ("these numbers were not finite (NaN or Infinity: an engine or a computation blew up) and "
                  "are null here; JSON cannot hold them")


def dumps_json(obj, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """json.dumps with allow_nan=False. Non-finite numbers become null, and a dict gets
    `non_finite: {count, paths, why}` saying where they were."""
    bad: list[str] = []
    clean = sanitize(obj, "$", bad)
    if bad and isinstance(clean, dict):
        clean["non_finite"] = {"count": len(bad), "paths": bad[:50], "why": NON_FINITE_WHY}
    return json.dumps(clean, indent=indent, sort_keys=sort_keys, allow_nan=False)


# -- report folders -----------------------------------------------------------------------------
def _manifest(folder: Path, command: str) -> dict:
    from . import __version__

    files = []
    for p in sorted(folder.iterdir()):
        if p.name == MANIFEST or not p.is_file():
            continue
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        files.append({"name": p.name, "bytes": p.stat().st_size, "sha256": h.hexdigest()})
    return {"written_by": f"simmatch {__version__}", "command": command, "files": files}


def read_manifest(folder) -> dict | None:
    """The folder's manifest, or None when there is none or it is damaged."""
    try:
        return json.loads((Path(folder) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def verify_folder(folder) -> list[str]:
    """Problems of a report folder against its manifest ([] = every listed file whole, nothing extra)."""
    folder = Path(folder)
    m = read_manifest(folder)
    if m is None:
        return [f"{folder / MANIFEST}: missing or not valid JSON"]
    problems = []
    listed = {f["name"]: f for f in m["files"]}
    for name, f in listed.items():
        p = folder / name
        if not p.is_file():
            problems.append(f"{p}: listed in the manifest but missing")
            continue
        if p.stat().st_size != f["bytes"] or hashlib.sha256(p.read_bytes()).hexdigest() != f["sha256"]:
            problems.append(f"{p}: size or SHA-256 differs from the manifest")
    for p in folder.iterdir():
        if p.name != MANIFEST and p.name not in listed:
            problems.append(f"{p}: not listed in the manifest (from another run?)")
    return problems


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _missing_ancestors(folder: Path) -> list[Path]:
    out = []
    p = folder
    while not p.exists() and p != p.parent:
        out.append(p)
        p = p.parent
    return out


@contextmanager
def report_folder(final, command: str, owned: Callable[[str], bool] | None = None) -> Iterator[Path]:
    """Yield an empty temporary sibling folder of `final`; on a clean exit write its manifest and put it
    in place of `final` (an older report there is replaced whole). On an error or interrupt the
    temporary folder (and any parent folder created for it) is removed and `final` is untouched.

    `owned(name)` says whether an entry of an existing `final` was written by this command; a folder
    holding anything else is never replaced (UsageError)."""
    final = _report_path(final)
    if final.exists():
        _check_replaceable(final, owned)
    created = _missing_ancestors(final.parent)
    tmp = staged = None
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(final.parent, final.name)
        tmp = staged = Path(tempfile.mkdtemp(dir=final.parent, prefix=_tmp_prefix(final.name)))
        _staging.add(str(staged))
        yield tmp
        with open(tmp / MANIFEST, "w") as f:
            f.write(dumps_json(_manifest(tmp, command), indent=2) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, dir_mode())
        _fsync_dir(tmp)
        if final.exists():
            if _exchange(tmp, final):
                shutil.rmtree(tmp, ignore_errors=True)  # now holds the old report
            else:
                old = Path(tempfile.mkdtemp(dir=final.parent, prefix=_tmp_prefix(final.name, "old")))
                os.rename(final, old / "x")
                os.rename(tmp, final)
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
        _fsync_dir(final.parent)
        tmp = None
    except BaseException as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for p in created:  # innermost first
            try:
                p.rmdir()
            except OSError:
                break
        if isinstance(exc, OSError) and not isinstance(exc, SimmatchError):
            raise _fail(final, exc) from exc
        raise
    finally:
        _staging.discard(str(staged))
    _completed.append(str(final) + os.sep)


def _report_path(path) -> Path:
    """The absolute path of a report folder (through a symbolic link: the folder it points to). The
    current folder and its ancestors are refused: a report folder is replaced whole."""
    p = Path(os.path.realpath(os.path.abspath(path)))
    here = Path(os.path.realpath(os.getcwd()))
    if p == here or p in here.parents:
        raise UsageError(f"--out {path}: is the current folder or one above it; a report folder is replaced "
                         "whole, give a new subfolder")
    return p


def _check_replaceable(folder: Path, owned: Callable[[str], bool] | None) -> None:
    if not folder.is_dir():
        raise UsageError(f"--out {folder}: exists and is not a folder")
    if owned is None:
        return
    foreign = sorted(e.name for e in folder.iterdir() if e.name != MANIFEST and not owned(e.name))
    if foreign:
        more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
        raise UsageError(f"--out {folder}: holds {foreign[0]!r}{more}, which simmatch did not write there; "
                         "give a new or empty folder (a report folder is replaced whole)")


def _probe(folder: Path, what: str) -> None:
    """Create and remove a file in `folder`: the honest test of writability (root ignores modes,
    not a read-only mount)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=_tmp_prefix("probe"))
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise UsageError(f"{what}: cannot write in {folder}: {exc.strerror or exc}") from None


def _nearest_existing(p: Path) -> Path:
    a = p
    while not a.exists() and a != a.parent:
        a = a.parent
    return a


def check_out_dir(path, owned: Callable[[str], bool] | None = None, option: str = "--out") -> Path:
    """Validate a folder to be (re)written, before any computation; creates nothing.

    Raises UsageError (one line) when `path` is an existing file, an existing folder holding files
    this command did not write (with `owned`), or cannot be created or written."""
    p = Path(path)
    if owned is not None:
        _report_path(p)
    if p.exists():
        if not p.is_dir():
            raise UsageError(f"{option} {p}: exists and is not a folder")
        if owned is not None:
            _check_replaceable(p, owned)
            _probe(p.parent if p.parent.exists() else p, f"{option} {p}")  # the folder is swapped in its parent
        else:
            _probe(p, f"{option} {p}")
        return p
    a = _nearest_existing(p.parent if p.parent != p else p)
    if not a.is_dir():
        raise UsageError(f"{option} {p}: {a} is a file, not a folder")
    _probe(a, f"{option} {p}")
    return p


def check_out_file(path, option: str = "--out") -> Path:
    """Validate a file path to be written, before any computation; creates nothing."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{option} {p}: is a folder, expected a file name")
    a = _nearest_existing(p.parent)
    if not a.is_dir():
        raise UsageError(f"{option} {p}: {a} is a file, not a folder")
    _probe(a, f"{option} {p}")
    return p


# -- names --------------------------------------------------------------------------------------
def safe(name: str, sep: str = "_") -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", sep, name).strip(sep) or "model"


def model_label(model: str) -> str:
    """A shipped model's name as is; a file: its stem plus 8 hex digits of the SHA-256 of its absolute
    path (two different `model.urdf` files never share a report folder)."""
    from .registry import model_names

    if model in model_names():
        return model
    p = Path(os.path.expanduser(model))
    digest = hashlib.sha256(str(p.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{safe(p.stem)}-{digest}"
