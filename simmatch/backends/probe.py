"""Does a call crash the process? Run it in a forked child first (engine calls that segfault on some
files: PyBullet's getCollisionShapeData on a `fromto` capsule, dartpy's MjcfParser on a world site).

Plain `os.fork`, not multiprocessing: `simmatch check` already runs each engine in a daemonic
multiprocessing child, which may not start children of its own."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any


def crash_signal(fn: Callable[..., Any], *args: Any) -> int | None:
    """Call fn(*args) in a forked child whose output goes to /dev/null; the number of the signal
    that killed it (e.g. signal.SIGSEGV), or None when it returned or raised. POSIX only: where
    there is no fork, None (nothing is probed)."""
    if not hasattr(os, "fork"):
        return None
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        code = 0
        try:
            import faulthandler

            faulthandler.disable()  # its report of the expected crash would go to the parent's stderr
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            fn(*args)
        except BaseException:  # a Python error is not a crash; the caller's own call will raise it
            code = 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else None


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
