"""Rendering (`simmatch.render`): overlay videos (gap --render), the ghost drawn exactly where the
recorded states differ, the renderer fallback when EGL is unavailable, check --render's panels."""

import json
import subprocess
import sys

import numpy as np
import pytest

from simmatch.cli.app import main
from simmatch.model import State
from simmatch.registry import load_model
from simmatch.render.scene import GHOST_RGBAS, draw_frames
from simmatch.render.select import DISABLE_ENV, TINY, render_with_fallback
from simmatch.render.video import frame_steps

pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")


def _read_video(path):
    """(meta: size (w, h), fps, ...; frames (h, w, 3) uint8), decoded by imageio-ffmpeg's ffmpeg."""
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    w, h = meta["size"]
    frames = [np.frombuffer(b, np.uint8).reshape(h, w, 3) for b in gen]
    return meta, frames


def test_frame_steps_show_the_recording_in_real_time():
    # gap: 1000 engine steps at 500 Hz, at most 25 frames/s: every 20th step, 50 frames = 2 s
    ks, fps = frame_steps(1000, 1 / 500, 25)
    assert fps == pytest.approx(25.0) and len(ks) == 50 and ks[:3] == [0, 20, 40] and len(ks) / fps == 2.0
    # learn-dyn: 60 control steps at 50 Hz: one frame per control step
    ks, fps = frame_steps(60, 1 / 50, 50)
    assert fps == pytest.approx(50.0) and ks == list(range(60))
    # a recording slower than the cap: every step, at its own rate
    ks, fps = frame_steps(7, 0.1, 50)
    assert fps == pytest.approx(10.0) and ks == list(range(7))


def test_gap_render_writes_a_real_time_video_and_a_divergence_still(tmp_path, capsys):
    out = tmp_path / "g"
    rc = main(["gap", "double-pendulum", "--src", "bullet", "--dst", "dart", "-s", "sine", "--horizon", "250",
               "--threshold", "1e-4", "--render", "--out", str(out), "-q"])
    assert rc == 0
    gap = json.loads((out / "gap.json").read_text())
    info = gap["notes"]["render"]
    assert info["renderer"] in ("mujoco-egl", "mujoco-osmesa", TINY)
    (v,) = info["videos"]
    assert v["video"] == "render/sine.mp4" and v["still"] == "render/sine_divergence.png"
    meta, frames = _read_video(out / v["video"])
    # 250 steps at 500 Hz = 0.5 s: 12 frames at 25 fps (every 20th step), each 448 x 336
    assert v["frames"] == len(frames) == round(250 / 20) and meta["fps"] == pytest.approx(25.0)
    assert {f.shape for f in frames} == {(336, 448, 3)} and tuple(meta["size"]) == (448, 336)
    assert meta["duration"] == pytest.approx(len(frames) / 25.0, abs=0.05)
    div = gap["scenarios"]["sine"]["divergence"]["step"]
    assert div is not None and v["still_step"] == div and v["still_is"] == "divergence"
    from PIL import Image

    still = np.asarray(Image.open(out / v["still"]))
    assert still.shape == (336, 448, 3) and still.std() > 10  # a picture, not a blank
    assert "render:" in capsys.readouterr().out
    # a second run replaces the report folder (render/ is gap's own)
    assert main(["gap", "pendulum", "-s", "drop", "--horizon", "20", "--out", str(out), "-q"]) == 0
    assert not (out / "render").exists()


def test_render_without_report_is_refused_before_any_work(tmp_path, capsys):
    for cmd in (["gap", "pendulum"], ["check", "pendulum"]):
        rc = main(cmd + ["--render", "--no-report"])
        err = capsys.readouterr().err
        assert rc == 2 and "--render" in err and "--no-report" in err and len(err.strip().splitlines()) == 1


def _pair_frames(env=None, monkeypatch=None):
    """Frames of the double pendulum: single robot; ghost at the same state; ghost with the elbow
    offset by 0.6 rad; single robot at that offset state."""
    model = load_model("double-pendulum")
    s = State(np.array([0.3, 0.2]), np.zeros(2))
    o = State(np.array([0.3, 0.8]), np.zeros(2))  # planted offset on the second joint only
    ghost = GHOST_RGBAS[0]
    r = render_with_fallback(draw_frames, model, [(s, [], None), (s, [(s, ghost)], None), (s, [(o, ghost)], None),
                                                  (o, [], None)])
    return r


def _check_ghost_pixels(frames):
    from scipy.ndimage import binary_dilation

    single, same, offset, moved = (f.astype(int) for f in frames)
    # identical states: exactly the single robot's picture
    np.testing.assert_array_equal(same, single)
    # offset: pixels differ, and only where the second link is in one pose or the other (the region
    # where the single robot's own pictures at the two states differ), never around the first link
    ghost = np.any(offset != single, axis=2)
    link2 = np.any(moved != single, axis=2)
    assert ghost.sum() > 100
    assert not np.any(ghost & ~binary_dilation(link2, iterations=2))
    # the ghost is translucent blue: the differing pixels lean towards blue
    d = offset[ghost] - single[ghost]
    assert d[:, 2].mean() > d[:, 0].mean()


def test_ghost_differs_exactly_where_the_states_differ():
    r = _pair_frames()
    _check_ghost_pixels(r.value)


def test_tinyrenderer_is_used_when_egl_is_disabled(monkeypatch):
    monkeypatch.setenv(DISABLE_ENV, "egl,osmesa")
    monkeypatch.delenv("MUJOCO_GL", raising=False)
    r = _pair_frames()
    assert r.renderer == TINY
    assert [s.split(":")[0] for s in r.skipped] == ["mujoco-egl", "mujoco-osmesa"]
    _check_ghost_pixels(r.value)


def test_fallback_when_the_egl_library_cannot_make_a_display(monkeypatch):
    # a real EGL failure: libglvnd finds no vendor library, so MuJoCo cannot create an EGL display
    monkeypatch.setenv("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/simmatch_no_vendor.json")
    monkeypatch.setenv("MUJOCO_GL", "egl")  # the user's choice is tried (alone), then the TinyRenderer
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    r = _pair_frames()
    assert r.renderer == TINY
    assert len(r.skipped) == 1 and r.skipped[0].startswith("mujoco-egl: ")
    assert {f.shape for f in r.value} == {(336, 448, 3)}


def test_render_off_imports_nothing_of_it(tmp_path):
    code = ("import sys; from simmatch.cli.app import main; "
            f"rc = main(['gap', 'pendulum', '-s', 'drop', '--horizon', '20', '--out', {str(tmp_path / 'g')!r}, '-q']); "
            "assert rc == 0, rc; print([m for m in sys.modules if m.startswith('simmatch.render') or m == 'imageio'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def _panel(img, engine, load, engines=("bullet", "dart", "mujoco"), loads=("native", "matched")):
    from simmatch.render.shapes import PANEL_H, PANEL_W

    x, y = engines.index(engine) * PANEL_W, 34 + loads.index(load) * (48 + PANEL_H) + 48
    return img[y:y + PANEL_H, x:x + PANEL_W].astype(int)


def _count(panel, rgba, tol=40):
    """Pixels of that colour, shaded: its hue kept (channel differences within tol of the colour's)."""
    c = np.array(rgba[:3]) * 255
    diff = panel - panel.mean(axis=2, keepdims=True)
    want = c - c.mean()
    return int(np.sum(np.all(np.abs(diff - want) < tol, axis=2) & (np.ptp(panel, axis=2) > 30)))


def test_check_render_shows_dart_native_without_capsules(tmp_path):
    from PIL import Image

    from simmatch.compare.config import CheckConfig
    from simmatch.render.shapes import COLOURS, PANEL_H, PANEL_W, equivalent_box, render_check, shape_panels

    result = CheckConfig("hopper", random_q=0).run()
    # the shapes each engine read back: DART's importer drops the four capsules, every matched build holds them
    panels = {(p.engine, p.load): p for p in shape_panels(result)}
    assert panels["dart", "native"].counts == {"dropped": 4}
    assert all(s.geometry.kind == "capsule" for s in panels["dart", "native"].shapes)
    for engine in ("bullet", "dart", "mujoco"):
        assert panels[engine, "matched"].counts == {"held": 4}
    # PyBullet's importer recomputes the inertia from the shapes: each link's equivalent box is drawn
    assert panels["bullet", "native"].counts.get("inertia") == 4
    assert panels["mujoco", "native"].error  # MuJoCo's importer refuses the hopper: the panel says why

    info = render_check(result, tmp_path / "render")
    assert info["file"] == "check_shapes.png" and info["renderer"] in ("mujoco-egl", "mujoco-osmesa", TINY)
    img = np.asarray(Image.open(tmp_path / "render" / "check_shapes.png").convert("RGB"))
    assert img.shape[1:] == (3 * PANEL_W, 3) and 34 + 2 * (48 + PANEL_H) < img.shape[0] < 34 + 2 * (48 + PANEL_H) + 120
    red, held = COLOURS["dropped"], COLOURS["held"]
    dart_native = _panel(img, "dart", "native")
    assert _count(dart_native, red) > 200 and _count(dart_native, held) < 20  # outlines where capsules should be
    for engine in ("bullet", "dart", "mujoco"):
        matched = _panel(img, engine, "matched")
        assert _count(matched, held) > 500 and _count(matched, red) < 20  # the four capsules, held

    # the equivalent box of a box's own inertia is that box
    m, a, b, c = 2.0, 0.3, 0.2, 0.1
    inertia = m / 12 * np.diag([b * b + c * c, a * a + c * c, a * a + b * b])
    ext, _ = equivalent_box(m, inertia)
    np.testing.assert_allclose(sorted(ext), sorted([a, b, c]), rtol=1e-9)


def test_check_render_on_the_command_line(tmp_path, capsys):
    out = tmp_path / "c"
    rc = main(["check", "pendulum", "-n", "0", "--engines", "mujoco", "--load", "matched", "--render",
               "--out", str(out)])
    assert rc == 0
    assert f"render: {out / 'render' / 'check_shapes.png'}" in capsys.readouterr().out
    assert (out / "render" / "check_shapes.png").stat().st_size > 1000
    assert json.loads((out / "check.json").read_text())["config"]["check"]["render"] is True


def test_check_render_draws_a_fixed_roots_shapes_in_pybullet(tmp_path):
    """PyBullet reads back no frame for a massless root taken as the world (its base is no link): the
    root's shapes are drawn where the model puts the root (pybullet_data's kuka_iiwa: its base mesh
    was missing from both PyBullet panels, '7 held' against DART's 8)."""
    from simmatch.compare.config import CheckConfig
    from simmatch.render.shapes import shape_panels

    urdf = tmp_path / "arm.urdf"
    urdf.write_text(
        '<robot name="arm"><link name="base"><collision><origin xyz="0 0 0.05"/><geometry><box size="0.2 0.2 0.1"/>'
        '</geometry></collision></link><joint name="j" type="revolute"><parent link="base"/><child link="arm"/>'
        '<origin xyz="0 0 0.1"/><axis xyz="0 1 0"/><limit lower="-1" upper="1" effort="10" velocity="1"/></joint>'
        '<link name="arm"><inertial><mass value="1"/><inertia ixx="0.01" iyy="0.01" izz="0.01" ixy="0" ixz="0" '
        'iyz="0"/></inertial><collision><origin xyz="0 0 0.25"/><geometry><cylinder radius="0.03" length="0.5"/>'
        '</geometry></collision></link></robot>')
    result = CheckConfig(str(urdf), random_q=0, engines=("bullet",)).run()
    assert result.model.base == "fixed"  # auto: the massless root is the world
    panels = {p.load: p for p in shape_panels(result)}
    for load in ("native", "matched"):
        boxes = [s for s in panels[load].shapes if s.geometry.kind == "box" and s.kind == "held"]
        assert len(boxes) == 1, (load, panels[load].counts)
        np.testing.assert_allclose(boxes[0].pose[:3, 3], [0, 0, 0.05], atol=1e-9)
