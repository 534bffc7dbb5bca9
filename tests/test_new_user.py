"""What a new user's first mistakes must get: one line, exit 2, nothing written or replaced.

Found by trying the CLI as a hostile new user (the `breaker` pass): `train-policy --out` replaced any
existing file (a root user's `--out /etc/passwd` became a zip plus `/etc/passwd.json`), and
`--out NAME.json` had the settings sidecar overwrite the policy, then crashed (exit 70). Since the
one grammar (issue 11), `--out` is a folder that holds policy.zip and config.json.
"""

from __future__ import annotations

import json
import zipfile

import pytest

from simmatch.cli.app import main


def _one_error_line(capsys) -> str:
    err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
    assert len(err) == 1, err
    return err[0]


def test_train_policy_out_is_a_folder(tmp_path, capsys):
    """`--out` is a folder (policy.zip and config.json go inside): an existing file is refused."""
    pytest.importorskip("torch")
    for name in ("policy.zip", "policy.json"):
        f = tmp_path / name
        f.write_text("x")
        assert main(["train-policy", "pendulum", "--steps", "1", "--out", str(f)]) == 2
        line = _one_error_line(capsys)
        assert name in line and "is not a folder" in line
        assert f.read_text() == "x"
        f.unlink()
    assert list(tmp_path.iterdir()) == []


def test_train_policy_never_replaces_a_foreign_file(tmp_path, capsys):
    pytest.importorskip("torch")
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    assert main(["train-policy", "pendulum", "--steps", "1", "--out", str(folder)]) == 2
    line = _one_error_line(capsys)
    assert str(folder) in line and "'passwd'" in line
    assert (folder / "passwd").read_text() == "root:x:0:0:root:/root:/bin/bash\n"
    assert sorted(p.name for p in folder.iterdir()) == ["passwd"]


def test_train_policy_never_replaces_a_foreign_config(tmp_path, capsys):
    pytest.importorskip("torch")
    side = tmp_path / "p" / "config.json"
    side.parent.mkdir()
    side.write_text('{"results": [1, 2, 3]}')
    assert main(["train-policy", "pendulum", "--steps", "1", "--out", str(side.parent)]) == 2
    line = _one_error_line(capsys)
    assert "config.json" in line and "not a train-policy config" in line
    assert side.read_text() == '{"results": [1, 2, 3]}'
    assert sorted(p.name for p in side.parent.iterdir()) == ["config.json"]


def test_train_policy_default_out_is_named_after_the_model(tmp_path, monkeypatch, capsys):
    """The default was reports/policy_hopper.zip whatever --model said: training the pendulum (or
    laikago) replaced the hopper's policy. Each model has its folder; MODEL is positional, the old
    --model still works."""
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    hopper = tmp_path / "reports" / "policy_hopper" / "policy.zip"
    hopper.parent.mkdir(parents=True)
    with zipfile.ZipFile(hopper, "w") as z:
        z.writestr("data", "{}")
    before = hopper.read_bytes()
    for args in (["pendulum"], ["--model", "double-pendulum"]):
        assert main(["train-policy", *args, "--steps", "1"]) == 0
        name = args[-1]
        made = tmp_path / "reports" / f"policy_{name}" / "policy.zip"
        assert zipfile.is_zipfile(made)
        import json

        cfg = json.loads((made.parent / "config.json").read_text())
        assert cfg["model"] == name and cfg["steps"] == 1
        assert str(made.relative_to(tmp_path)) in capsys.readouterr().out
    assert hopper.read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "policy_double-pendulum", "policy_hopper", "policy_pendulum"]


def test_dart_massless_subtree_steps_print_nothing(capfd):
    """A joint whose subtree has no mass made DART print two warnings per step to stderr (10,268
    lines for `simmatch gap --model massless_leaf.urdf`); the rollout itself is unchanged."""
    pytest.importorskip("dartpy")
    from pathlib import Path

    import numpy as np

    from simmatch.backends.dart import DartBackend
    from simmatch.urdf import load_urdf

    model = load_urdf(Path(__file__).parent / "data" / "real_kinds" / "massless_leaf.urdf")
    b = DartBackend(model)
    capfd.readouterr()
    traj = b.rollout(np.zeros((50, b.dof)))
    out = capfd.readouterr()
    assert "GenericJoint" not in out.err and "GenericJoint" not in out.out
    assert np.all(np.isfinite(np.asarray(traj.q)))
    # the arm still swings under gravity (the step was run, only its stderr went to /dev/null)
    assert np.ptp(np.asarray(traj.q)[:, 0]) > 1e-3
    b.close()


_BOX_LINK = ('<robot name="r"><link name="a"><inertial><mass value="1"/><inertia ixx="1" iyy="1" izz="1" '
             'ixy="0" ixz="0" iyz="0"/></inertial><collision><geometry><mesh filename="{}"/></geometry>'
             '</collision></link></robot>')


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_mesh_path_that_is_no_file_says_so(tmp_path, capsys, kind):
    """A mesh path that exists but is a folder, a pipe or a device was reported 'not found'; it is
    refused with what it is (never opened: /dev/zero or a FIFO would block the reader)."""
    import os

    if kind == "folder":
        (tmp_path / "meshes").mkdir()
        name, what = "meshes", "is a folder"
    elif kind == "fifo":
        os.mkfifo(tmp_path / "part.stl")
        name, what = "part.stl", "is not a regular file"
    else:
        name, what = "/dev/null", "is not a regular file"
    urdf = tmp_path / "r.urdf"
    urdf.write_text(_BOX_LINK.format(name))
    assert main(["show", str(urdf)]) == 2
    line = _one_error_line(capsys)
    assert "r.urdf" in line and "link[a]/collision/geometry/mesh" in line and what in line and name in line


_TINY_LEARN = ["--n-traj", "5", "--pretrain-iters", "1", "--gail-iters", "0", "--backend-traj", "1",
               "--sysid-evals", "2", "--score-transitions", "10", "--n-envs", "2", "--pretrain-n-steps", "16", "-q"]


def _tree(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("kind", ["project", "policy", "check_report"])
def test_learn_dyn_never_empties_a_foreign_folder(tmp_path, capsys, kind):
    """`learn-dyn --out DIR` (the run folder itself since issue 11) accepted any folder and a new run
    emptied it of the names a run writes: a user's project folder lost its checkpoints/ (rmtree) and
    config.json, train-policy's folder its config.json (the policy no longer its own), a check report
    got a run's files beside its manifest. A folder holding anything a learn-dyn run did not write, or
    a config.json that is not a learn-dyn config, is refused in one line before any work."""
    pytest.importorskip("torch")
    folder = tmp_path / kind
    (folder / "checkpoints").mkdir(parents=True)
    if kind == "project":
        (folder / "checkpoints" / "my_model.ckpt").write_bytes(b"weights")
        (folder / "config.json").write_text('{"lr": 1}')
        (folder / "notes.txt").write_text("notes")
    elif kind == "policy":
        (folder / "checkpoints").rmdir()
        assert main(["train-policy", "pendulum", "--steps", "1", "-q", "--out", str(folder)]) == 0
        capsys.readouterr()
    else:
        (folder / "checkpoints").rmdir()
        assert main(["check", "pendulum", "--random-q", "1", "--engines", "none", "--out", str(folder)]) == 0
        capsys.readouterr()
    before = _tree(folder)
    for resume in ([], ["--resume"]):
        assert main(["learn-dyn", "pendulum", *_TINY_LEARN, "--out", str(folder), *resume]) == 2
        line = _one_error_line(capsys)
        assert line.startswith("error: --out") and str(folder) in line and "learn-dyn did not write" in line
        assert _tree(folder) == before
    assert sorted(p.name for p in folder.iterdir()) == sorted({k.split("/")[0] for k in before} | (
        {"checkpoints"} if kind == "project" else set()))


def test_learn_dyn_reruns_in_its_own_run_folder(tmp_path, capsys):
    """The folder of an earlier learn-dyn run (its config.json, checkpoints, curves, TensorBoard events)
    is still accepted: a new run replaces the older run's outputs there."""
    pytest.importorskip("torch")
    folder = tmp_path / "run"
    assert main(["learn-dyn", "pendulum", *_TINY_LEARN, "--out", str(folder)]) == 0
    assert main(["learn-dyn", "pendulum", *_TINY_LEARN, "--seed", "1", "--out", str(folder)]) == 0
    import json

    assert json.loads((folder / "config.json").read_text())["seed"] == 1
    capsys.readouterr()


def test_learn_dyn_without_a_gap_reports_no_reduction(tmp_path, capsys):
    """On the pendulum bullet and dart agree to ~1e-19 (no contact): the raw source's one-step error is
    round-off, and 1 - learned / raw printed '-7495806205504606.0%'. No gap: the reduction is null in
    scores.json and 'n/a' in the terminal and scores.md."""
    pytest.importorskip("torch")
    import json

    folder = tmp_path / "run"
    assert main(["learn-dyn", "pendulum", *_TINY_LEARN[:-1], "--out", str(folder)]) == 0
    out = capsys.readouterr().out
    scores = json.loads((folder / "scores.json").read_text())
    assert scores["methods"]["raw source"]["one_step"]["mean"] < 1e-12
    assert scores["one_step_reduction"] is None
    line = next(l for l in out.splitlines() if "reduction vs raw source" in l)
    assert "n/a" in line and "%" not in line
    assert "reduction vs raw source: n/a" in (folder / "scores.md").read_text()


def test_learn_dyn_refuses_an_unbuildable_model_before_writing(tmp_path, capsys):
    """The hopper's massless root cannot float in the engines' matched builds: learn-dyn said so only
    after writing config.json and checkpoints/ (~20 s in); the source and target are now built once
    before the run folder is written."""
    pytest.importorskip("torch")
    assert main(["learn-dyn", "hopper", "--base", "floating", "--out", str(tmp_path / "run"), "-q"]) == 2
    line = _one_error_line(capsys)
    assert "no mass" in line
    assert list(tmp_path.iterdir()) == []


def test_resume_refuses_options_that_differ_from_the_saved_run(tmp_path, capsys):
    """`learn-dyn --resume --gail-iters 2` kept the saved 10 iterations and said nothing: an option given
    with --resume that differs from the saved config is refused, one line naming it and its saved value;
    options equal to the saved ones (or not given) are fine."""
    pytest.importorskip("torch")
    from simmatch.gail.config import LearnDynConfig

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    LearnDynConfig(gail_iters=10, run="run").write(run / "config.json")
    before = (run / "config.json").read_bytes()
    assert main(["learn-dyn", "--out", str(run), "--resume", "--gail-iters", "2", "--seed", "0"]) == 2
    line = _one_error_line(capsys)
    assert "--gail-iters 2 (saved 10)" in line and "--seed" not in line
    assert main(["learn-dyn", "pendulum", "--out", str(run), "--resume"]) == 2
    assert "MODEL 'pendulum' (saved 'hopper')" in _one_error_line(capsys)
    assert (run / "config.json").read_bytes() == before and sorted(p.name for p in run.iterdir()) == [
        "checkpoints", "config.json"]


def test_resume_may_change_the_env_workers(tmp_path, capsys):
    """--env-workers decides where the environments run, not the results: `--resume --env-workers 1` of a
    run saved with 0 was refused as a changed option (a run resumed on a machine with fewer cores could not
    use fewer). Given: used and recorded; not given: the saved value; the scores do not change."""
    pytest.importorskip("torch")
    from simmatch.gail.config import LearnDynConfig

    run = tmp_path / "run"
    run.mkdir()
    LearnDynConfig(n_traj=6, max_steps=12, pretrain_iters=1, gail_iters=1, n_steps=16, n_envs=2, pretrain_n_steps=8,
                   backend_traj=1, sysid_evals=4, score_transitions=10, horizon=3, env_workers=0,
                   run="run").write(run / "config.json")
    assert main(["learn-dyn", "--out", str(run), "--resume", "--env-workers", "1", "-q", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert LearnDynConfig.read(run / "config.json").env_workers == 1
    assert main(["learn-dyn", "--out", str(run), "--resume", "-q", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert LearnDynConfig.read(run / "config.json").env_workers == 1
    assert again["methods"] == first["methods"] and again["backends"] == first["backends"]
    assert main(["learn-dyn", "--out", str(run), "--resume", "--n-envs", "3"]) == 2  # the others stay refused
    assert "--n-envs 3 (saved 2)" in _one_error_line(capsys)


def test_bullet_native_mjcf_with_include_names_the_include(tmp_path):
    """PyBullet's loadMJCF does not follow <include>: a robot whose bodies are in an included file
    loads nothing. That is the engine's cause, not simmatch's internal 'max() of an empty sequence'."""
    from simmatch.backends import make_backend
    from simmatch.config import SimConfig
    from simmatch.errors import EngineFailure
    from simmatch.registry import load_model

    folder = tmp_path / "inc dir ü"
    folder.mkdir()
    (folder / "body.xml").write_text(
        '<mujoco><body name="link1" pos="0 0 1"><joint name="j1" type="hinge" axis="0 1 0"/>'
        '<geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.05" mass="1"/></body></mujoco>')
    main_xml = folder / "rob ot.xml"
    main_xml.write_text('<mujoco model="inc"><worldbody><include file="body.xml"/></worldbody></mujoco>')
    model = load_model(str(main_xml))
    assert [j.name for j in model.dof_joints] == ["j1"]  # MuJoCo's compiler follows the include
    with pytest.raises(EngineFailure) as err:
        make_backend("bullet", model, SimConfig(), load="native")
    assert err.value.cause == "bullet_mjcf_ignores_include"
    assert "body.xml" in err.value.message and "no body" in err.value.message


def test_dart_native_mjcf_mesh_geom_is_its_cause(tmp_path):
    """dartpy 6.20's MJCF parser fails on a body with a mesh geom (an exported kuka_iiwa): without an
    <inertial> it refuses it, with one it looks for the mesh at a wrong path. The load failure names
    that cause and the body, not only 'returned no skeleton'."""
    import trimesh

    from simmatch.backends import make_backend
    from simmatch.config import SimConfig
    from simmatch.errors import EngineFailure
    from simmatch.registry import load_model

    trimesh.creation.box((0.1, 0.1, 0.2)).export(tmp_path / "part.stl")
    xml = tmp_path / "arm.xml"
    xml.write_text('<mujoco><asset><mesh name="part" file="part.stl"/></asset><worldbody>'
                   '<body name="upper" pos="0 0 1"><joint name="j" type="hinge" axis="0 1 0"/>'
                   '<geom type="mesh" mesh="part"/></body></worldbody></mujoco>')
    model = load_model(str(xml))
    with pytest.raises(EngineFailure) as err:
        make_backend("dart", model, SimConfig(), load="native")
    assert err.value.cause == "dart_mjcf_mesh_geom" and err.value.subject == "upper"
    for mesh_file in ("part.stl", str(tmp_path / "part.stl")):  # with an <inertial>: the mesh's path
        xml.write_text('<mujoco><asset><mesh name="part" file="' + mesh_file + '"/></asset><worldbody>'
                       '<body name="upper" pos="0 0 1"><joint name="j" type="hinge" axis="0 1 0"/>'
                       '<inertial pos="0 0 0" mass="1" diaginertia="0.01 0.01 0.01"/>'
                       '<geom type="mesh" mesh="part"/></body></worldbody></mujoco>')
        with pytest.raises(EngineFailure) as err:
            make_backend("dart", load_model(str(xml)), SimConfig(), load="native")
        assert err.value.cause == "dart_mjcf_mesh_geom"
    # the same body with a box instead of the mesh loads: the mesh geom is the cause
    xml.write_text(xml.read_text().replace('type="mesh" mesh="part"', 'type="box" size="0.05 0.05 0.1"'))
    make_backend("dart", load_model(str(xml)), SimConfig(), load="native").close()


def test_a_non_robot_xml_names_both_formats(tmp_path, capsys):
    """A `.xml` may be a URDF or an MJCF: an SVG is refused in one line that names both roots."""
    svg = tmp_path / "drawing.xml"
    svg.write_text('<?xml version="1.0"?><svg><rect/></svg>')
    assert main(["check", str(svg), "--out", str(tmp_path / "out")]) == 2
    line = _one_error_line(capsys)
    assert "drawing.xml" in line and "svg" in line and "<robot>" in line and "<mujoco>" in line
    assert not (tmp_path / "out").exists()
