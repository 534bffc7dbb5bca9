"""A crashing engine is a reported failure, never the end of the run."""

import ctypes
import os

import numpy as np

from simmatch import load_model
from simmatch.backends import make_backend
from simmatch.isolation import run_isolated


def _segfault():
    ctypes.string_at(0)  # a hard crash, as inside an engine's C++ code


def _build_and_crash(engine):
    b = make_backend(engine, load_model("pendulum"))
    b.step()
    _segfault()


def _build_and_report(engine):
    with make_backend(engine, load_model("pendulum")) as b:
        b.step(10)
        return b.get_state().q


def _raise():
    raise RuntimeError("engine said no\nsecond line")


def test_crash_in_engine_is_reported_not_fatal():
    out = run_isolated(_build_and_crash, "bullet")
    assert not out.ok and out.crashed
    assert "SIGSEGV" in out.error
    # the parent is alive and can still use the engines
    ok = run_isolated(_build_and_report, "bullet")
    assert ok.ok and np.shape(ok.value) == (1,)


def test_python_exception_is_one_line():
    out = run_isolated(_raise)
    assert not out.ok and not out.crashed
    assert out.error == "RuntimeError: engine said no"
    assert "Traceback" in out.detail


def test_child_stdout_goes_to_stderr(capfd):
    run_isolated(lambda: os.write(1, b"from C\n"))
    captured = capfd.readouterr()
    assert "from C" not in captured.out and "from C" in captured.err


def test_timeout():
    import time

    out = run_isolated(time.sleep, 10, timeout=0.5)
    assert not out.ok and "timed out" in out.error
