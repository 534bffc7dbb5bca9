"""Outputs scripts can trust: nothing half-written, never invalid JSON, exit codes that mean one thing.

Kills (SIGINT, SIGTERM, SIGKILL) during report writing, a full disk (a small tmpfs when this runs as
root, a writer that fails with ENOSPC otherwise), a read-only folder, truncated or empty files
simmatch wrote earlier, planted NaN and a real engine blow-up, file modes, exit codes 2/70/130/143.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from simmatch import outputs
from simmatch.cli.app import main
from simmatch.outputs import CorruptFile, dumps_json, model_label, verify_folder

ASSETS = Path(__file__).resolve().parent.parent / "assets"
GAP = ["gap", "--model", "pendulum", "--src", "mujoco", "--dst", "bullet", "--horizon", "20", "--no-plots", "-q"]
CHECK = ["check", "pendulum", "--engines", "mujoco", "--load", "matched", "-n", "1"]


def strict_json(text: str):
    """json.loads that refuses NaN / Infinity (Python's json accepts them by default)."""
    def bad(token):
        raise ValueError(f"non-standard JSON constant {token}")

    return json.loads(text, parse_constant=bad)


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _can_mount() -> bool:
    return os.geteuid() == 0 and bool(shutil.which("mount"))


@contextlib.contextmanager
def tmpfs(path: Path, *opts: str):
    """A small tmpfs at `path` (root only); pytest.skip where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(opts), "tmpfs", str(path)], capture_output=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {p.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


# -- the atomic writer --------------------------------------------------------------------------
@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_files_get_the_usual_mode_honouring_umask(tmp_path, mask, mode):
    with umask(mask):
        p = outputs.write_text(tmp_path / "a.json", "{}")
    assert stat.S_IMODE(p.stat().st_mode) == mode


def test_report_files_are_0644_and_the_folder_0755(tmp_path, capsys):
    with umask(0o022):
        assert main(CHECK + ["--out", str(tmp_path / "r")]) == 0
    assert stat.S_IMODE((tmp_path / "r").stat().st_mode) == 0o755
    for p in (tmp_path / "r").iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p.name
    assert verify_folder(tmp_path / "r") == []


def test_an_error_while_writing_leaves_the_old_file_and_no_temporary(tmp_path):
    p = outputs.write_text(tmp_path / "x.txt", "old")
    with pytest.raises(RuntimeError), outputs.atomic_file(p, "w") as f:
        f.write("new, half")
        raise RuntimeError("boom")
    assert p.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_stale_temporaries_of_a_dead_process_are_swept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    (tmp_path / f".r.tmp-{dead}-abc").mkdir()
    (tmp_path / f".x.json.tmp-{dead}-def").write_text("half")
    alive = tmp_path / f".y.json.tmp-{os.getpid()}-ghi"
    alive.write_text("being written")
    removed = outputs.sweep_stale(tmp_path)
    assert sorted(p.name for p in removed) == [f".r.tmp-{dead}-abc", f".x.json.tmp-{dead}-def"]
    assert alive.exists()


# -- JSON ---------------------------------------------------------------------------------------
def test_json_never_holds_nan_or_infinity():
    obj = {"a": float("nan"), "b": [1.0, float("inf"), np.float64("-inf")], "c": np.array([0.5, np.nan]),
           "d": {"e": np.int64(3)}}
    d = strict_json(dumps_json(obj))
    assert d["a"] is None and d["b"] == [1.0, None, None] and d["c"] == [0.5, None] and d["d"]["e"] == 3
    assert d["non_finite"]["count"] == 4
    assert set(d["non_finite"]["paths"]) == {"$.a=NaN", "$.b[1]=Infinity", "$.b[2]=-Infinity", "$.c[1]=NaN"}
    assert "null" in d["non_finite"]["why"]
    assert "non_finite" not in strict_json(dumps_json({"a": 1.0}))


def test_gap_json_with_a_planted_nan_is_valid_on_stdout_and_on_disk(tmp_path, monkeypatch, capsys):
    import simmatch.gap.run as gap_mod

    real = gap_mod.summarize

    def planted(*a, **kw):
        d = real(*a, **kw)
        d["gt_open_loop"]["max"] = float("inf")
        d["per_step"]["gt_open_loop"][3] = float("nan")
        return d

    monkeypatch.setattr(gap_mod, "summarize", planted)  # the engines run in a fork: it inherits this
    rc = main(GAP + ["-s", "drop", "--json", "--out", str(tmp_path / "g")])
    assert rc == 0
    for text in (capsys.readouterr().out, (tmp_path / "g" / "gap.json").read_text()):
        d = strict_json(text)
        assert d["scenarios"]["drop"]["gt_open_loop"]["max"] is None
        assert d["scenarios"]["drop"]["per_step"]["gt_open_loop"][3] is None
        assert d["non_finite"]["count"] == 2
        assert "$.scenarios.drop.gt_open_loop.max=Infinity" in d["non_finite"]["paths"]


def test_gap_json_when_an_engine_blows_up(capsys):
    """laikago, sine torques at 0.5 x effort: MuJoCo blows up within 100 steps (step 87 since its
    all-zero tensors take the collision shapes' inertia). The gap is measured where both engines ran,
    up to the last physically meaningful state (the states just before MuJoCo's reset already fly:
    `simmatch.gap.physical`), the blow-up is reported, and stdout is strict JSON."""
    rc = main(["gap", "--model", "laikago", "--src", "bullet", "--dst", "mujoco", "-s", "sine",
               "--torque-scale", "0.5", "--horizon", "100", "--json", "--no-report", "-q"])
    assert rc == 0
    d = strict_json(capsys.readouterr().out)
    s = d["scenarios"]["sine"]
    blew = s["unstable"][0]["dst"]
    assert 0 < blew < 100 and s["steps"] == s["measured_until"][0]["step"] <= blew
    assert s["divergence"]["step"] is not None and s["divergence"]["step"] <= blew
    assert all(v is not None and np.isfinite(v) for v in s["per_step"]["gt_open_loop"])


# -- --out checked before any computation --------------------------------------------------------
def _no_work(monkeypatch):
    """Make any computation fail loudly: a rejected --out must stop the command before it."""
    import simmatch.compare.run as run_mod
    import simmatch.gap.run as gap_mod

    def boom(*a, **kw):
        raise AssertionError("computation started before --out was checked")

    monkeypatch.setattr(run_mod, "run_check", boom)
    monkeypatch.setattr(gap_mod, "run_gap", boom)


@pytest.mark.parametrize("cmd", [CHECK, GAP + ["-s", "drop"]])
def test_out_that_is_a_file_is_one_line_exit_2(cmd, tmp_path, monkeypatch, capsys):
    _no_work(monkeypatch)
    f = tmp_path / "file"
    f.write_text("mine")
    for out in (f, f / "sub"):
        assert main(cmd + ["--out", str(out)]) == 2
        err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
        assert len(err) == 1 and str(f) in err[0] and "Traceback" not in err[0]
    assert f.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_out_holding_someone_elses_files_is_never_replaced(tmp_path, monkeypatch, capsys):
    _no_work(monkeypatch)
    (tmp_path / "notes.txt").write_text("mine")
    assert main(CHECK + ["--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "notes.txt" in err and "did not write" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    for out in (".", ".."):  # the current folder (even empty) or one above it is never swapped away
        assert main(CHECK + ["--out", out]) == 2
        assert "current folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "notes.txt"]


def test_out_through_a_symlink_replaces_the_folder_it_points_to(tmp_path, capsys):
    real, link = tmp_path / "real", tmp_path / "link"
    assert main(CHECK + ["--out", str(real)]) == 0
    link.symlink_to(real)
    assert main(CHECK + ["--out", str(link), "--seed", "1"]) == 0
    assert link.is_symlink() and verify_folder(real) == [] and leftovers(tmp_path) == []
    assert strict_json((real / "check.json").read_text())["config"]["check"]["seed"] == 1


@pytest.mark.parametrize("cmd", [CHECK, GAP + ["-s", "drop"]])
def test_read_only_folder_is_one_line_exit_2_nothing_left(cmd, tmp_path, monkeypatch, capsys):
    _no_work(monkeypatch)
    ro = tmp_path / "ro"
    if os.geteuid() == 0:
        ctx = tmpfs(ro, "ro", "size=64k")
    else:
        ro.mkdir()
        ro.chmod(0o555)
        ctx = contextlib.nullcontext(ro)
    with ctx:
        assert main(cmd + ["--out", str(ro / "a" / "b")]) == 2
        err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
        assert len(err) == 1 and "cannot write" in err[0] and str(ro) in err[0]
        assert list(ro.iterdir()) == []


def test_learn_dyn_and_train_policy_check_out_first(tmp_path, capsys):
    pytest.importorskip("torch")
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["learn-dyn", "--out", str(f)]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["train-policy", "--out", str(tmp_path)]) == 2  # a policy folder, but it holds 'file'
    assert "holds 'file'" in capsys.readouterr().err
    assert main(["train-policy", "--out", str(f / "p.zip")]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


# -- a full disk --------------------------------------------------------------------------------
def _full_disk_keeps_the_old_report(folder: Path, capsys) -> None:
    before = snapshot(folder)
    rc = main(CHECK + ["--random-q", "3", "--out", str(folder)])
    err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
    assert rc == 2
    assert len(err) == 1 and "No space left on device" in err[0] and "half-written" in err[0]
    assert snapshot(folder) == before and verify_folder(folder) == []
    assert leftovers(folder.parent) == []


def test_full_disk_tmpfs(tmp_path, capsys):
    if not _can_mount():
        pytest.skip("needs root to mount a tmpfs (test_full_disk_patched_writer covers the rest)")
    with tmpfs(tmp_path / "disk", "size=64k") as disk:
        folder = disk / "r"
        assert main(CHECK + ["--out", str(folder)]) == 0
        free = shutil.disk_usage(disk).free
        (disk / "filler").write_bytes(b"\0" * max(0, free - 2048))  # ~2 kB left: check.json does not fit
        _full_disk_keeps_the_old_report(folder, capsys)


def test_full_disk_patched_writer(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "r"
    assert main(CHECK + ["--out", str(folder)]) == 0
    real = os.fdopen

    class Full:
        def __init__(self, fh):
            self.fh, self.budget = fh, 1000

        def write(self, data):
            self.budget -= len(data)
            if self.budget < 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.fh.write(data)

        def __getattr__(self, name):
            return getattr(self.fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    monkeypatch.setattr(outputs, "_fdopen", lambda *a, **kw: Full(real(*a, **kw)))
    _full_disk_keeps_the_old_report(folder, capsys)


# -- kills during report writing ----------------------------------------------------------------
DRIVER = """
import os, sys, time
import simmatch.gap.report as rg
real = rg.write_text
def slow(path, text):
    out = real(path, text)
    if os.path.basename(str(path)) == "gap.json":
        sys.stderr.write("WRITING-REPORT\\n"); sys.stderr.flush()
        time.sleep(120)
    return out
rg.write_text = slow
from simmatch.cli.app import run
sys.argv = ["simmatch"] + sys.argv[1:]
run()
"""


def _start_and_wait_for_writing(tmp_path: Path, args: list[str]) -> subprocess.Popen:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    p = subprocess.Popen([sys.executable, str(driver), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    deadline = time.time() + 120
    seen = ""
    while time.time() < deadline:
        r, _, _ = select.select([p.stderr], [], [], 1.0)
        if r:
            line = p.stderr.readline()
            seen += line
            if "WRITING-REPORT" in line:
                return p
            if not line and p.poll() is not None:
                break
    p.kill()
    raise AssertionError(f"the report writing never started: {seen}")


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_during_report_writing_leaves_the_older_report_whole(tmp_path, sig, code, capsys):
    out = tmp_path / "g"
    assert main(GAP + ["-s", "drop", "-s", "sine", "--out", str(out)]) == 0  # the older run: drop and sine
    before = snapshot(out)
    p = _start_and_wait_for_writing(tmp_path, GAP + ["-s", "drop", "--seed", "1", "--out", str(out)])
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == code
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and "half-written" in lines[0] and "Traceback" not in err
    assert snapshot(out) == before and verify_folder(out) == []  # the older report, whole and alone
    assert leftovers(tmp_path) == []


def test_sigkill_during_report_writing_never_mixes_and_the_next_run_cleans_up(tmp_path, capsys):
    out = tmp_path / "g"
    assert main(GAP + ["-s", "drop", "-s", "sine", "--out", str(out)]) == 0
    before = snapshot(out)
    p = _start_and_wait_for_writing(tmp_path, GAP + ["-s", "drop", "--seed", "1", "--out", str(out)])
    p.kill()
    p.wait(timeout=30)
    assert snapshot(out) == before and verify_folder(out) == []
    assert len(leftovers(tmp_path)) == 1  # the killed run's hidden staging folder, beside, never inside
    assert main(GAP + ["-s", "drop", "--seed", "1", "--out", str(out)]) == 0
    assert sorted(snapshot(out)) == ["drop.npz", "gap.html", "gap.json", "gap.md", "manifest.json"]  # no sine.npz left
    assert verify_folder(out) == [] and leftovers(tmp_path) == []
    assert strict_json((out / "gap.json").read_text())["options"]["seed"] == 1


# -- exit codes ---------------------------------------------------------------------------------
def _crash_file(err: str) -> Path:
    line = [l for l in err.splitlines() if l.strip()]
    assert len(line) == 1 and "bug" in line[0], err
    name = line[0].rsplit("full traceback in ", 1)[1].strip()
    assert Path(name).parent == Path(__import__("tempfile").gettempdir())
    assert Path(name).name.startswith("simmatch-crash-")
    return Path(name)


def test_internal_error_is_exit_70_with_the_traceback_in_a_file(tmp_path, monkeypatch, capsys):
    import simmatch.compare.run as run_mod

    def bug(*a, **kw):
        raise ZeroDivisionError("planted bug")

    monkeypatch.setattr(run_mod, "run_check", bug)
    assert main(CHECK + ["--out", str(tmp_path / "r")]) == 70
    f = _crash_file(capsys.readouterr().err)
    text = f.read_text()
    assert "Traceback" in text and "ZeroDivisionError: planted bug" in text and "def bug" not in text
    f.unlink()
    assert not (tmp_path / "r").exists()


def test_internal_error_in_the_engine_process_is_exit_70(tmp_path, monkeypatch, capsys):
    import simmatch.gap.run as gap_mod

    def bug(*a, **kw):
        raise KeyError("planted bug in the child")

    monkeypatch.setattr(gap_mod, "run_gap", bug)
    assert main(GAP + ["-s", "drop", "--out", str(tmp_path / "g")]) == 70
    f = _crash_file(capsys.readouterr().err)
    assert "planted bug in the child" in f.read_text() and "Traceback" in f.read_text()
    f.unlink()
    assert not (tmp_path / "g").exists()


def test_findings_exit_1_and_usage_exit_2(tmp_path, capsys):
    assert main(["check", "double-pendulum", "--engines", "dart", "--load", "native", "-n", "1", "--no-report",
                 "--fail-on", "warning"]) == 1
    assert main(["check", "pendulum", "--engines", "nope", "--no-report"]) == 2


# -- report folder names ------------------------------------------------------------------------
def test_two_files_with_one_name_get_two_report_folders(tmp_path, monkeypatch, capsys):
    a, b = tmp_path / "a" / "model.urdf", tmp_path / "b" / "model.urdf"
    for p in (a, b):
        p.parent.mkdir()
        shutil.copy(ASSETS / "pendulum.urdf", p)
    assert model_label("hopper") == "hopper"
    la, lb = model_label(str(a)), model_label(str(b))
    assert la != lb and la.startswith("model-") and len(la) == len("model-") + 8
    monkeypatch.chdir(tmp_path / "a")
    assert model_label("model.urdf") == la  # the same file by another spelling: the same folder
    monkeypatch.chdir(tmp_path)
    for p in (a, b):
        assert main(["check", str(p), "--engines", "mujoco", "--load", "matched", "-n", "1"]) == 0
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == sorted([f"check_{la}", f"check_{lb}"])
    for lab, p in ((la, a), (lb, b)):
        assert str(p) in strict_json((tmp_path / "reports" / f"check_{lab}" / "check.json").read_text())["model"][
            "source"]


# -- files simmatch wrote earlier, damaged --------------------------------------------------------
def _damaged(tmp_path: Path, good: Path) -> list[Path]:
    data = good.read_bytes()
    empty, half, junk = tmp_path / "empty.npz", tmp_path / "half.npz", tmp_path / "junk.npz"
    empty.write_bytes(b"")
    half.write_bytes(data[: len(data) // 2])
    junk.write_bytes(b"not a zip at all")
    return [empty, half, junk]


def test_damaged_dataset_is_named_in_one_line(tmp_path):
    from simmatch.gail.dataset import Dataset, Trajectory

    good = Dataset([Trajectory(np.zeros((3, 4)), np.zeros((2, 1)))], {"k": 1}).save(tmp_path / "good.npz")
    for bad in _damaged(tmp_path, good):
        with pytest.raises(CorruptFile) as e:
            Dataset.load(bad)
        assert str(bad) in str(e.value) and "\n" not in str(e.value)
    np.savez(tmp_path / "other.npz", x=np.zeros(2))
    with pytest.raises(CorruptFile, match="not a simmatch dataset"):
        Dataset.load(tmp_path / "other.npz")


def test_learn_dyn_refuses_a_damaged_dataset_and_config_in_one_line(tmp_path, capsys):
    pytest.importorskip("torch")
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    assert main(["learn-dyn", "--dataset", str(empty), "--out", str(tmp_path / "r")]) == 2
    err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
    assert len(err) == 1 and "empty.npz" in err[0] and "empty file" in err[0]
    assert not (tmp_path / "r").exists()  # refused before the run folder was made
    assert main(["learn-dyn", "--policy", str(empty), "--out", str(tmp_path / "r")]) == 2
    err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
    assert len(err) == 1 and "empty.npz" in err[0] and "policy zip" in err[0]
    assert not (tmp_path / "r").exists()
    assert main(["learn-dyn", "--model", str(tmp_path / "nope.urdf"), "--out", str(tmp_path / "r")]) == 2
    assert not (tmp_path / "r").exists()
    capsys.readouterr()
    (tmp_path / "r").mkdir()
    cfg = tmp_path / "r" / "config.json"
    cfg.write_text('{"model": "hopper", "src": "bul')  # truncated
    assert main(["learn-dyn", "--resume", "--out", str(tmp_path / "r")]) == 2
    err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
    assert len(err) == 1 and str(cfg) in err[0] and "without --resume" in err[0]


def test_damaged_run_dataset_is_collected_again(tmp_path):
    from simmatch.gail.behavior import SineBehaviour
    from simmatch.gail.config import LearnDynConfig
    from simmatch.gail.pipeline import target_dataset
    from simmatch.gail.run_folder import RunFolder
    from simmatch.registry import load_model

    cfg = LearnDynConfig(dst="bullet:low-power", n_traj=2, max_steps=5)
    model = load_model("hopper")
    run = RunFolder(tmp_path, "r")
    run.file("dataset.npz").write_bytes(b"")  # a 0-byte dataset from a killed older version
    logs = []
    ds = target_dataset(cfg, model, SineBehaviour(model), run, logs.append)
    assert len(ds) == 2 and any("empty file" in m and "collecting it again" in m for m in logs)
    assert len(target_dataset(cfg, model, SineBehaviour(model), run, logs.append)) == 2
    assert "reusing" in logs[-1]


@pytest.fixture(scope="module")
def tiny_trainer_setup():
    pytest.importorskip("torch")
    pytest.importorskip("stable_baselines3")
    from simmatch.gail.behavior import SineBehaviour
    from simmatch.gail.config import LearnDynConfig
    from simmatch.gail.dataset import collect
    from simmatch.gail.sim import fell_fn
    from simmatch.registry import load_model
    from simmatch.variants import make_target

    cfg = LearnDynConfig(src="bullet", dst="bullet:low-power", n_traj=4, max_steps=12, n_envs=1, n_steps=16,
                         batch_size=16, n_epochs=1, disc_steps=1, disc_batch=16, pretrain_iters=1, gail_iters=1,
                         ckpt_every=1, eval_every=0, seed=3, select="last")
    model = load_model("hopper")
    b = make_target(cfg.dst, model)
    data = collect(b, model, SineBehaviour(model), cfg.n_traj, cfg.max_steps, cfg.substeps, 0, fell=fell_fn(model))
    b.close()
    return cfg, model, data


def _trainer(setup, root, cfg=None):
    from dataclasses import replace

    from simmatch.gail.behavior import SineBehaviour
    from simmatch.gail.run_folder import RunFolder
    from simmatch.gail.trainer import Trainer

    base, model, data = setup
    return Trainer(replace(base, **(cfg or {})), model, data, data, SineBehaviour(model), RunFolder(root, "r"),
                   log=lambda m: None)


def test_resume_after_a_kill_before_the_first_checkpoint_writes_each_row_once(tiny_trainer_setup, tmp_path):
    t = _trainer(tiny_trainer_setup, tmp_path, {"ckpt_every": 5})
    t.run.log(t.step())  # iteration 1 logged, then killed before any checkpoint
    t.close()
    t = _trainer(tiny_trainer_setup, tmp_path, {"ckpt_every": 5})
    t.train(resume=True)
    t.close()
    assert [int(r["iteration"]) for r in t.run.read_metrics()] == [1, 2]
    assert (t.run.checkpoints / "latest.json").exists()


def test_damaged_checkpoints_are_named_in_one_line(tiny_trainer_setup, tmp_path):
    t = _trainer(tiny_trainer_setup, tmp_path)
    t.train()
    t.close()
    ck = t.run.checkpoints
    assert [int(r["iteration"]) for r in t.run.read_metrics()] == [1, 2]
    for p in ck.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~outputs._umask(), p.name
    latest = (ck / "latest.json").read_text()
    cases = [(ck / "latest.json", latest[: len(latest) // 2]), (ck / "latest.json", ""),
             (ck / "latest.json", '{"iteration": 99}'), (ck / "generator_0002.zip", None),
             (ck / "disc_0002.pt", None)]
    for path, text in cases:
        saved = path.read_bytes()
        path.write_bytes(saved[: len(saved) // 2] if text is None else text.encode())
        r = _trainer(tiny_trainer_setup, tmp_path)
        with pytest.raises(CorruptFile) as e:
            r.train(resume=True)
        r.close()
        assert str(path) in str(e.value) and "without --resume" in str(e.value) and "\n" not in str(e.value)
        path.write_bytes(saved)
    assert [int(r["iteration"]) for r in t.run.read_metrics()] == [1, 2]  # refused runs changed nothing


def test_resume_after_a_kill_between_a_new_best_and_its_checkpoint(tiny_trainer_setup, tmp_path):
    """The best generator is kept per iteration: a run killed after saving a new best but before the
    next checkpoint resumes with the best its checkpoint names, and ends as the uninterrupted run."""
    opts = {"select": "best", "eval_every": 1, "eval_transitions": 20, "ckpt_every": 2, "pretrain_iters": 2,
            "gail_iters": 2}
    full = _trainer(tiny_trainer_setup, tmp_path / "full", opts)
    full.train()
    full.close()
    part = _trainer(tiny_trainer_setup, tmp_path / "part", opts)
    for _ in range(3):  # iterations 1-3; the checkpoint at 2; killed during iteration 4
        part.run.log(part.step())
        if part.iteration % 2 == 0:
            part.save_checkpoint()
    # iteration 3 found a new best (planted: which iteration is best depends on the data), then the kill
    from simmatch.outputs import save_sb3

    save_sb3(part.ppo, part._best_path(3))
    part.close()
    resumed = _trainer(tiny_trainer_setup, tmp_path / "part", opts)
    resumed.load_checkpoint()
    kept = sorted(p.name for p in resumed.run.checkpoints.glob("generator_best_*.zip"))
    assert kept == [f"generator_best_{resumed.best['iteration']:04d}.zip"] and resumed.best["iteration"] <= 2
    assert not resumed._best_path(3).exists()
    resumed.close()
    resumed = _trainer(tiny_trainer_setup, tmp_path / "part", opts)
    resumed.train(resume=True)
    resumed.close()
    assert resumed.selected == full.selected
    assert [r["gt/one_step"] for r in resumed.run.read_metrics()] == [r["gt/one_step"] for r in full.run.read_metrics()]
    for a, b in zip(resumed.ppo.policy.parameters(), full.ppo.policy.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_gap_replay_of_an_empty_or_truncated_npz_is_one_line_exit_2(tmp_path, capsys):
    good = tmp_path / "good.npz"
    np.savez(good, torques=np.zeros((20, 1)))
    for bad in _damaged(tmp_path, good):
        assert main(GAP + ["-s", f"replay={bad}", "--no-report"]) == 2
        err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
        assert len(err) == 1 and bad.name in err[0] and "not a readable .npz" in err[0]


def test_damaged_metrics_csv_is_named_in_one_line(tmp_path):
    from simmatch.gail.run_folder import RunFolder

    run = RunFolder(tmp_path, "r")
    for it in (1, 2):
        run.log({"iteration": it, "stage": "pretrain", "gt/one_step": 0.5 / it})
    text = run.metrics_csv.read_text()
    assert [int(r["iteration"]) for r in run.read_metrics()] == [1, 2]
    run.log({"iteration": 2, "stage": "pretrain", "gt/one_step": 0.1})  # a row written again replaces it
    assert [r["gt/one_step"] for r in run.read_metrics()] == ["0.5", "0.1"]
    run.metrics_csv.write_text(text[: text.rindex(",")])  # the last row cut short
    with pytest.raises(CorruptFile) as e:
        run.read_metrics()
    assert str(run.metrics_csv) in str(e.value) and "\n" not in str(e.value)
    run.truncate_metrics(0)  # starting over removes it whatever its state
    assert not run.metrics_csv.exists()
