"""Engine backends behind one protocol, imported lazily so that a missing engine only matters when
it is asked for."""

from __future__ import annotations

import difflib
import importlib

from ..config import SimConfig
from ..errors import EngineNotInstalled, UsageError
from ..model import RobotModel
from .base import Backend, Behaviour, ContactPoint, Explanation, Readback, Unsupported

# engine name -> (module, class, pip package, import name)
ENGINES = {
    "bullet": ("simmatch.backends.bullet", "BulletBackend", "pybullet", "pybullet"),
    "dart": ("simmatch.backends.dart", "DartBackend", "dartpy", "dartpy"),
    "mujoco": ("simmatch.backends.mujoco_backend", "MujocoBackend", "mujoco", "mujoco"),
}


def engine_names() -> list[str]:
    return list(ENGINES)


def check_engine_name(name: str) -> str:
    if name not in ENGINES:
        close = difflib.get_close_matches(name, ENGINES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(f"unknown engine {name!r}{hint}; choose from {', '.join(ENGINES)}")
    return name


def backend_class(name: str) -> type[Backend]:
    module, cls, package, import_name = ENGINES[check_engine_name(name)]
    try:
        importlib.import_module(import_name)
    except ImportError:
        raise EngineNotInstalled(name, package) from None
    return getattr(importlib.import_module(module), cls)


def make_backend(name: str, model: RobotModel, config: SimConfig | None = None,
                 load: str = "matched") -> Backend:
    """Build `model` in engine `name` ('bullet', 'dart', 'mujoco')."""
    return backend_class(name)(model, config or SimConfig(), load)


def engine_versions() -> dict[str, str | None]:
    """Installed version of each engine, None when it cannot be imported."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name, (_, _, package, import_name) in ENGINES.items():
        try:
            importlib.import_module(import_name)
        except Exception:
            out[name] = None
            continue
        try:
            out[name] = version(package)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


__all__ = [
    "ENGINES",
    "Backend",
    "Behaviour",
    "ContactPoint",
    "Explanation",
    "Readback",
    "Unsupported",
    "backend_class",
    "check_engine_name",
    "engine_names",
    "engine_versions",
    "make_backend",
]
