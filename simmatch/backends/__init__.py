"""Engine backends behind one protocol, imported lazily so that a missing engine only matters when
it is asked for.

The registry `ENGINES` is the one list of engines every command uses (check's default engines,
gap's and learn-dyn's --src/--dst, the order of findings, `simmatch info`). Adding an engine is a
module in this package whose `Backend` subclass declares its `Capabilities`, and one entry below;
`register` adds one at run time (a plug-in, or an engine the tests stand in).
"""

from __future__ import annotations

import difflib
import importlib
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType

from ..config import SimConfig
from ..errors import EngineNotInstalled, UsageError
from ..model import RobotModel
from .base import (
    Backend,
    Behaviour,
    Capabilities,
    ContactPoint,
    Explanation,
    Readback,
    Unsupported,
    UnsupportedKind,
)

# engine name -> (module, class, pip package, import name); the order is the order of reports
ENGINES: dict[str, tuple[str, str, str | None, str | None]] = {
    "bullet": ("simmatch.backends.bullet", "BulletBackend", "pybullet", "pybullet"),
    "dart": ("simmatch.backends.dart", "DartBackend", "dartpy", "dartpy"),
    "mujoco": ("simmatch.backends.mujoco_backend", "MujocoBackend", "mujoco", "mujoco"),
}


_RESERVED = ("all", "none", "model", "reference")  # --engines keywords; the sources that are no engine


def register(name: str, backend: type[Backend] | str, cls: str | None = None, package: str | None = None,
             import_name: str | None = None) -> None:
    """Add engine `name` to the registry (after the others; an existing name is replaced).

    `backend` is the `Backend` subclass itself, or the dotted module that holds class `cls`.
    `package` is the pip package that provides the engine (its version goes into reports) and
    `import_name` the module that must import for the engine to be available (None: nothing beyond
    the backend's module). Raises ValueError for a name that is empty, holds ':', ',', '=' or
    spaces (target specs and --engines lists split on them) or is reserved (all, none, model,
    reference), and TypeError
    for a class that is no `Backend`."""
    if not name or not name.strip() or any(c in name for c in ":,= ") or name in _RESERVED:
        raise ValueError(f"engine name {name!r}: a plain word without ':', ',', '=' or spaces, not "
                         f"{'/'.join(_RESERVED)}")
    if isinstance(backend, type):
        if not issubclass(backend, Backend):
            raise TypeError(f"{backend!r} is not a simmatch.backends.base.Backend subclass")
        module, cls = backend.__module__, backend.__qualname__
    else:
        if cls is None:
            raise ValueError("register(name, 'module', cls): the class name is needed with a module name")
        module = backend
    ENGINES[name] = (module, cls, package, import_name)
    if isinstance(backend, type):
        _catalogue(name, backend)


def unregister(name: str) -> None:
    """Remove engine `name` from the registry, with the cause entries it added to the catalogue
    (no error when it is not there)."""
    from ..causes import CATALOGUE

    ENGINES.pop(name, None)
    for cause_id in _ADDED_CAUSES.pop(name, ()):
        CATALOGUE.pop(cause_id, None)


_ADDED_CAUSES: dict[str, list[str]] = {}  # engine -> ids its Capabilities.causes added to the catalogue


def _catalogue(name: str, cls: type[Backend]) -> None:
    """Join the engine's own cause entries (`Capabilities.causes`) to the one catalogue."""
    from ..causes import CATALOGUE

    for cause in cls.capabilities.causes:
        if cause.id not in CATALOGUE:
            CATALOGUE[cause.id] = cause
            _ADDED_CAUSES.setdefault(name, []).append(cause.id)


def engine_names() -> list[str]:
    """Registered engines, in registry order (the order of reports)."""
    return list(ENGINES)


def check_engine_name(name: str) -> str:
    if name not in ENGINES:
        close = difflib.get_close_matches(name, ENGINES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(f"unknown engine {name!r}{hint}; choose from {', '.join(ENGINES)}")
    return name


def _import_engine(import_name: str) -> ModuleType:
    """Import an engine's Python module with its C banner silenced (PyBullet prints its build time to
    stderr on import, once per engine process)."""
    from ..outputs import c_output_silenced

    with c_output_silenced(2):
        return importlib.import_module(import_name)


def backend_class(name: str) -> type[Backend]:
    """The Backend subclass of engine `name`. Raises UsageError for an unknown name and
    EngineNotInstalled when the engine does not import."""
    module, cls, package, import_name = ENGINES[check_engine_name(name)]
    if import_name is not None:
        try:
            _import_engine(import_name)
        except ImportError:
            raise EngineNotInstalled(name, package or import_name) from None
    obj: object = importlib.import_module(module)
    for part in cls.split("."):
        obj = getattr(obj, part)
    _catalogue(name, obj)  # type: ignore[arg-type]
    return obj  # type: ignore[return-value]


def capabilities(name: str) -> Capabilities:
    """What engine `name` can do: its backend class's `Capabilities` (imports the engine)."""
    return backend_class(name).capabilities


def capabilities_if_available(name: str) -> Capabilities | None:
    """`capabilities(name)`, or None when `name` is no registered engine (e.g. 'model') or the
    engine is not installed."""
    if name not in ENGINES:
        return None
    try:
        return capabilities(name)
    except EngineNotInstalled:
        return None


def make_backend(name: str, model: RobotModel, config: SimConfig | None = None,
                 load: str = "matched") -> Backend:
    """Build `model` in engine `name` (one of `engine_names()`); without `config`, SimConfig's with
    the time step and gravity the model file declares (`SimConfig.for_model`)."""
    return backend_class(name)(model, config or SimConfig.for_model(model), load)


def _module_version(module: str) -> str:
    try:
        return str(getattr(importlib.import_module(module), "__version__", "unversioned"))
    except ImportError:
        return "unversioned"


def _version_of(module: str, package: str | None, missing: str | None) -> str | None:
    """The pip package's version (`missing` when it is not installed); an engine without a pip
    package: its backend module's `__version__`."""
    if package is None:
        return _module_version(module)
    try:
        return version(package)
    except PackageNotFoundError:
        return missing


def installed_versions() -> dict[str, str | None]:
    """Installed version of each engine from package metadata, without importing the engines
    (PyBullet prints on import); None when the package is not installed. An engine without a pip
    package gets its backend module's `__version__` ('unversioned' without one)."""
    return {name: _version_of(module, package, None) for name, (module, _, package, _) in ENGINES.items()}


def engine_versions() -> dict[str, str | None]:
    """Installed version of each engine, None when it cannot be imported."""
    out: dict[str, str | None] = {}
    for name, (module, _, package, import_name) in ENGINES.items():
        try:
            _import_engine(import_name or module)
        except Exception:
            out[name] = None
            continue
        out[name] = _version_of(module, package, "unknown")
    return out


__all__ = [
    "ENGINES",
    "Backend",
    "Behaviour",
    "Capabilities",
    "ContactPoint",
    "Explanation",
    "Readback",
    "Unsupported",
    "UnsupportedKind",
    "backend_class",
    "capabilities",
    "capabilities_if_available",
    "check_engine_name",
    "engine_names",
    "engine_versions",
    "installed_versions",
    "make_backend",
    "register",
    "unregister",
]
