"""`simmatch view MODEL --engine bullet|mujoco|dart [--replay GAP_FOLDER/SCENARIO.npz]`: the robot in
the engine's own GUI (PyBullet's GUI connection, MuJoCo's passive viewer `mujoco.viewer.launch_passive`,
DART's OpenSceneGraph viewer `dartpy.gui.osg.Viewer`), built the way `check` and `gap` build it (the
backends' matched build by default), optionally replaying the states a `gap` run recorded.

- Replay: `<scenario>.npz` as `simmatch gap` writes it (`ep<E>_<side>_q` (T+1, dof) in canonical
  joint order, rad or m; for a floating base also `ep<E>_<side>_root_pos` (T+1, 3) world m and
  `root_quat` (T+1, 4) x-y-z-w; `time` (T+1,) s): the states are shown at the recorded rate (state k
  at k * dt of wall-clock time), in a loop with a one-second pause on the last state, until the window
  is closed or `--seconds` have passed. No physics is stepped: the engine only draws the poses.
- Display: the GUI needs a display (X11: `DISPLAY`; MuJoCo's GLFW also Wayland). Without one, or
  when the X server cannot be opened, `ViewUnavailable` says so in one line with what to do (the CLI
  prints it and exits 2) before any engine starts. The GUI runs in a child process
  (`simmatch.isolation`): PyBullet ends its process when its GUI cannot open, and a GL driver may
  crash; either becomes one line (`ViewUnavailable`), with the engine's last message.

Errors raised: `UsageError` (an engine without a viewer, a replay file that is missing, damaged, of
another model or without that episode/side), `ModelError` (a bad model file), `ViewUnavailable`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import math
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SimmatchError, UsageError
from .fields import BASE_HELP, BASE_POSE_HELP, MODEL_HELP, option
from .model import RobotModel, State

VIEWERS = ("bullet", "mujoco", "dart")
GUI_NAMES = {"bullet": "PyBullet's GUI", "mujoco": "MuJoCo's passive viewer", "dart": "DART's OSG viewer"}
HOLD_S = 1.0  # pause on the last state before the replay starts again
FRAME_S = 1.0 / 60.0  # the GUI is refreshed at most this often
WHAT_TO_DO = ("run it on a desktop session, over `ssh -X`, under a virtual display (`xvfb-run -a simmatch "
              "view ...`), or in Docker with `-e DISPLAY -v /tmp/.X11-unix:/tmp/.X11-unix` after "
              "`xhost +local:docker` (README, Running in Docker); without a display, `gap --render` writes videos")


class ViewUnavailable(SimmatchError):
    """The engine's GUI cannot open here (no display, an X server that cannot be reached, a GL context
    that fails); the message says what to do. The CLI exits 2."""


class ViewBug(Exception):
    """A Python exception in the viewer's child process (a bug): `detail` holds its traceback."""

    def __init__(self, message: str, detail: str):
        super().__init__(message)
        self.detail = detail


@dataclass(frozen=True)
class ViewConfig:
    """`simmatch view`'s options (it writes nothing)."""

    model: str = option(help=MODEL_HELP, positional=True)
    engine: str = option(choices=VIEWERS, help="The engine whose own GUI opens: bullet (PyBullet's GUI), mujoco "
                                               "(MuJoCo's passive viewer) or dart (DART's OSG viewer).")
    replay: Path | None = option(None, help="A gap report's <scenario>.npz: replay its recorded states at the "
                                            "recorded rate (in a loop).")
    side: str = option("auto", choices=("auto", "src", "dst"),
                       help="Which recorded trajectory to replay: src, dst, or auto (the side that ran in --engine, "
                            "read from gap.json beside the .npz; else src).")
    episode: int = option(0, minimum=0, help="Which recorded episode to replay.")
    seconds: float | None = option(None, positive=True, maximum=86400.0,
                                   help="Close the window after this many seconds (default: when you close it).")
    load: str = option("matched", choices=("matched", "native"),
                       help="Which build to show: matched (simmatch's own, as check and gap build it) or native "
                            "(the engine's own URDF importer).")
    base: str = option("auto", choices=("fixed", "floating", "auto"), help=BASE_HELP)
    base_pose: str | None = option(None, help=BASE_POSE_HELP)


@dataclass
class Replay:
    """Recorded states to show: `states` (T+1) in canonical order, `dt` s between them, `label` for
    the one line printed."""

    states: list[State]
    dt: float
    label: str
    source: dict[str, Any] = field(default_factory=dict)

    def index_at(self, t: float) -> int:
        """The state shown `t` s after the start: k = floor(t / dt), in a loop with a HOLD_S pause on the
        last state."""
        n = len(self.states)
        period = n * self.dt + HOLD_S
        k = int(math.floor((t % period) / self.dt))
        return min(k, n - 1)


# -- display ---------------------------------------------------------------------------------------------
def display_problem(engine: str, env: dict[str, str] | None = None) -> str | None:
    """Why `engine`'s GUI cannot open here (one line ending in what to do), or None when a display is
    reachable. X11 is probed with XOpenDisplay (libX11) when DISPLAY is set: PyBullet would end the
    process on a display that does not answer."""
    env = dict(os.environ if env is None else env)
    display, wayland = env.get("DISPLAY", ""), env.get("WAYLAND_DISPLAY", "")
    gui = GUI_NAMES.get(engine, engine)
    if not display and not (wayland and engine == "mujoco"):
        why = ("only WAYLAND_DISPLAY is set and it needs X11 (DISPLAY; XWayland provides one)" if wayland
               else "no display: DISPLAY and WAYLAND_DISPLAY are unset")
        return f"simmatch view: {gui} cannot open: {why}; {WHAT_TO_DO}"
    if display:
        reason = _x11_unreachable(display)
        if reason:
            return f"simmatch view: {gui} cannot open: {reason}; {WHAT_TO_DO}"
    return None


def _x11_unreachable(display: str) -> str | None:
    """None when the X server `display` answers (or libX11 is not there to ask), else why not."""
    name = ctypes.util.find_library("X11")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.XOpenDisplay.restype = ctypes.c_void_p
    lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    handle = lib.XOpenDisplay(display.encode())
    if not handle:
        return f"the X display DISPLAY={display} cannot be opened (no X server there, or access refused)"
    lib.XCloseDisplay(handle)
    return None


# -- replay files ----------------------------------------------------------------------------------------
def _side_from_report(npz: Path, engine: str) -> str | None:
    """'src' or 'dst': the side of the gap run (gap.json beside the .npz) that ran in `engine`."""
    try:
        report = json.loads((npz.parent / "gap.json").read_text())
    except (OSError, ValueError):
        return None
    for side in ("src", "dst"):
        label = str(report.get(side, ""))
        if label.split(":")[0] == engine:
            return side
    return None


def load_replay(path: Path, model: RobotModel, engine: str, side: str = "auto", episode: int = 0) -> Replay:
    """The recorded states of `side` ('src', 'dst' or 'auto') in episode `episode` of a gap `.npz`.

    Raises UsageError (one line naming the file and the problem) for a missing or damaged file, one
    without that episode or side, or states of another model (DoF, floating base)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--replay {path}: no such file (a gap report's <scenario>.npz)")
    chosen = side if side != "auto" else (_side_from_report(path, engine) or "src")
    pre = f"ep{episode}_{chosen}"
    try:
        with np.load(path, allow_pickle=False) as z:
            files = set(z.files)
            if f"{pre}_q" not in files:
                eps = sorted({k.split("_")[0] for k in files if k.startswith("ep") and k.endswith("_src_q")})
                what = (f"no episode {episode} (it holds {', '.join(eps)})" if eps
                        else "no recorded states (ep0_src_q): not a gap report's scenario file")
                raise UsageError(f"--replay {path}: {what}")
            q = np.asarray(z[f"{pre}_q"], dtype=float)
            root_pos = np.asarray(z[f"{pre}_root_pos"], dtype=float) if f"{pre}_root_pos" in files else None
            root_quat = np.asarray(z[f"{pre}_root_quat"], dtype=float) if f"{pre}_root_quat" in files else None
            t = np.asarray(z["time"], dtype=float) if "time" in files else None
    except UsageError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise UsageError(f"--replay {path}: not a readable .npz ({' '.join(str(exc).split()) or type(exc).__name__})") from None
    if q.ndim != 2 or q.shape[0] < 1 or q.shape[1] != model.dof:
        raise UsageError(f"--replay {path}: {pre}_q holds states of {q.shape[-1] if q.ndim == 2 else '?'} DoF, "
                         f"{model.name} has {model.dof}: a recording of another model")
    if model.floating != (root_pos is not None and root_quat is not None):
        raise UsageError(f"--replay {path}: recorded with a {'floating' if root_pos is not None else 'fixed'} base, "
                         f"{model.name} is loaded with a {'floating' if model.floating else 'fixed'} one (--base)")
    keep = np.all(np.isfinite(q), axis=1)
    if root_pos is not None and root_quat is not None:
        keep &= np.all(np.isfinite(root_pos), axis=1) & np.all(np.isfinite(root_quat), axis=1)
    n = int(np.argmin(keep)) if not keep.all() else len(q)  # up to the first non-finite state (a blow-up)
    if n == 0:
        raise UsageError(f"--replay {path}: the first recorded state is not finite")
    dt = float(t[1] - t[0]) if t is not None and len(t) > 1 and t[1] > t[0] else 0.002
    zeros = np.zeros(model.dof)
    states = []
    for k in range(n):
        if root_pos is not None and root_quat is not None:
            states.append(State(q[k], zeros, root_pos[k], root_quat[k], np.zeros(3), np.zeros(3)))
        else:
            states.append(State(q[k], zeros))
    return Replay(states, dt, f"{path.name}, episode {episode}, {chosen}: {n} states at {1 / dt:.0f} Hz "
                              f"({n * dt:.2f} s)", {"side": chosen, "episode": episode})


# -- the viewers (each runs in the child process) ---------------------------------------------------------
def _clock(seconds: float | None) -> tuple[float, float]:
    return time.monotonic(), math.inf if seconds is None else float(seconds)


def _camera(backend: Any) -> tuple[np.ndarray, float]:
    """Where to look (world m) and from how far: the middle of the link origins and their spread."""
    frames = backend.link_frames()
    pts = np.array([T[:3, 3] for T in frames.values()]) if frames else np.zeros((1, 3))
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2
    extent = float(np.max(pts.max(axis=0) - pts.min(axis=0))) if len(pts) > 1 else 0.5
    return centre, max(1.0, 2.2 * extent)


def _bullet(backend: Any, replay: Replay | None, seconds: float | None) -> dict[str, Any]:
    import pybullet as p

    c = backend.cid
    target, dist = _camera(backend)
    p.configureDebugVisualizer(p.COV_ENABLE_GUI, 0, physicsClientId=c)
    p.configureDebugVisualizer(p.COV_ENABLE_RENDERING, 1, physicsClientId=c)
    p.resetDebugVisualizerCamera(dist, 30.0, -20.0, target.tolist(), physicsClientId=c)
    start, limit = _clock(seconds)
    frames = 0
    closed_by = "timer"
    while time.monotonic() - start < limit:
        if not p.isConnected(c):
            closed_by = "window"
            break
        if replay is not None:
            try:
                _bullet_pose(p, backend, replay.states[replay.index_at(time.monotonic() - start)])
            except p.error:  # the window was closed meanwhile
                closed_by = "window"
                break
        frames += 1
        time.sleep(FRAME_S)
    return {"frames": frames, "closed_by": closed_by}


def _bullet_pose(p: Any, backend: Any, state: State) -> None:
    """Pose the PyBullet build at `state` in two calls (Backend.set_state resets joint by joint: in a GUI
    connection each call waits for a frame of the GUI thread, a few poses a second)."""
    c, body = backend.cid, backend.body
    if backend.jidx:
        p.resetJointStatesMultiDof(body, list(backend.jidx), [[float(x)] for x in state.q],
                                   [[0.0] for _ in state.q], physicsClientId=c)
    if state.floating and state.root_pos is not None and state.root_quat is not None:
        from scipy.spatial.transform import Rotation

        # PyBullet places a base by its inertial frame: root frame x local inertial frame (as the backend)
        info = p.getDynamicsInfo(body, -1, physicsClientId=c)
        R = Rotation.from_quat(state.root_quat)
        com = np.asarray(state.root_pos) + R.apply(np.asarray(info[3]))
        orn = (R * Rotation.from_quat(info[4])).as_quat()
        p.resetBasePositionAndOrientation(body, com.tolist(), orn.tolist(), physicsClientId=c)


def _mujoco(backend: Any, replay: Replay | None, seconds: float | None) -> dict[str, Any]:
    import mujoco.viewer

    m, d = backend.m, backend.d
    # the matched build has no light: a brighter headlight (drawing only, no physics)
    m.vis.headlight.ambient[:] = 0.35
    m.vis.headlight.diffuse[:] = 0.75
    viewer = mujoco.viewer.launch_passive(m, d, show_left_ui=False, show_right_ui=False)
    target, dist = _camera(backend)
    with viewer.lock():
        viewer.cam.lookat[:] = target
        viewer.cam.distance = dist
        viewer.cam.azimuth, viewer.cam.elevation = 120.0, -20.0
    start, limit = _clock(seconds)
    frames = 0
    closed_by = "timer"
    while time.monotonic() - start < limit:
        if not viewer.is_running():
            closed_by = "window"
            break
        if replay is not None:
            with viewer.lock():
                backend.set_state(replay.states[replay.index_at(time.monotonic() - start)])  # mj_forward too
        viewer.sync()
        frames += 1
        time.sleep(FRAME_S)
    viewer.close()
    time.sleep(0.3)  # the render thread notices the exit request and lets the window go
    return {"frames": frames, "closed_by": closed_by}


def _dart(backend: Any, replay: Replay | None, seconds: float | None) -> dict[str, Any]:
    import dartpy as dart

    # the backend's shapes collide but are not drawn: draw what DART holds (its collision shapes)
    floor = getattr(backend, "floor", None)
    if floor is not None:
        for node in floor.getBodyNode(0).getShapeNodes():
            node.createVisualAspect().setColor([0.78, 0.78, 0.74])
    skel = getattr(backend, "skel", None)
    if skel is not None:
        for i in range(skel.getNumBodyNodes()):
            for node in skel.getBodyNode(i).getShapeNodes():
                if node.getVisualAspect() is None:
                    node.createVisualAspect().setColor(_PALETTE[i % len(_PALETTE)])
    start, limit = _clock(seconds)
    counter = {"frames": 0}

    class Node(dart.gui.osg.WorldNode):  # type: ignore[misc]  # dartpy has no types
        def customPreRefresh(self) -> None:
            counter["frames"] += 1
            if replay is not None:
                backend.set_state(replay.states[replay.index_at(time.monotonic() - start)])

    node = Node(backend.world)
    viewer = dart.gui.osg.Viewer()
    viewer.addWorldNode(node)
    viewer.setUpViewInWindow(40, 40, 1024, 768)
    target, dist = _camera(backend)
    eye = target + dist * np.array([0.8, -0.55, 0.35])
    viewer.setCameraHomePosition(eye.tolist(), target.tolist(), [0.0, 0.0, 1.0])
    viewer.frame()  # the first frame sets the camera from the scene's bounds: the home position again
    viewer.setCameraHomePosition(eye.tolist(), target.tolist(), [0.0, 0.0, 1.0])
    if seconds is None:
        viewer.run()  # until the window is closed (or Escape)
        return {"frames": counter["frames"], "closed_by": "window"}
    while time.monotonic() - start < limit:
        viewer.frame()
        time.sleep(FRAME_S)
    return {"frames": counter["frames"], "closed_by": "timer"}


_VIEW = {"bullet": _bullet, "mujoco": _mujoco, "dart": _dart}
_PALETTE = ([0.85, 0.33, 0.10], [0.13, 0.47, 0.71], [0.17, 0.63, 0.17], [0.58, 0.40, 0.74], [0.89, 0.47, 0.76],
            [0.74, 0.74, 0.13])


def _gui_backend(engine: str, model: RobotModel, load: str) -> Any:
    """The backend's own build of `model` (matched or native), in a GUI connection for PyBullet."""
    from .backends import backend_class

    cls = backend_class(engine)
    if engine == "bullet":
        import pybullet as p

        class BulletGui(cls):  # type: ignore[misc, valid-type]
            """The same build in a GUI connection (PyBullet draws what its physics server holds)."""

            def _connect(self) -> int:
                cid = int(p.connect(p.GUI))
                if cid >= 0:  # no drawing while the build loads (each call would wait for a frame)
                    p.configureDebugVisualizer(p.COV_ENABLE_RENDERING, 0, physicsClientId=cid)
                return cid

        cls = BulletGui
    return cls(model, None, load)


def _show(engine: str, model: RobotModel, load: str, replay: Replay | None, seconds: float | None,
          log: str) -> dict[str, Any]:
    """In the child: the engines' C output goes to `log` (PyBullet's GUI prints its GL setup), the
    window opens, and the numbers of the session come back."""
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    backend = _gui_backend(engine, model, load)
    if replay is not None:
        backend.set_state(replay.states[0])
    result = _VIEW[engine](backend, replay, seconds)
    backend.close()  # PyBullet's: only if the window (its connection) is still there
    return result


def _last_line(path: str) -> str:
    try:
        lines = [" ".join(x.split()) for x in Path(path).read_text(errors="replace").splitlines()]
    except OSError:
        return ""
    lines = [x for x in lines if x]
    for x in reversed(lines):
        low = x.lower()
        if any(w in low for w in ("cannot", "error", "fail", "unable", "could not")):
            return x
    return lines[-1] if lines else ""


def view(cfg: ViewConfig, model: RobotModel, replay: Replay | None) -> dict[str, Any]:
    """Open `cfg.engine`'s GUI on `model` (replaying `replay` if given) in a child process and wait until
    the window is closed or `cfg.seconds` have passed. Returns {'frames', 'closed_by', 'seconds'}.
    Raises ViewUnavailable when there is no display or the GUI cannot open, SimmatchError (one line)
    when the engine refuses the model, ViewBug for a bug in the child."""
    from .isolation import run_isolated

    problem = display_problem(cfg.engine)
    if problem:
        raise ViewUnavailable(problem)
    fd, log = tempfile.mkstemp(prefix="simmatch-view-", suffix=".log")
    os.close(fd)
    try:
        t0 = time.monotonic()
        outcome = run_isolated(_show, cfg.engine, model, cfg.load, replay, cfg.seconds, log)
        if outcome.ok:
            return {**outcome.value, "seconds": round(time.monotonic() - t0, 2)}
        if outcome.detail:  # a bug (a Python exception that is no SimmatchError)
            raise ViewBug(f"view {cfg.engine}: {outcome.error}", outcome.detail)
        if outcome.crashed:
            said = _last_line(log)
            raise ViewUnavailable(f"simmatch view: {GUI_NAMES[cfg.engine]} could not open on DISPLAY="
                                  f"{os.environ.get('DISPLAY', '')} ({outcome.error}"
                                  f"{'; it said: ' + said if said else ''}); {WHAT_TO_DO}")
        raise SimmatchError(outcome.error)
    finally:
        Path(log).unlink(missing_ok=True)
