"""Run engine work in a child process, so that a hard crash inside an engine's C++ code (a
segfault, an abort) becomes a reported failure of that engine instead of ending the whole run.

The child also sends file descriptor 1 to 2: engines print from C straight to the process's stdout
(PyBullet on import and on a link without <inertial>), which must not reach `--json` output.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from .errors import SimmatchError


@dataclass
class Outcome:
    ok: bool
    value: Any = None
    error: str = ""  # one line
    crashed: bool = False  # died from a signal or exited without answering
    detail: str = ""  # traceback of an unexpected Python exception, for --verbose
    cause: str | None = None  # cause id an EngineFailure carried
    subject: str | None = None  # the link or joint an EngineFailure named


def _child(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        os.dup2(2, 1)
    try:
        value = fn(*args, **kwargs)
        conn.send(Outcome(True, value))
    except SimmatchError as exc:
        conn.send(Outcome(False, error=str(exc), cause=getattr(exc, "cause", None),
                          subject=getattr(exc, "subject", None)))
    except Exception as exc:  # report everything: this is the isolation boundary
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        conn.send(Outcome(False, error=f"{type(exc).__name__}: {first}".rstrip(": "),
                          detail=traceback.format_exc()))
    except BaseException:  # an interrupt (the parent got it too and reports it) or SystemExit: leave quietly
        os._exit(1)
    finally:
        conn.close()


def run_isolated(fn: Callable[..., Any], *args: Any, timeout: float | None = None, **kwargs: Any) -> Outcome:
    """Call fn(*args, **kwargs) in a forked child; return its value or what went wrong."""
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args, kwargs), daemon=True)
    proc.start()
    send.close()
    result: Outcome | None = None
    try:
        if recv.poll(timeout):
            result = recv.recv()
    except (EOFError, OSError):
        result = None
    except BaseException:  # interrupted: the child goes too, then the interrupt goes on
        proc.kill()
        proc.join()
        raise
    finally:
        recv.close()
    proc.join(None if result is not None else 5)
    if proc.is_alive():
        proc.kill()
        proc.join()
        if result is None:
            return Outcome(False, error=f"timed out after {timeout:g} s", crashed=True)
    if result is not None:
        return result
    return ended_without_result(proc.exitcode, "engine crashed", "engine process exited")


def ended_without_result(code: int | None, crashed: str, exited: str) -> Outcome:
    """The Outcome of a child process that ended without sending a result: killed by a signal (exit
    code -N: "<crashed> (SIGNAME)") or exited with `code` ("<exited> with code N without a result")."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return Outcome(False, error=f"{crashed} ({name})", crashed=True)
    return Outcome(False, error=f"{exited} with code {code} without a result", crashed=True)
