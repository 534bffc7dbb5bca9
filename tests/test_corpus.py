"""The corpus sweep (benchmarks/corpus_sweep.py): its bookkeeping on small files by default, and,
under `-m slow`, simmatch on every robot and object URDF of pybullet_data, example-robot-data and
icub-models:

- no file gives a Python traceback (bad input is one line and exit 2; an engine problem is a finding);
- no file that PyBullet or Pinocchio loads is rejected with exit 2;
- no finding has cause `unknown`;
- no `error` on a matched build except engine behaviours named in the cause catalogue
  (`simmatch/causes.py`; the generic `unknown`, `engine_crash`, `engine_failure`, `unsupported` do not count).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import corpus_sweep_module

DATA = Path(__file__).parent / "data"


_sweep_module = corpus_sweep_module


sweep = _sweep_module()


def _file(path: Path, base: str = "auto") -> sweep.CorpusFile:
    return sweep.CorpusFile("tests", path.name, str(path), base, "test", "package://" in path.read_text())


# -- the script's bookkeeping (default run) ------------------------------------------------------

def test_base_rules_weld_arms_and_free_legged_robots():
    assert sweep.base_for("example-robot-data/ur_description/urdf/ur5_robot.urdf")[0] == "fixed"
    assert sweep.base_for("example-robot-data/talos_data/robots/talos_left_arm.urdf")[0] == "fixed"
    assert sweep.base_for("example-robot-data/talos_data/robots/talos_reduced.urdf")[0] == "floating"
    assert sweep.base_for("icub-models/iCubGenova04/model.urdf")[0] == "floating"
    assert sweep.base_for("icub-models/left_hand_mk3/model.urdf")[0] == "fixed"
    assert sweep.base_for("pybullet_data/kuka_iiwa/model_free_base.urdf")[0] == "auto"
    assert sweep.base_for("pybullet_data/cube.urdf") == ("auto", "object or scene: loaded as is")


def test_discover_finds_the_installed_packages():
    files = sweep.discover()
    if not files:
        pytest.skip("no corpus package installed (pip install 'simmatch[corpus]')")
    names = [f.name for f in files]
    assert len(names) == len(set(names))
    assert all(Path(f.path).is_file() and f.path.endswith(".urdf") for f in files)
    assert not any("random_urdfs" in n for n in names)
    by_pkg = {p: sum(f.package == p for f in files) for p in sweep.PACKAGES}
    assert by_pkg["pybullet_data"] > 50  # pybullet_data comes with pybullet
    if by_pkg["example-robot-data"]:
        ur5 = next(f for f in files if f.name.endswith("ur_description/urdf/ur5_robot.urdf"))
        assert ur5.package_uri and ur5.args == ["--base", "fixed"]
    if by_pkg["icub-models"]:
        assert all(f.args == ["--base", "floating"] for f in files if f.package == "icub-models"
                   and f.rel.startswith("iCub"))


def test_run_one_reports_a_checked_file():
    """The clean arm of tests/data/broken: checked, every source counted; its native loads have
    errors (PyBullet recomputes inertia, DART adds a floating root), its matched builds none."""
    row = sweep.run_one(_file(DATA / "broken" / "clean.urdf"), random_q=2, timeout=300)
    assert row["result"] == "1", row
    assert row["base"] == "fixed" and row["dof"] == 3
    for s in sweep.SOURCES:
        assert isinstance(row[s], int), (s, row[s])
    assert all(row[s] == 0 for s in sweep.SOURCES if s.endswith("/matched")), row
    assert row["bullet/native"] > 0
    assert row["unknown"] == 0 and row["matched_unexplained"] == 0
    assert all(f["severity"] == "error" and f["load"] == "native" for f in row["findings"])
    assert row["wall_s"] > 0 and row["pybullet_loads"] == ""  # probed only when simmatch gives up


def test_run_one_rejected_file_says_whether_pybullet_loads_it():
    bad = DATA / "bad" / "lenient_number.urdf"  # lower="-1.57.": PyBullet reads it leniently
    row = sweep.run_one(_file(bad), random_q=2, timeout=300)
    assert row["result"] == "2", row
    assert row["message"].startswith("error:") and "lenient_number.urdf" in row["message"]
    assert row["pybullet_loads"] == "yes", row
    assert row["pinocchio_loads"] in ("yes", "not installed") or row["pinocchio_loads"].startswith("no:")
    summary = sweep.summarise([row])
    assert summary["results"] == {"2": 1}
    assert summary["rejected_but_loadable"] == []  # a malformed number: rejecting it is right
    kind = summary["kinds"][0]
    assert kind["kind"].startswith("rejected (exit 2):") and "lenient_number" not in kind["kind"]


def test_wrong_rejection_rule():
    def rej(message, pb, pn):
        return sweep.wrongly_rejected(_row("x.urdf", "2", message, pybullet_loads=pb, pinocchio_loads=pn))

    pd = "error: x.urdf: link[a]/inertial/inertia: inertia tensor is not positive definite"
    assert rej(pd, "yes", "yes") and rej(pd, "no: x", "yes") and rej(pd, "yes", "not installed")
    assert not rej(pd, "no: x", "no: y")
    assert not rej("error: x.urdf: xml: malformed XML: not well-formed", "yes", "yes")
    assert not rej("error: x.urdf: joint[j]/origin: attribute xyz='0.07,' is not a number", "yes", "no: x")
    mesh = "error: x.urdf: link[a]/collision/geometry/mesh: mesh file 'm.stl' not found"
    assert not rej(mesh, "no: x", "yes")  # Pinocchio never reads geometry
    assert rej(mesh, "yes", "yes")
    assert not sweep.wrongly_rejected(_row("x.urdf", "1", pd, pybullet_loads="yes"))


def test_run_one_kills_a_file_past_its_timeout():
    row = sweep.run_one(_file(DATA / "broken" / "clean.urdf"), random_q=2, timeout=0.05, probe=False)
    assert row["result"] == "timeout" and row["exit_code"] is None


def _row(file, result="1", message="", findings=(), **counts):
    row = {"file": file, "args": "", "base_why": "", "package_uri": False, "exit_code": None, "result": result,
           "base": "fixed", "dof": 1, "unknown": 0, "matched_unexplained": 0, "wall_s": 1.0, "message": message,
           "pybullet_loads": "", "pinocchio_loads": "", "path": file, "findings": list(findings)}
    row.update(dict.fromkeys(sweep.SOURCES, 0))
    row.update(counts)
    return row


def _finding(engine, load, cause, quantity="gravity_torques", detail="", unexplained=False):
    return {"engine": engine, "load": load, "severity": "error", "category": "dynamics", "quantity": quantity,
            "subject": "*", "cause": cause, "rel_error": 0.5, "detail": detail, "unexplained": unexplained}


def test_summary_groups_failures_into_kinds_with_examples(tmp_path):
    rows = [
        _row("a.urdf", "traceback", "ValueError: cannot reshape array of size 0 into shape (0,0)"),
        _row("b.urdf", "traceback", "ValueError: cannot reshape array of size 0 into shape (0,0)"),
        _row("c.urdf", "2", "error: /x/c.urdf: link[head]/inertial/inertia: inertia tensor is not positive definite "
                            "(eigenvalues [-0.1, 0.2, 0.3])", pybullet_loads="yes", pinocchio_loads="no: x"),
        _row("d.urdf", "2", "error: /y/d.urdf: link[base]/inertial/inertia: inertia tensor is not positive definite "
                            "(eigenvalues [0.0, 0.0, 0.0])", pybullet_loads="no: x", pinocchio_loads="no: y"),
        _row("e.urdf", "1", findings=[_finding("bullet", "matched", "unknown", unexplained=True)],
             unknown=1, matched_unexplained=1, **{"bullet/matched": 1}),
        _row("h.urdf", "1", findings=[_finding("bullet", "matched", "unknown", q, unexplained=True)
                                      for q in ("gravity_torques", "bias_forces")]
             + [_finding("dart", "native", "unknown", "bias_forces")], unknown=3, matched_unexplained=2),
        _row("i.urdf", "1", findings=[_finding("bullet", "matched", "unknown", q, unexplained=True)
                                      for q in ("bias_forces", "gravity_torques")]
             + [_finding("dart", "native", "unknown", "bias_forces")], unknown=3, matched_unexplained=2),
        _row("f.urdf", "1", findings=[_finding("mujoco", "matched", "engine_failure", "build",
                                               "mesh volume is too small: 'x.stl'", unexplained=True)],
             matched_unexplained=1, **{"mujoco/matched": "failed"}),
        _row("g.urdf", "timeout", "killed after 1 s"),
    ]
    s = sweep.summarise(rows)
    assert s["results"] == {"1": 4, "2": 2, "timeout": 1, "traceback": 2}
    assert s["tracebacks"] == 2
    assert s["rejected_but_loadable"] == ["c.urdf"]
    assert s["files_with_unknown_cause"] == ["e.urdf", "h.urdf", "i.urdf"]
    assert s["files_with_unexplained_matched_errors"] == ["e.urdf", "h.urdf", "i.urdf", "f.urdf"]
    kinds = {k["kind"]: k for k in s["kinds"]}
    tb = kinds["traceback: ValueError: cannot reshape array of size # into shape (#,#)"]
    assert tb["files"] == ["a.urdf", "b.urdf"] and tb["count"] == 2
    rejected = [k for k in kinds if k.startswith("rejected")]
    assert len(rejected) == 1 and kinds[rejected[0]]["files"] == ["c.urdf", "d.urdf"]
    assert kinds["cause unknown: dynamics gravity_torques in bullet/matched"]["files"] == ["e.urdf"]
    # one signature (same quantities in the same sources) is one kind, whatever the order of findings
    sig = kinds["cause unknown: dynamics bias_forces, gravity_torques in bullet/matched, dart/native"]
    assert sig["files"] == ["h.urdf", "i.urdf"]
    assert any(k.startswith("mujoco (matched) engine_failure: mesh volume is too small") for k in kinds)
    assert s["per_source"]["mujoco/matched"]["failed"] == 1 and s["per_source"]["bullet/matched"]["errors"] == 1
    md = sweep.markdown_summary(s)
    assert "| traceback | 2 |" in md and "`a.urdf`, `b.urdf`" in md

    sweep.write_outputs(tmp_path, rows, s, {"random_q": 2})
    data = json.loads((tmp_path / "sweep.json").read_text())
    assert data["summary"]["results"] == s["results"] and len(data["rows"]) == len(rows)
    with open(tmp_path / "sweep.csv") as fh:
        assert [r["file"] for r in csv.DictReader(fh)] == [r["file"] for r in rows]
    assert "## Files" in (tmp_path / "sweep.md").read_text()
    assert not list(tmp_path.glob("*.tmp"))


def test_allowed_causes_are_engine_behaviours_of_that_engine():
    assert sweep._allowed("bullet_explicit_damping", "bullet")
    assert sweep._allowed("inertia_triangle_inequality", "mujoco")  # model-level
    assert not sweep._allowed("bullet_explicit_damping", "dart")
    for generic in ("unknown", "engine_failure", "engine_crash", "unsupported", "no_such_cause"):
        assert not sweep._allowed(generic, "bullet")


# -- the whole corpus (slow) ---------------------------------------------------------------------

@pytest.mark.slow
def test_whole_corpus(tmp_path):
    files = sweep.discover()
    if not files:
        pytest.skip("no corpus package installed (pip install 'simmatch[corpus]')")
    rows = sweep.sweep(files, workers=2, random_q=20, timeout=900)
    s = sweep.summarise(rows)
    out = tmp_path / "corpus_sweep"
    sweep.write_outputs(out, rows, s, {"random_q": 20, "workers": 2, "timeout_s": 900})

    def listing(pred):
        return "\n".join(f"  {r['file']} [{r['result']}] {r['message'][:160]}" for r in rows if pred(r))

    problems = []
    if s["tracebacks"] or any(r["result"] in ("timeout", "bad-json") or r["result"].startswith("signal")
                              for r in rows):
        problems.append("tracebacks / timeouts / bad output:\n" + listing(
            lambda r: r["result"] in ("traceback", "timeout", "bad-json") or r["result"].startswith("signal")))
    if s["rejected_but_loadable"]:
        problems.append("rejected (exit 2) although PyBullet or Pinocchio loads them:\n" + listing(
            lambda r: r["file"] in s["rejected_but_loadable"]))
    if s["files_with_unknown_cause"]:
        problems.append("findings with cause unknown:\n" + listing(lambda r: r["unknown"]))
    if s["files_with_unexplained_matched_errors"]:
        problems.append("errors on matched builds no catalogued engine behaviour explains:\n"
                        + listing(lambda r: r["matched_unexplained"]))
    kinds = "\n".join(f"  {k['count']:3d}  {k['kind']}  e.g. {', '.join(k['files'][:3])}" for k in s["kinds"])
    assert not problems, "\n".join(problems) + f"\nfailure kinds:\n{kinds}\n(full table: {out}/sweep.md)"
