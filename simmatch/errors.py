"""Error types. User-facing errors carry one line that names the file, the element and the problem;
the CLI prints that line and exits 2, without a traceback."""

from __future__ import annotations


class SimmatchError(Exception):
    """Base of every error simmatch raises on purpose."""


class ModelError(SimmatchError):
    """The robot model is malformed or physically invalid."""

    def __init__(self, file: str, element: str, problem: str):
        self.file, self.element, self.problem = file, element, problem
        super().__init__(f"{file}: {element}: {problem}")


class UsageError(SimmatchError):
    """Bad command-line input (unknown engine, bad option value...)."""


class EngineNotInstalled(SimmatchError):
    def __init__(self, engine: str, package: str):
        super().__init__(f"engine {engine!r} is not installed: pip install {package}")


class EngineFailure(SimmatchError):
    """An engine failed (or crashed) while building or running a model. `cause`: the id in
    `simmatch.causes` of the known engine behaviour behind it, when the backend knows it;
    `subject`: the link or joint the failure is about, when the backend can tell."""

    def __init__(self, engine: str, load: str, message: str, cause: str | None = None, subject: str | None = None):
        self.engine, self.load, self.message, self.cause, self.subject = engine, load, message, cause, subject
        super().__init__(f"{engine} ({load}): {message}")


class PhysicsDiverged(SimmatchError):
    """An engine produced a non-finite state."""
