"""`simmatch sweep` (simmatch.sweep): a collection of models checked each in its own process, locally
and as Ray tasks, into one table (terminal, sweep.json, sweep.csv, sweep.html) and a report folder
per model; resumable after a kill; the task runner on its own (crashes and timeouts are results)."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simmatch.cli.app import main
from simmatch.compare.config import CheckConfig
from simmatch.errors import UsageError
from simmatch.outputs import verify_folder
from simmatch.sweep import Task, discover, run_local, run_sweep
from simmatch.sweep.inputs import parse_options
from simmatch.sweep.run import earlier_row

DATA = Path(__file__).parent / "data"
CLEAN = DATA / "broken" / "clean.urdf"  # an arm: native imports err, matched builds agree
BROKEN = DATA / "bad" / "malformed.urdf"  # not well-formed XML: rejected with one line
PENDULUM_MJCF = """<mujoco model="pend"><compiler angle="radian"/>
<worldbody><body name="pole" pos="0 0 1"><joint name="hinge" type="hinge" axis="0 1 0" range="-1 1" damping="0.1"/>
<geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.03" mass="1"/></body></worldbody></mujoco>
"""


def _collection(tmp_path: Path) -> Path:
    """A list file of three models: the clean arm, a malformed URDF, an MJCF pendulum."""
    (tmp_path / "pend.xml").write_text(PENDULUM_MJCF)
    lst = tmp_path / "models.txt"
    lst.write_text(f"# three models\n{CLEAN} --random-q 2\n\n{BROKEN}   # broken on purpose\n"
                   "pend.xml --random-q 3 --base fixed\n")
    return lst


def _without_timings(path: Path) -> dict:
    doc = json.loads(path.read_text())
    doc.pop("timings")
    return doc


# -- inputs ---------------------------------------------------------------------------------------

def test_folders_lists_and_per_model_options(tmp_path):
    folder = tmp_path / "robots"
    (folder / "sub").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    shutil.copy(CLEAN, folder / "sub" / "arm.urdf")
    (folder / "pend.xml").write_text(PENDULUM_MJCF)
    (folder / "launch.xml").write_text("<launch><node/></launch>")
    (folder / "notes.xml").write_text("just notes, < not XML")
    (folder / "cut.xml").write_text("<robot name='cut'><link name='a'>")  # a URDF cut short: a model (rejected)
    (folder / ".hidden" / "x.urdf").write_text("<robot/>")
    shutil.copy(CLEAN, folder / "urdf_in.xml")  # a URDF in a .xml file
    defaults = CheckConfig(model="", random_q=4, seed=7)
    specs, skipped = discover([str(folder)], defaults)
    assert [Path(s.path).name for s in specs] == ["cut.xml", "pend.xml", "arm.urdf", "urdf_in.xml"]
    assert [s.format for s in specs] == ["urdf", "mjcf", "urdf", "urdf"]
    assert all(s.config.random_q == 4 and s.config.seed == 7 and s.config.model == s.path for s in specs)
    reasons = {Path(k.path).name: k.reason for k in skipped}
    assert set(reasons) == {"launch.xml", "notes.xml"}
    assert "<launch>" in reasons["launch.xml"] and "not well-formed" in reasons["notes.xml"]

    lst = _collection(tmp_path)
    specs, skipped = discover([str(lst)], defaults)
    assert skipped == [] and [Path(s.path).name for s in specs] == ["clean.urdf", "malformed.urdf", "pend.xml"]
    clean, broken, pend = specs
    assert (clean.config.random_q, clean.config.seed, clean.config.base) == (2, 7, "auto")  # line overrides
    assert (broken.config.random_q, broken.args) == (4, ())  # the sweep's defaults
    assert (pend.config.random_q, pend.config.base, pend.args) == (3, "fixed", ("--random-q", "3", "--base", "fixed"))
    assert pend.origin == f"{lst}:5" and pend.path == str((tmp_path / "pend.xml").resolve())
    # one file twice with other options: two models; the same line twice: one
    lst.write_text(f"{CLEAN}\n{CLEAN} --base fixed\n{CLEAN}\n")
    assert len(discover([str(lst)], defaults)[0]) == 2


@pytest.mark.parametrize("line, problem", [
    ("nope.urdf --base fixed", "nope.urdf: no such file"),
    (f"{CLEAN} --base sideways", "--base"),
    (f"{CLEAN} --random-q -3", "--random-q"),
    (f"{CLEAN} --bogus 1", "No such option: --bogus"),
    (f"{CLEAN} --out /tmp/x", "--out is a sweep option"),
    (f"{CLEAN} 'unclosed", "quotation"),
])
def test_bad_list_line_is_one_line_naming_the_line(tmp_path, line, problem, capsys):
    lst = tmp_path / "models.txt"
    lst.write_text(f"# header\n{line}\n")
    with pytest.raises(UsageError) as exc:
        discover([str(lst)], CheckConfig(model=""))
    assert str(exc.value).startswith(f"{lst}:2: ") and problem in str(exc.value)
    out = tmp_path / "out"
    assert main(["sweep", str(lst), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{lst}:2" in err[0] and problem in err[0]
    assert not out.exists()


def test_sweep_level_options_parse_as_checks(tmp_path, capsys):
    cfg = parse_options(["--random-q", "5", "--engines", "bullet,mujoco", "--tol", "mass_rel=1e-3"],
                        CheckConfig(model="M"), "sweep")
    assert (cfg.random_q, cfg.engines, cfg.tol) == (5, ("bullet", "mujoco"), ("mass_rel=1e-3",))
    out = tmp_path / "out"
    assert main(["sweep", str(CLEAN), "--engines", "havok", "--out", str(out)]) == 2
    assert "--engines" in capsys.readouterr().err and not out.exists()
    assert main(["sweep", str(CLEAN), "--fail-on", "fatal", "--out", str(out)]) == 2
    assert main(["sweep", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert not out.exists()
    out.mkdir()
    (out / "thesis.tex").write_text("mine")
    assert main(["sweep", str(CLEAN), "--out", str(out)]) == 2
    assert "thesis.tex" in capsys.readouterr().err and sorted(os.listdir(out)) == ["thesis.tex"]


def test_ray_missing_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    out = tmp_path / "out"
    assert main(["sweep", str(CLEAN), "--ray", "auto", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'simmatch[ray]'" in err[0]
    assert not out.exists()


def test_unreachable_ray_cluster_is_one_line(tmp_path, capsys):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'simmatch[ray]')")
    out = tmp_path / "out"
    for address, problem in (("127.0.0.1:1", "cannot connect"), ("nonsense", "give host:port")):
        assert main(["sweep", str(CLEAN), "--ray", address, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"--ray {address}" in err[0] and problem in err[0]
    assert not out.exists()


# -- the task runner ------------------------------------------------------------------------------

def _square(x: int) -> int:
    return x * x


def _segfault() -> None:
    import faulthandler

    faulthandler.disable()  # pytest's handler would print the child's stack on stderr
    os.kill(os.getpid(), signal.SIGSEGV)


def _sleep_with_child(seconds: float, pidfile: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    Path(pidfile).write_text(str(child.pid))
    time.sleep(seconds)


def _bug() -> None:
    raise ZeroDivisionError("a bug")


def test_pool_crash_and_timeout_are_that_tasks_result(tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    tasks = [Task("sq", _square, (7,)), Task("segv", _segfault), Task("slow", _sleep_with_child, (30, str(pidfile)), 1.0),
             Task("bug", _bug), Task("sq2", _square, (3,))]
    t0 = time.perf_counter()
    got = {r.key: r for r in run_local(tasks, workers=2)}
    assert time.perf_counter() - t0 < 20
    assert got["sq"].outcome.value == 49 and got["sq2"].outcome.value == 9
    assert got["segv"].outcome.crashed and "SIGSEGV" in got["segv"].outcome.error
    assert got["slow"].outcome.crashed and got["slow"].outcome.error == "timed out after 1 s"
    assert got["bug"].outcome.error == "ZeroDivisionError: a bug" and "Traceback" in got["bug"].outcome.detail
    # the timed-out task's own child process went with it (its process group is killed)
    pid = int(pidfile.read_text())
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the timed-out task's child {pid} is still running")


# -- a small sweep, locally and on Ray --------------------------------------------------------------

@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    lst = _collection(tmp)
    out = tmp / "out"
    rc = main(["sweep", str(lst), "--out", str(out), "--workers", "2", "--random-q", "4"])
    return lst, out, rc


def test_local_sweep_writes_the_table_and_a_report_per_model(local_sweep, tmp_path):
    _, out, rc = local_sweep
    assert rc == 1  # the broken file has no report; the arm's native imports have errors
    doc = json.loads((out / "sweep.json").read_text())
    rows = {Path(r["model"]).name: r for r in doc["rows"]}
    assert list(rows) == ["clean.urdf", "malformed.urdf", "pend.xml"]  # the list's order
    clean, broken, pend = rows["clean.urdf"], rows["malformed.urdf"], rows["pend.xml"]
    assert broken["result"] == "rejected" and "malformed.urdf" in broken["message"] and "malformed XML" in broken["message"]
    assert broken["fails"] and broken["files"] == []
    assert clean["result"] == "findings" and clean["dof"] == 3 and clean["base"] == "fixed"
    assert all(clean["sources"][f"{e}/matched"] == {"error": 0, "warning": 0} for e in ("bullet", "dart", "mujoco"))
    assert clean["sources"]["bullet/native"]["error"] > 0 and "bullet_inertia_from_shapes" in clean["causes"]
    assert pend["format"] == "mjcf" and pend["config"]["random_q"] == 3 and pend["base"] == "fixed"
    assert pend["result"] in ("clean", "findings") and pend["dof"] == 1
    s = doc["summary"]
    assert s["models"] == 3 and s["results"]["rejected"] == 1 and s["failing"] >= 2 and s["pending"] == 0
    inertia = next(c for c in s["causes"] if c["cause"] == "bullet_inertia_from_shapes")
    assert inertia["models"] >= 1 and inertia["of"] == 2 and inertia["engine"] == "bullet"
    assert doc["sweep"]["complete"] and doc["sweep"]["check"]["random_q"] == 4
    assert set(doc["timings"]["models"]) == {r["id"] for r in doc["rows"]}
    # each model's folder holds what `simmatch check --out` writes, the same report
    own = tmp_path / "own"
    assert main(["check", str(CLEAN), "--random-q", "2", "--out", str(own)]) == 1
    folder = out / "models" / clean["id"]
    assert json.loads((folder / "check.json").read_text()) == json.loads((own / "check.json").read_text())
    assert (folder / "check.md").read_text() == (own / "check.md").read_text()
    assert not (out / "models" / broken["id"] / "check.json").exists()
    with open(out / "sweep.csv") as fh:
        table = list(csv.DictReader(fh))
    assert [r["result"] for r in table] == ["findings", "rejected", pend["result"]]
    assert table[0]["report"] == f"models/{clean['id']}/check.md" and (out / table[0]["report"]).is_file()
    page = (out / "sweep.html").read_text()
    assert "http://" not in page and "https://" not in page and "<script" not in page and "src=" not in page
    assert f"href='models/{clean['id']}/check.md'" in page and "bullet_inertia_from_shapes" in page


def test_same_inputs_same_sweep_json_and_resume_runs_nothing(local_sweep, capsys):
    lst, out, _ = local_sweep
    before = _without_timings(out / "sweep.json")
    stamps = {p: p.stat().st_mtime_ns for p in (out / "models").glob("*/row.json")}
    assert main(["sweep", str(lst), "--out", str(out), "--workers", "2", "--random-q", "4"]) == 1
    assert "3 have a result from an earlier run, 0 to check" in capsys.readouterr().err
    assert _without_timings(out / "sweep.json") == before
    assert {p: p.stat().st_mtime_ns for p in (out / "models").glob("*/row.json")} == stamps
    runner = json.loads((out / "sweep.json").read_text())["timings"]["runner"]
    assert (runner["ran"], runner["reused"]) == (0, 3)
    # a result counts only for the same check options and the same file content
    specs, _ = discover([str(lst)], CheckConfig(model="", random_q=4))
    assert all(earlier_row(out, s) is not None for s in specs)
    assert earlier_row(out, dataclasses.replace(specs[0], config=dataclasses.replace(specs[0].config, seed=1))) is None
    edited = out.parent / "pend.xml"
    edited.write_text(PENDULUM_MJCF.replace('damping="0.1"', 'damping="0.2"'))
    try:
        assert earlier_row(out, specs[2]) is None
    finally:
        edited.write_text(PENDULUM_MJCF)


def test_ray_sweep_gives_the_same_results(local_sweep, tmp_path):
    """The same sweep as Ray tasks on a local Ray instance (ray.init(num_cpus=2)): the same rows and
    reports, the same sweep.json apart from its timings."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'simmatch[ray]')")
    lst, local_out, _ = local_sweep
    specs, skipped = discover([str(lst)], CheckConfig(model="", random_q=4))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        res = run_sweep(specs, tmp_path / "out", defaults=CheckConfig(model="", random_q=4), skipped=skipped,
                        ray="auto", fail_on="error")
    finally:
        ray.shutdown()
    assert res.doc["timings"]["runner"]["kind"] == "ray" and res.ran == 3
    assert _without_timings(tmp_path / "out" / "sweep.json") == _without_timings(local_out / "sweep.json")
    for row in res.rows:
        for name in row["files"]:
            assert (tmp_path / "out" / "models" / row["id"] / name).read_text() == \
                (local_out / "models" / row["id"] / name).read_text(), (row["id"], name)


def test_killed_sweep_resumes_without_redoing_a_model(tmp_path):
    """SIGKILL the sweep after its first model: the table on disk is whole (or absent), and the
    restart checks only the models that have no result; every model ran once."""
    (tmp_path / "pend.xml").write_text(PENDULUM_MJCF)
    lst = tmp_path / "models.txt"
    lst.write_text(f"{CLEAN}\n{CLEAN} --base floating\npend.xml\n{BROKEN}\n")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "simmatch.cli.app", "sweep", str(lst), "--out", str(out), "--workers", "1",
           "--random-q", "2", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240

    def finished() -> list[Path]:  # a model folder in place (not the hidden folder it is staged in)
        return [p for p in (out / "models").glob("*/row.json") if not p.parent.name.startswith(".")]

    while not finished() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = {p.parent.name: (p.stat().st_ino, p.read_text()) for p in finished()}
    assert 1 <= len(first) < 4, first
    for name in ("sweep.json", "sweep.csv"):  # written whole or not at all
        if (out / name).exists():
            text = (out / name).read_text()
            if name == "sweep.json":
                assert json.loads(text)["summary"]["models"] <= 4
            else:
                assert text.startswith("id,model,")
    for folder in (out / "models").iterdir():  # every model folder whole (its manifest holds)
        if not folder.name.startswith("."):
            assert verify_folder(folder) == [], folder
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["sweep"]["complete"] and len(doc["rows"]) == 4
    runner = doc["timings"]["runner"]
    assert runner["reused"] == len(first) and runner["ran"] == 4 - len(first)
    again = {p.parent.name: (p.stat().st_ino, p.read_text()) for p in finished()}
    assert all(again[k] == v for k, v in first.items())  # the finished models were not written again
    assert len(again) == 4 and not [p for p in (out / "models").iterdir() if p.name.startswith(".")]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium to render the page")
def test_page_renders_in_headless_chromium(local_sweep, tmp_path):
    """The page as a browser draws it: non-blank, with the verdict's and the results' colours."""
    import numpy as np
    from matplotlib.image import imread

    _, out, _ = local_sweep
    png = tmp_path / "sweep.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={png}",
                    "--window-size=1400,1000", (out / "sweep.html").resolve().as_uri()],
                   capture_output=True, timeout=120, cwd=tmp_path)
    img = imread(png)[..., :3]
    assert img.shape[:2] == (1000, 1400)
    assert (img < 0.5).mean() > 0.01  # text drawn
    colours = {tuple(c) for c in np.round(img.reshape(-1, 3) * 255).astype(int)}
    assert (255, 235, 233) in colours  # the red verdict box (.bad: #ffebe9): the broken file fails
    assert len(colours) > 20


def test_sigterm_kills_the_running_checks_and_leaves_a_whole_incomplete_table(tmp_path):
    lst = tmp_path / "models.txt"
    lst.write_text(f"{CLEAN} --random-q 200\n{CLEAN} --random-q 201\n{CLEAN} --random-q 202\n")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "simmatch.cli.app", "sweep", str(lst), "--out", str(out),
                             "--workers", "1", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while not (out / "models").is_dir() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # the first check is running
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "sweep.json" in err
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["sweep"]["complete"] is False and doc["summary"]["pending"] == 3 - len(doc["rows"]) > 0
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    # no check of the sweep is left running (each ran in its own process group, killed with the sweep)
    ps = subprocess.run(["ps", "-eo", "pgid,args"], capture_output=True, text=True).stdout
    assert str(lst) not in ps


def test_an_included_mjcf_fragment_is_not_a_model_of_its_own(tmp_path):
    """A folder's MJCF that another pulls in with <include> (dm_control's common/materials.xml, a
    body kept in its own file) is part of that model: skipped with the reason, not checked alone."""
    folder = tmp_path / "inc dir ü"
    (folder / "parts").mkdir(parents=True)
    (folder / "parts" / "arm body.xml").write_text(
        '<mujoco><body name="link1" pos="0 0 1"><joint name="j1" type="hinge" axis="0 1 0"/>'
        '<geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.05" mass="1"/></body></mujoco>')
    (folder / "robot.xml").write_text('<mujoco model="inc"><worldbody><include file="parts/arm body.xml"/>'
                                      '</worldbody></mujoco>')
    (folder / "pend.xml").write_text(PENDULUM_MJCF)
    specs, skipped = discover([str(folder)], CheckConfig(model="", random_q=1))
    assert [Path(s.path).name for s in specs] == ["pend.xml", "robot.xml"]
    reasons = {Path(k.path).name: k.reason for k in skipped}
    assert set(reasons) == {"arm body.xml"} and "included by robot.xml" in reasons["arm body.xml"]
