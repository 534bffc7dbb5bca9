"""Which offscreen renderer draws the pictures, with a fallback that never needs a GL library.

MuJoCo picks its GL backend when its GL module is first imported (`MUJOCO_GL`: egl, osmesa, glfw),
and PyOpenGL its platform when OpenGL is first imported (`PYOPENGL_PLATFORM`); neither can be
changed afterwards in the same process. So every MuJoCo attempt runs the whole drawing job in a
fresh interpreter (`python -m simmatch.render.worker`: nothing of the parent's engines or GL state
comes along, and the caller's main module is not imported again) started with those two variables set: MuJoCo through EGL, then through OSMesa (a user's own
`MUJOCO_GL` is tried first instead of those two). A backend that cannot make a GL context (the
library is missing, no device, the process dies) counts as unavailable and the next one is tried;
the last one, PyBullet's TinyRenderer (`getCameraImage` in DIRECT mode, a CPU rasteriser in the
wheel), needs no GL at all and runs in this process. The name of the renderer that drew is returned
and goes into the report (`RENDERERS`).

`SIMMATCH_RENDER_DISABLE` (comma list of `egl`, `osmesa`) marks GL backends unavailable without trying
them: for tests of the fallback, and for a machine whose GL driver misbehaves.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import SimmatchError

RENDERERS = ("mujoco-egl", "mujoco-osmesa", "pybullet-tiny")
DISABLE_ENV = "SIMMATCH_RENDER_DISABLE"
TINY = "pybullet-tiny"


class RendererUnavailable(Exception):
    """A renderer could not start here (no GL library, no device): the next one is tried."""


@dataclass
class Rendered:
    """What a drawing job gave back: the renderer that drew (`RENDERERS`, or 'mujoco-<MUJOCO_GL>'),
    the job's own value, and why each earlier renderer was passed over."""

    renderer: str
    value: Any
    skipped: list[str]


def candidates() -> list[str]:
    """The MuJoCo GL backends to try, in order: the user's MUJOCO_GL if set, else egl then osmesa;
    those named in SIMMATCH_RENDER_DISABLE are left out."""
    disabled = {t.strip().lower() for t in os.environ.get(DISABLE_ENV, "").split(",") if t.strip()}
    user = os.environ.get("MUJOCO_GL", "").strip().lower()
    order = [user] if user else ["egl", "osmesa"]
    return [b for b in order if b not in disabled]


def _spawned(job: Callable[..., Any], backend: str, args: tuple[Any, ...]) -> tuple[str, Any]:
    """Run the job in a fresh interpreter (`python -m simmatch.render.worker`: the job and its
    arguments pickled on stdin, the answer pickled on stdout) with MUJOCO_GL and PYOPENGL_PLATFORM set."""
    env = dict(os.environ, MUJOCO_GL=backend)
    env.pop("PYOPENGL_PLATFORM", None)
    if backend in ("egl", "osmesa"):
        env["PYOPENGL_PLATFORM"] = backend
    proc = subprocess.run([sys.executable, "-m", "simmatch.render.worker"],
                          input=pickle.dumps((job, f"mujoco-{backend}", args)), capture_output=True, env=env,
                          check=False)
    try:
        status, value = pickle.loads(proc.stdout)
    except Exception:  # died before answering (a GL driver's abort, a segfault)
        last = [ln for ln in proc.stderr.decode(errors="replace").strip().splitlines() if ln.strip()]
        why = last[-1].strip() if last else "no message"
        return "unavailable", f"the process died (exit code {proc.returncode}): {why[:200]}"
    return status, value


def render_with_fallback(job: Callable[..., Any], *args: Any) -> Rendered:
    """Run `job(renderer_name, *args)` with the first renderer that works (module docstring).

    `job` is a module-level function (it is pickled into the spawned process) that raises
    RendererUnavailable when it cannot make its context, before it writes anything.
    Raises SimmatchError with the job's own message when the job fails for another reason, and
    RuntimeError (an internal error, with the child's traceback) on a bug in it."""
    skipped: list[str] = []
    disabled = [b for b in ("egl", "osmesa")
                if b in {t.strip().lower() for t in os.environ.get(DISABLE_ENV, "").split(",")}]
    skipped += [f"mujoco-{b}: disabled by {DISABLE_ENV}" for b in disabled]
    for backend in candidates():
        status, value = _spawned(job, backend, args)
        if status == "ok":
            return Rendered(f"mujoco-{backend}", value, skipped)
        if status == "unavailable":
            skipped.append(f"mujoco-{backend}: {value}")
            continue
        if status == "error":
            raise SimmatchError(value)
        raise RuntimeError(f"rendering failed: {value}")
    return Rendered(TINY, job(TINY, *args), skipped)
