"""Bad input in one line, bounded work, speed on big models: every bad option and every bad model
file ends in one line on stderr and exit code 2 (no traceback, nothing written); a seeded mutation
fuzzer over the shipped URDFs; big models look links and joints up in O(1)."""

from __future__ import annotations

import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hyp_seed
from hypothesis import strategies as st

from simmatch import ModelError, load_urdf
from simmatch.cli.app import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_chain import chain_urdf

PENDULUM = """<?xml version="1.0"?>
<robot name="{robot}">
  <link name="world"/>
  <link name="arm">
    <inertial><origin xyz="0 0 -0.25"/><mass value="{mass}"/>
      <inertia ixx="0.02" ixy="0" ixz="0" iyy="0.02" iyz="0" izz="0.001"/></inertial>
    <collision><origin xyz="0 0 -0.25"/><geometry><box size="0.05 0.05 0.5"/></geometry></collision>
  </link>
  <joint name="{joint}" type="revolute">
    <parent link="world"/><child link="arm"/>
    <origin xyz="{xyz}"/>{extra}<axis xyz="1 0 0"/>
    <limit lower="-2" upper="2" effort="{effort}" velocity="{velocity}"/>
  </joint>
</robot>
"""


def pendulum(**kw) -> str:
    args = dict(robot="p", mass="1", joint="hinge", xyz="0 0 1", extra="", effort="10", velocity="5")
    args.update(kw)
    return PENDULUM.format(**args)


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """The real CLI in-process (what `simmatch ARGS` runs): exit code, stdout, stderr."""
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_refused(code: int, err: str, *needles: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("pybullet build time")]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.fixture()
def workdir(tmp_path, monkeypatch):
    """An empty current folder: whatever a refused command wrote would show up here."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- options ----------------------------------------------------------------------------------------
BAD_OPTIONS = [
    (["check", "hopper", "--random-q", "1000000"], "--random-q 1000000: must be at most 2000", "--no-limit"),
    (["check", "hopper", "--random-q", "-1"], "--random-q -1: must be at least 0"),
    (["check", "hopper", "--seed", "-1"], "--seed -1: must be at least 0"),
    (["check", "hopper", "--seed", str(2**40)], "--seed", "at most 4294967295"),
    (["check", "hopper", "--engines", ""], "--engines ''"),
    (["check", "hopper", "--engines", ","], "--engines ','"),
    (["check", "hopper", "--engines", "bullet,ode"], "unknown engine 'ode'"),
    (["check", "hopper", "--tol", "nosuch=1"], "unknown quantity 'nosuch'"),
    (["check", "hopper", "--tol", "inertia_rel=abc"], "'abc' is not a number"),
    (["check", "hopper", "--tol", "inertia_rel=nan"], "inertia_rel", "finite"),
    (["check", "hopper", "--load", "both2"], "--load"),
    # a finite but absurd mount overflowed the kinematics (NaN findings, 32 lines of numpy warnings, exit 1)
    (["check", "hopper", "--base-pose", "1e300 0 0 0 0 0"], "--base-pose", "x='1e300' is out of range"),
    (["gap", "--base-pose", "0 0 0 0 0 -1e12", "--horizon", "5"], "--base-pose", "yaw='-1e12' is out of range"),
    (["check", "hopper", "--base", "wobbly"], "--base wobbly: choose fixed, floating or auto"),
    (["check", ""], "empty model name"),
    (["check", "hopper", "--reference", "missing.urdf"], "missing.urdf", "does not exist"),
    (["show", "hopper", "--base", "wobbly"], "--base wobbly: choose fixed, floating or auto"),
    (["show", "nosuchmodel"], "not a known model name"),
    (["gap", "--horizon", "0"], "--horizon 0: must be at least 1"),
    (["gap", "--episodes", "0"], "--episodes 0"),
    (["gap", "--dt", "inf"], "--dt inf: must be a finite number"),
    (["gap", "--dt", "0"], "--dt 0: must be at least 1e-06"),
    (["gap", "--torque-scale", "1e308"], "--torque-scale 1e+308: must be at most 100"),
    (["learn-dyn", "--n-traj", "99999999999999"], "must be at most 100000"),
    (["gap", "--weights", "nan,1,1"], "--weights 'nan,1,1'"),
    (["gap", "--weights", "1,2"], "--weights '1,2'"),
    (["gap", "--torque-scale", "nan"], "--torque-scale nan"),
    (["gap", "--noise", "-1"], "--noise -1"),
    (["gap", "--threshold", "0"], "--threshold 0"),
    (["gap", "--seed", "-1"], "--seed -1"),
    (["gap", "--solver-iterations", "0"], "--solver-iterations 0"),
    (["gap", "--dst", "bullet:heavy-head=abc"], "bullet:heavy-head=abc", "mass factor"),
    (["gap", "--dst", "bullet:soft-floor=inf"], "bullet:soft-floor=inf", "stiffness"),
    (["gap", "--dst", "bullet:wobbly"], "unknown variant 'wobbly'"),
    (["gap", "--src", ""], "unknown engine ''"),
    (["gap", "--scenario", "bogus"], "unknown scenario 'bogus'"),
    (["gap", "--scenario", "replay=missing.npz"], "missing.npz: no such file"),
    (["gap", "--horizon", "100000000"], "300000000 steps: at most 30000", "--no-limit"),
    (["learn-dyn", "--n-traj", "0"], "--n-traj 0: must be at least 3"),
    (["learn-dyn", "--n-envs", "0"], "--n-envs 0"),
    (["learn-dyn", "--n-steps", "0"], "--n-steps 0"),
    (["learn-dyn", "--steps-typo", "0"], "No such option"),
    (["learn-dyn", "--ckpt-every", "-1"], "--ckpt-every -1"),
    (["learn-dyn", "--seed", "-1"], "--seed -1"),
    (["learn-dyn", "--lr", "nan"], "--lr nan"),
    (["learn-dyn", "--max-steps", "0"], "--max-steps 0"),
    (["learn-dyn", "--horizon", "500"], "--horizon 500: must be at most 100"),
    # refinement needs a task policy; train-policy's --out is a folder (the .zip spelling of before is refused)
    (["learn-dyn", "--refine-steps", "100"], "--refine-steps 100", "--policy"),
    (["train-policy", "--out", "mine.zip"], "--out mine.zip", "folder"),
    (["learn-dyn", "--pretrain-iters", "0", "--gail-iters", "0"], "nothing would be trained"),
    (["learn-dyn", "--dataset", "missing.npz"], "--dataset missing.npz: no such dataset"),
    (["learn-dyn", "--run", "r"], "No such option", "--out DIR is the run folder"),  # removed option: its successor
    (["check", "hopper", "--random-q", "1.5"], "simmatch check", "--random-q", "--help"),  # click: wrong type
    (["check"], "Missing argument 'MODEL'"),  # click: a missing argument
    (["gap", "hopper", "extra"], "unexpected extra argument"),
    (["learn-dyn", "--disc-hidden", "64,x"], "--disc-hidden '64,x'"),
    # layer sizes: -1 was an internal error (exit 70) after the run folder was made, 0 a zero-width network
    (["learn-dyn", "--disc-hidden", "-1"], "--disc-hidden '-1'", "from 1 to"),
    (["learn-dyn", "--net-arch", "64,0"], "--net-arch '64,0'", "from 1 to"),
    (["learn-dyn", "--net-arch", "10000000"], "--net-arch '10000000'", "from 1 to"),
    (["learn-dyn", "--gamma", "1.5"], "--gamma 1.5: must be at most 1"),
    (["learn-dyn", "--substeps", "0"], "--substeps 0: must be at least 1"),
    (["learn-dyn", "--dst", "bullet:heavy-head=abc"], "mass factor"),
    (["learn-dyn", "--resume", "--out", "runs/nosuchrun"], "--resume: no run to resume"),
    (["train-policy", "--steps", "0"], "--steps 0"),
    # today's parallel options; a --policy that is not there names the option (it named the path only)
    (["learn-dyn", "--env-workers", "-1"], "--env-workers -1: must be at least 0"),
    (["learn-dyn", "--env-workers", "999"], "--env-workers 999: must be at most 256"),
    (["learn-dyn", "--pretrain-n-steps", "1"], "--pretrain-n-steps 1: must be at least 2"),
    (["learn-dyn", "--pretrain-n-steps", "8.5"], "--pretrain-n-steps", "valid integer"),
    (["learn-dyn", "--policy", "nosuch"], "--policy nosuch: no such policy file or folder", "train-policy"),
    (["train-policy", "--env-workers", "65"], "--env-workers 65: must be at most 64"),
    (["train-policy", "--seed", "-1"], "--seed -1"),
    # each bounded alone, their product was not: a rollout buffer of tens of GB after the run folder was made
    (["learn-dyn", "--n-steps", "1000000", "--n-envs", "256"],
     "--n-steps 1000000 x --n-envs 256 = 256000000 transitions", "at most 500000"),
    (["learn-dyn", "--pretrain-n-steps", "100000", "--n-envs", "8"],
     "--pretrain-n-steps 100000 x --n-envs 8 = 800000 transitions", "at most 500000"),
]


def test_rollout_bound_is_on_the_product_of_steps_and_envs():
    """ROLLOUT_MAX transitions pass, one more rollout step per environment is refused, in both stages."""
    from simmatch.errors import UsageError
    from simmatch.gail.config import ROLLOUT_MAX, LearnDynConfig, check_rollout

    envs = 250
    steps = ROLLOUT_MAX // envs
    assert steps * envs == ROLLOUT_MAX
    check_rollout(LearnDynConfig(n_envs=envs, n_steps=steps, pretrain_n_steps=steps))
    with pytest.raises(UsageError, match=f"--n-steps {steps + 1} x --n-envs {envs}"):
        check_rollout(LearnDynConfig(n_envs=envs, n_steps=steps + 1))
    with pytest.raises(UsageError, match=f"--pretrain-n-steps {steps + 1} x --n-envs {envs}"):
        check_rollout(LearnDynConfig(n_envs=envs, pretrain_n_steps=steps + 1))


@pytest.mark.parametrize("case", BAD_OPTIONS, ids=lambda c: " ".join(c[0])[:60])
def test_bad_option_is_one_line_exit_2_nothing_written(case, workdir, capsys):
    args, *needles = case
    code, out, err = run_cli(args, capsys)
    assert_refused(code, err, *needles)  # click's own usage errors too: one line (they were a usage block)
    assert out == ""
    assert list(workdir.iterdir()) == []


def test_bad_data_files_for_options(workdir, capsys):
    (workdir / "empty.npz").write_bytes(b"")
    (workdir / "junk.npz").write_bytes(b"not a zip at all")
    np.savez(workdir / "other.npz", x=np.zeros(3))
    np.savez(workdir / "tiny.npz", states=np.zeros((2, 4)), actions=np.zeros((1, 2)), lengths=np.array([1]),
             terminated=np.array([False]), meta=np.array("{}"))
    (workdir / "empty.csv").write_text("")
    np.savez(workdir / "nan_torques.npz", torques=np.array([[np.nan, 0.0, 0.0]]))
    before = sorted(p.name for p in workdir.iterdir())
    cases = [
        (["learn-dyn", "--dataset", "empty.npz"], "empty file"),
        (["learn-dyn", "--dataset", "junk.npz"], "not an .npz archive"),
        (["learn-dyn", "--dataset", "other.npz"], "lacks 'states'"),
        (["learn-dyn", "--dataset", "tiny.npz"], "at least 3 non-empty trajectories"),
    ]
    for args, needle in cases:
        code, _, err = run_cli(args, capsys)
        assert_refused(code, err, needle)
    # replay files are read in gap's isolated child: still one line, exit 2
    for name, needle in (("empty.npz", "not a readable .npz file (empty file)"), ("junk.npz", "not a readable .npz"),
                         ("empty.csv", "empty"), ("nan_torques.npz", "NaN")):
        code, _, err = run_cli(["gap", "--scenario", f"replay={name}", "--horizon", "5", "--no-report", "-q"], capsys)
        assert_refused(code, err, name, needle)
    assert sorted(p.name for p in workdir.iterdir()) == before


def test_real_process_has_no_traceback(workdir):
    """The installed entry point, as a user runs it (one case per command is enough here)."""
    for args, needle in ((["gap", "--weights", "nan,1,1"], "--weights"),):
        p = subprocess.run([sys.executable, "-m", "simmatch.cli.app", *args], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 2 and "Traceback" not in p.stderr and needle in p.stderr
        assert [ln for ln in p.stderr.splitlines() if ln.strip()][-1].startswith("error:")
    assert list(workdir.iterdir()) == []


# -- model files ------------------------------------------------------------------------------------
BAD_MODELS = [
    ("mass_1e308.urdf", pendulum(mass="1e308"), "link[arm]/inertial/mass", "out of range"),
    ("origin_1e300.urdf", pendulum(xyz="1e300 0 0"), "joint[hinge]/origin", "out of range"),
    ("underscore.urdf", pendulum(mass="1_000"), "link[arm]/inertial/mass", "'1_000' is not a number"),
    ("fullwidth.urdf", pendulum(mass="\uff11"), "link[arm]/inertial/mass", "is not a number"),
    ("nan_mass.urdf", pendulum(mass="nan"), "link[arm]/inertial/mass", "not finite"),
    ("inf_origin.urdf", pendulum(xyz="0 -inf 0"), "joint[hinge]/origin", "not finite"),
    ("hex.urdf", pendulum(mass="0x10"), "link[arm]/inertial/mass", "is not a number"),
    ("neg_effort.urdf", pendulum(effort="-5"), "joint[hinge]/limit", "effort='-5' is negative"),
    ("neg_velocity.urdf", pendulum(velocity="-1"), "joint[hinge]/limit", "velocity='-1' is negative"),
    ("two_origins.urdf", pendulum(extra='<origin xyz="0 0 2"/>'), "joint[hinge]", "<origin> appears 2 times"),
    ("two_limits.urdf", pendulum(extra='<limit lower="-1" upper="1" effort="1" velocity="1"/>'), "joint[hinge]",
     "<limit> appears 2 times"),
    ("long_name.urdf", pendulum(joint="j" * 100_000), "joint[", "100000 characters long"),
    ("ctrl_name.urdf", pendulum(joint="a&#9;b"), "joint[", "control characters"),
]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("fname,text,element,problem", BAD_MODELS, ids=[c[0] for c in BAD_MODELS])
def test_bad_model_file_one_line(fname, text, element, problem, workdir, capsys):
    path = _write(workdir / fname, text)
    with pytest.raises(ModelError) as info:
        load_urdf(path)
    assert info.value.element.startswith(element) and problem in info.value.problem
    assert len(str(info.value)) < 400  # a 100,000-character name is cut in the message
    t = time.perf_counter()
    code, _, err = run_cli(["show", str(path)], capsys)
    assert time.perf_counter() - t < 10
    assert_refused(code, err, fname, problem)
    assert sorted(p.name for p in workdir.iterdir()) == [fname]


def test_file_level_problems(workdir, capsys):
    good = pendulum()
    (workdir / "utf16.urdf").write_bytes(good.encode("utf-16"))
    (workdir / "utf16be.urdf").write_bytes(good.encode("utf-16-be"))  # no byte-order mark
    (workdir / "binary.urdf").write_bytes(bytes(range(256)) * 2)  # NUL bytes, but not UTF-16 text
    (workdir / "latin1.urdf").write_bytes(pendulum(robot="caf\xe9").replace('encoding', 'x').encode("latin-1"))
    (workdir / "empty.urdf").write_bytes(b"")
    (workdir / "blank.urdf").write_text("  \n\n")
    (workdir / "folder.urdf").mkdir()
    (workdir / "bad_encoding.urdf").write_text(good.replace('<?xml version="1.0"?>',
                                                            '<?xml version="1.0" encoding="klingon"?>'))
    for name, needle in (("utf16.urdf", "UTF-16"), ("utf16be.urdf", "UTF-16"), ("binary.urdf", "binary file"),
                         ("latin1.urdf", "not UTF-8"), ("empty.urdf", "is empty"),
                         ("blank.urdf", "is empty"), ("folder.urdf", "not a regular file"),
                         ("bad_encoding.urdf", "xml")):
        code, _, err = run_cli(["show", name], capsys)
        assert_refused(code, err, name, needle)


def test_markup_in_names_is_printed_verbatim(workdir, capsys, monkeypatch):
    """A name holding rich markup ('[/x]', '[bold]') loads and is shown as written."""
    monkeypatch.setenv("COLUMNS", "200")
    path = _write(workdir / "markup.urdf", pendulum(robot="r[/x]", joint="j[bold]x[/]"))
    code, out, err = run_cli(["show", str(path)], capsys)
    assert code == 0, err
    assert "r[/x]" in out and "j[bold]x[/]" in out


# -- fuzzer -----------------------------------------------------------------------------------------
def _shipped_urdfs() -> list[Path]:
    folder = resources.files("simmatch.assets")
    return sorted(Path(str(folder.joinpath(n))) for n in ("hopper.urdf", "pendulum.urdf", "double_pendulum.urdf"))


TOKENS = ["", " ", "0", "-1", "1e308", "-1e300", "nan", "inf", "1_000", "\uff11", "0x1", "1,2,3", "1 2", "1 2 3",
          "1 2 3 4", "[/x]", "a" * 300, "1e-320", "+.5", "5.", "--1", "\x00"[:0] + "\u202e", "true"]


@st.composite
def mutants(draw):
    src = draw(st.sampled_from(_shipped_urdfs()))
    root = ET.parse(src).getroot()
    elements = list(root.iter())
    for _ in range(draw(st.integers(1, 3))):
        el = draw(st.sampled_from(elements))
        op = draw(st.sampled_from(["set", "drop_attr", "drop", "dup", "rename"]))
        if op == "set" and el.attrib:
            el.set(draw(st.sampled_from(sorted(el.attrib))), draw(st.sampled_from(TOKENS)))
        elif op == "drop_attr" and el.attrib:
            del el.attrib[draw(st.sampled_from(sorted(el.attrib)))]
        elif op in ("drop", "dup") and el is not root:
            parent = next(p for p in root.iter() if el in list(p))
            if op == "drop":
                parent.remove(el)
            else:
                parent.append(ET.fromstring(ET.tostring(el)))
        elif op == "rename" and el is not root:
            el.tag = draw(st.sampled_from(["origin", "limit", "geometry", "mass", "joint", "link", "x"]))
        elements = list(root.iter())
    return src.name, ET.tostring(root, encoding="unicode")


@hyp_seed(20261129)
@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mutants())
def test_fuzzed_shipped_urdfs_load_or_refuse_in_one_line(tmp_path, capsys, case):
    name, text = case
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code = main(["show", str(path)])
    err = capsys.readouterr().err
    assert code in (0, 2), err
    if code == 2:
        assert_refused(code, err, name)
    else:
        assert "Traceback" not in err


# -- big models -------------------------------------------------------------------------------------
def test_big_model_lookups_are_constant_time(tmp_path):
    path = tmp_path / "fixed3000.urdf"
    path.write_text(chain_urdf(3000, fixed_every=1))
    t = time.perf_counter()
    m = load_urdf(path)
    load_s = time.perf_counter() - t
    assert len(m.links) == 3001 and m.dof == 0
    t = time.perf_counter()
    for i in range(3000):
        assert m.link(f"l{i}").name == f"l{i}"
        assert m.joint(f"j{i}").child == f"l{i}"
        assert m.parent_joint(f"l{i}").name == f"j{i}"
        assert [j.name for j in m.child_joints(f"l{i}")] == ([f"j{i + 1}"] if i < 2999 else [])
    lookups_s = time.perf_counter() - t
    assert len(m.link_order) == 3001 and m.link_order[:3] == ["world", "l0", "l1"]
    assert lookups_s < 1.0, lookups_s  # 12,000 look-ups; linear scans took minutes
    assert load_s < 10.0, load_s
    with pytest.raises(KeyError, match="no link named 'nope'"):
        m.link("nope")


def test_fixed_links_add_no_work_per_state(tmp_path):
    """A 2000-link model whose links are all welded: check of the model alone stays fast (the reference
    dynamics merge welded links once), and a 0-DoF model gives empty dynamics, not a crash."""
    from simmatch.compare.run import run_check

    path = tmp_path / "fixed2000.urdf"
    path.write_text(chain_urdf(2000, fixed_every=1))
    t = time.perf_counter()
    r = run_check(str(path), engines=[], random_q=3)
    assert time.perf_counter() - t < 30
    assert r.timing["reference"] < 5


def test_huge_model_is_refused_before_the_engines(workdir, capsys):
    path = workdir / "fixed1500.urdf"
    path.write_text(chain_urdf(1500, fixed_every=1))
    for args in (["check", str(path), "--random-q", "1"], ["gap", "--model", str(path), "--horizon", "2"]):
        t = time.perf_counter()
        code, _, err = run_cli(args, capsys)
        assert_refused(code, err, "1501 links: engines build at most 1000", "--no-limit")
        assert time.perf_counter() - t < 20
    assert sorted(p.name for p in workdir.iterdir()) == ["fixed1500.urdf"]


def test_reference_with_fixed_groups_matches_pinocchio(tmp_path):
    """The composite-body reference dynamics against Pinocchio on a chain with every third joint fixed."""
    pin = pytest.importorskip("pinocchio")
    from simmatch.compare.reference import ReferenceDynamics
    from simmatch.kinematics import random_state

    path = tmp_path / "mixed.urdf"
    path.write_text(chain_urdf(12, fixed_every=3))
    m = load_urdf(path)
    pm = pin.buildModelFromUrdf(str(path))
    pm.gravity.linear = np.array([0.0, 0.0, -9.81])
    pd = pm.createData()
    assert [pm.names[i] for i in range(1, pm.njoints)] == m.joint_names
    ref = ReferenceDynamics(m)
    rng = np.random.default_rng(3)
    for _ in range(5):
        s = random_state(m, rng)
        M = pin.crba(pm, pd, s.q)
        M = np.triu(M) + np.triu(M, 1).T
        h = pin.rnea(pm, pd, s.q, s.dq, np.zeros(m.dof))
        np.testing.assert_allclose(ref.mass_matrix(s), M, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(ref.bias_forces(s), h, rtol=1e-9, atol=1e-9)


def test_check_time_grows_about_linearly_with_links(tmp_path):
    """Model-only check (reference kinematics and dynamics, comparators) of 32- and 128-joint chains:
    4x the joints must not cost more than ~4^2 (the mass matrix has n^2 entries) -- it was ~4^3."""
    from simmatch.compare.run import run_check

    times = {}
    for n in (32, 128):
        path = tmp_path / f"chain{n}.urdf"
        path.write_text(chain_urdf(n))
        t = time.perf_counter()
        run_check(str(path), engines=[], random_q=5)
        times[n] = time.perf_counter() - t
    assert times[128] < 16 * times[32] + 1.0, times
    assert times[128] < 10, times


def test_huge_joint_limits_are_a_valid_no_limit_idiom(tmp_path):
    """Gazebo-style files write limits of +-1e16 for 'no limit' (example-robot-data's iris): finite,
    so they load (PyBullet and Pinocchio load them); the 1e9 cap is for masses, lengths and origins."""
    path = _write(tmp_path / "huge.urdf", pendulum().replace('lower="-2" upper="2"', 'lower="-1e+16" upper="1e+16"'))
    m = load_urdf(path)
    assert m.joint("hinge").limit.lower == -1e16 and m.joint("hinge").limit.upper == 1e16
    with pytest.raises(ModelError, match="out of range"):
        load_urdf(_write(tmp_path / "heavy.urdf", pendulum(mass="1e12")))


def test_identical_copies_of_a_single_valued_element_are_read_once(tmp_path):
    """pybullet_data's spirit40newer repeats `<axis xyz="0 1 0"/>` in a joint: the copies mean the same
    thing (PyBullet and Pinocchio load it), so it loads; two different copies stay refused."""
    same = load_urdf(_write(tmp_path / "same.urdf", pendulum(extra='<axis xyz="1 0 0"/>')))
    assert same.joint("hinge").axis == (1.0, 0.0, 0.0)
    with pytest.raises(ModelError, match="appears 2 times, differently"):
        load_urdf(_write(tmp_path / "differ.urdf", pendulum(extra='<axis xyz="0 1 0"/>')))
