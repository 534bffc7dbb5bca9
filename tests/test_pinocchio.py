"""Pinocchio as an independent oracle for the dynamics simmatch holds every engine against.

On real robots that Pinocchio loads, simmatch's numpy reference (`compare.reference`) and the three
matched builds must give Pinocchio's mass matrix (`crba`), gravity torques
(`computeGeneralizedGravity`) and bias forces (`nonLinearEffects`, M qdd + h = tau) to 1e-9 of the
quantity's scale (the largest entry of Pinocchio's answer, and at least m g L, m L^2 or
m L (g + L |dq|^2) for the robot's mass m and reach L: an absolute floor, so that a quantity that is
exactly zero is not held to a relative error).

Joints are matched by name. A floating base is Pinocchio's free flyer with the root held fixed, which
is simmatch's convention (see `simmatch.compare.reference`): random root pose, zero root twist, and
the joint block of M and the joint rows of g and h. Pinocchio's continuous joints are (cos, sin)
pairs; they are converted.

A handful of robots run by default; `-m slow` runs every corpus file that Pinocchio and simmatch
load. Everything skips with a reason when pinocchio (pip `pin`) or the robot packages are missing;
`.ci/run` installs them (the `corpus` extra), so the tests do run in CI.
"""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from conftest import corpus_sweep_module

from simmatch.backends.mujoco_build import TINY_MASS
from simmatch.compare.reference import ReferenceDynamics
from simmatch.compare.snapshot import Samples
from simmatch.config import SimConfig
from simmatch.errors import ModelError
from simmatch.isolation import run_isolated
from simmatch.kinematics import link_frames
from simmatch.model import RobotModel, State
from simmatch.urdf import load_urdf

pin = pytest.importorskip("pinocchio", reason="Pinocchio is not installed (pip install 'simmatch[corpus]')")

REL = 1e-9
ENGINES = ("bullet", "dart", "mujoco")
QUANTITIES = ("mass_matrix", "gravity_torques", "bias_forces")
ROOT = Path(__file__).resolve().parents[1]


_sweep_module = corpus_sweep_module


# -- Pinocchio side ------------------------------------------------------------------------------

def massless_inertia_zeroed(path: str) -> tuple[str, list[str]]:
    """The URDF text with the inertia tensor of every massless link set to 0, and those links.

    A link with mass 0 and a nonzero tensor (franka's frame links, bolt's feet) is ambiguous: simmatch's
    model, its matched builds, PyBullet and MuJoCo drop the tensor with the mass, Pinocchio (like
    DART's loader) keeps it (cause `massless_link_inertia`). The oracle is given simmatch's reading."""
    tree = ET.parse(path)
    zeroed = []
    for link in tree.getroot().iter("link"):
        inertial = link.find("inertial")
        if inertial is None:
            continue
        mass, inertia = inertial.find("mass"), inertial.find("inertia")
        if mass is None or inertia is None or float(mass.get("value", "0")) > 0:
            continue
        if any(float(inertia.get(k, "0")) != 0.0 for k in ("ixx", "ixy", "ixz", "iyy", "iyz", "izz")):
            for k in ("ixx", "ixy", "ixz", "iyy", "iyz", "izz"):
                inertia.set(k, "0")
            zeroed.append(link.get("name"))
    return ET.tostring(tree.getroot(), encoding="unicode"), zeroed


def balanced_written(text: str, model: RobotModel) -> tuple[str, list[str]]:
    """The URDF text with every tensor simmatch balanced (`urdf.balanced_inertia`: the declared one
    breaks A + B >= C) or took from the collision shapes (an all-zero declared tensor, laikago's
    links) replaced by the one simmatch holds, and those links: the oracle is given simmatch's
    reading, which every matched build holds."""
    root = ET.fromstring(text)
    done = []
    for link in root.iter("link"):
        held = model.link(link.get("name")).inertial
        inertia = link.find("inertial/inertia")
        if held is None or held.source not in ("balanced", "collision shapes") or inertia is None:
            continue
        I = held.tensor  # in the frame of held.origin (the shapes' inertia: the declared COM, no rotation)
        origin = link.find("inertial/origin")
        if held.source == "collision shapes" and origin is not None:
            origin.set("rpy", "0 0 0")
        for k, (r, c) in {"ixx": (0, 0), "ixy": (0, 1), "ixz": (0, 2), "iyy": (1, 1), "iyz": (1, 2),
                          "izz": (2, 2)}.items():
            inertia.set(k, repr(float(I[r, c])))
        done.append(link.get("name"))
    return ET.tostring(root, encoding="unicode"), done


class PinModel:
    """Pinocchio's model of a URDF file (massless links' inertia zeroed, see
    `massless_inertia_zeroed`), with its coordinates mapped onto simmatch's joint order."""

    def __init__(self, path: str, model: RobotModel):
        self.model = model
        self.floating = model.floating
        text, self.zeroed = massless_inertia_zeroed(path)
        text, self.balanced = balanced_written(text, model)
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / Path(path).name
            copy.write_text(text)
            self.pm = (pin.buildModelFromUrdf(str(copy), pin.JointModelFreeFlyer()) if self.floating
                       else pin.buildModelFromUrdf(str(copy)))
        self.pd = self.pm.createData()
        self.pm.gravity.linear[:] = SimConfig().gravity
        dof_index = {n: i for i, n in enumerate(model.joint_names)}
        self.joints = []  # (pinocchio joint id, kind, idx_q, idx_v, simmatch dof index)
        seen = set()
        for jid in range(1, self.pm.njoints):
            j = self.pm.joints[jid]
            name = self.pm.names[jid]
            short = j.shortname()
            if jid == 1 and self.floating:
                if short != "JointModelFreeFlyer":
                    raise ValueError(f"root joint is {short}")
                self.joints.append((jid, "root", j.idx_q, j.idx_v, None))
                continue
            if name not in dof_index:
                raise ValueError(f"Pinocchio joint {name!r} ({short}) is not a simmatch DoF")
            if j.nq == 1 and j.nv == 1:
                kind = "scalar"
            elif j.nq == 2 and j.nv == 1 and ("RUB" in short or "RevoluteUnbounded" in short):
                kind = "unbounded"
            else:
                raise ValueError(f"Pinocchio joint {name!r} is {short} (nq {j.nq}, nv {j.nv})")
            self.joints.append((jid, kind, j.idx_q, j.idx_v, dof_index[name]))
            seen.add(name)
        missing = set(model.joint_names) - seen
        if missing:
            raise ValueError(f"simmatch DoFs Pinocchio does not have: {sorted(missing)}")
        # pinocchio v index of each simmatch DoF
        self.vidx = np.zeros(model.dof, dtype=int)
        for _, _kind, _, iv, i in self.joints:
            if i is not None:
                self.vidx[i] = iv

    def qv(self, state: State) -> tuple[np.ndarray, np.ndarray]:
        q = pin.neutral(self.pm)
        v = np.zeros(self.pm.nv)
        for _, kind, iq, iv, i in self.joints:
            if kind == "root":
                q[iq:iq + 3] = state.root_pos
                q[iq + 3:iq + 7] = state.root_quat  # x, y, z, w in both
                v[iv:iv + 6] = 0.0  # simmatch holds the root fixed: zero twist
            elif kind == "scalar":
                q[iq] = state.q[i]
                v[iv] = state.dq[i]
            else:
                q[iq:iq + 2] = np.cos(state.q[i]), np.sin(state.q[i])
                v[iv] = state.dq[i]
        return q, v

    def quantities(self, state: State) -> dict[str, np.ndarray]:
        """M (dof, dof), g (dof,), h (dof,) in simmatch's joint order, root held fixed."""
        q, v = self.qv(state)
        M = pin.crba(self.pm, self.pd, q)
        M = np.triu(M) + np.triu(M, 1).T  # older Pinocchio fills the upper triangle only
        g = pin.computeGeneralizedGravity(self.pm, self.pd, q)
        h = pin.nonLinearEffects(self.pm, self.pd, q, v)
        ix = self.vidx
        return {"mass_matrix": M[np.ix_(ix, ix)], "gravity_torques": np.asarray(g)[ix],
                "bias_forces": np.asarray(h)[ix]}


def scales(model: RobotModel, states) -> dict[str, float]:
    """Absolute floors: total mass m, reach L (farthest link origin or COM from the root, >= 0.1 m),
    g, largest joint speed."""
    m = sum(l.inertial.mass for l in model.links if l.inertial is not None)
    reach = 0.1
    for s in states:
        F = link_frames(model, s)
        root = F[model.root][:3, 3]
        for link in model.links:
            T = F[link.name]
            pts = [T[:3, 3]]
            if link.inertial is not None:
                pts.append((T @ np.append(link.inertial.com, 1.0))[:3])
            reach = max(reach, *(float(np.linalg.norm(p - root)) for p in pts))
    g = float(np.linalg.norm(SimConfig().gravity))
    w = max([float(np.max(np.abs(s.dq))) for s in states if len(s.dq)] or [0.0])
    m = max(m, 1e-3)
    return {"mass_matrix": m * reach**2, "gravity_torques": m * g * reach,
            "bias_forces": m * reach * (g + reach * w**2)}


def _reference(model: RobotModel, states) -> list[dict]:
    ref = ReferenceDynamics(model, SimConfig().gravity)
    return [{"mass_matrix": ref.mass_matrix(s), "gravity_torques": ref.gravity_torques(s),
             "bias_forces": ref.bias_forces(s)} for s in states]


def _engine(engine: str, model: RobotModel, states) -> tuple[list[dict], int]:
    """The matched build's quantities at `states`, and how many massless links it had to give a
    tiny mass (MuJoCo's mjMINVAL: Unsupported 'massless_link', mujoco_build.TINY_MASS each)."""
    from simmatch.backends import make_backend

    backend = make_backend(engine, model, SimConfig(), "matched")
    tiny = sum(u.feature == "massless_link" for u in backend.unsupported)
    try:
        out = []
        for s in states:
            backend.set_state(s)
            out.append({"mass_matrix": np.asarray(backend.mass_matrix(), float),
                        "gravity_torques": np.asarray(backend.gravity_torques(), float),
                        "bias_forces": np.asarray(backend.bias_forces(), float)})
        return out, tiny
    finally:
        backend.close()


def disagreements(source: str, got: list[dict], oracle: list[dict], floor: dict,
                  rel: float | None = None) -> list[str]:
    """One line per quantity whose largest error exceeds rel (default REL) x max(|Pinocchio|, floor)."""
    rel = REL if rel is None else rel
    out = []
    for qty in QUANTITIES:
        err, size = 0.0, 0.0
        for a, b in zip(got, oracle):
            x, y = np.asarray(a[qty], float), np.asarray(b[qty], float)
            if x.shape != y.shape:
                out.append(f"{source} {qty}: shape {x.shape} vs Pinocchio {y.shape}")
                break
            if x.size:
                err = max(err, float(np.max(np.abs(x - y))) if np.all(np.isfinite(x)) else np.inf)
                size = max(size, float(np.max(np.abs(y))))
        else:
            scale = max(size, floor[qty])
            if not err <= rel * scale:
                out.append(f"{source} {qty}: max abs error {err:.3g} > {rel:g} x {scale:.3g} "
                           f"(rel {err / scale:.2g}; largest |Pinocchio| {size:.3g}, floor {floor[qty]:.3g})")
    return out


def load_pair(path: str, base: str) -> tuple[RobotModel, PinModel]:
    """simmatch's and Pinocchio's model of the file; skips the test when simmatch rejects the file
    (test_corpus covers that), when it has no movable joint, or when Pinocchio's model cannot be
    mapped joint by joint."""
    try:
        model = load_urdf(Path(path), base=base)
    except ModelError as exc:
        pytest.skip(f"simmatch rejects the file (test_corpus covers it): {exc}")
    if model.dof == 0:
        pytest.skip("no movable joint: nothing to compare")
    try:
        pm = PinModel(path, model)
    except Exception as exc:  # Pinocchio's own parser, or a joint type that does not map one to one
        pytest.skip(f"Pinocchio model not comparable: {type(exc).__name__}: {exc}")
    return model, pm


def oracle_check(path: str, base: str, sources=("reference", *ENGINES), n_states: int = 4,
                 seed: int = 0) -> list[str]:
    """Every disagreement with Pinocchio of each source: 'reference' (simmatch's numpy CRBA/RNEA) or
    an engine's matched build (built in an isolated child process: a crash is a reported failure).
    A tensor that breaks A + B >= C is held balanced by simmatch's model and every matched build
    (`urdf.balanced_inertia`) and given to Pinocchio so (`balanced_written`): no source is left out."""
    model, pm = load_pair(path, base)
    states = list(Samples.draw(model, n_states, seed).states)
    oracle = [pm.quantities(s) for s in states]
    floor = scales(model, states)
    problems = []
    for source in sources:
        if source == "reference":
            problems += disagreements("reference", _reference(model, states), oracle, floor)
            continue
        outcome = run_isolated(_engine, source, model, states, timeout=600)
        if not outcome.ok:
            problems.append(f"{source}/matched: {'crashed' if outcome.crashed else 'failed'}: {outcome.error}")
            continue
        values, tiny = outcome.value
        # a build that had to give massless links a tiny mass (MuJoCo: TINY_MASS each, listed as
        # unsupported) is held to that mass's share of the robot's, not to round-off
        rel = max(REL, 10 * tiny * TINY_MASS / max(model.total_mass, 1e-12)) if tiny else REL
        problems += disagreements(f"{source}/matched", values, oracle, floor, rel)
    return problems


# -- default run: a handful of robots ------------------------------------------------------------

TILTED_ROOT_URDF = """<?xml version="1.0"?>
<!-- Fixed-base two-link arm whose root link's inertial frame is rotated (rpy plus products of
     inertia), with a skewed second axis: written for this test. -->
<robot name="tilted_root_arm">
  <link name="base">
    <inertial><origin xyz="0.02 -0.01 0.05" rpy="0.3 0.5 -0.2"/><mass value="2"/>
      <inertia ixx="0.02" ixy="0.001" ixz="0" iyy="0.025" iyz="0.002" izz="0.03"/></inertial>
  </link>
  <joint name="shoulder" type="revolute">
    <parent link="base"/><child link="upper"/><origin xyz="0 0 0.1" rpy="0.2 0 0"/><axis xyz="0 1 0"/>
    <limit lower="-3" upper="3" effort="10" velocity="10"/>
  </joint>
  <link name="upper">
    <inertial><origin xyz="0.25 0 0" rpy="0 0.1 0"/><mass value="1.5"/>
      <inertia ixx="0.004" ixy="0" ixz="0.0005" iyy="0.03" iyz="0" izz="0.03"/></inertial>
  </link>
  <joint name="elbow" type="continuous">
    <parent link="upper"/><child link="fore"/><origin xyz="0.5 0 0" rpy="0 0 0.4"/><axis xyz="0.3 0.8 0.2"/>
  </joint>
  <link name="fore">
    <inertial><origin xyz="0.2 0.01 0"/><mass value="0.7"/>
      <inertia ixx="0.002" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"/></inertial>
  </link>
</robot>
"""


def _corpus_file(package: str, rel: str):
    sweep = _sweep_module()
    for cf in sweep.discover([package]):
        if cf.rel == rel:
            return cf
    pytest.skip(f"{package} is not installed (pip install 'simmatch[corpus]') or has no {rel}")


HANDFUL = [
    ("example-robot-data", "ur_description/urdf/ur5_robot.urdf"),
    ("example-robot-data", "panda_description/urdf/panda.urdf"),
    ("example-robot-data", "solo_description/robots/solo12.urdf"),
    ("example-robot-data", "double_pendulum_description/urdf/double_pendulum_continuous.urdf"),
    ("pybullet_data", "kuka_iiwa/model.urdf"),
]
SOURCES = ("reference", *ENGINES)

def _params(items):
    out = []
    for key, values in items:
        for source in SOURCES:
            out.append(pytest.param(*values, source, id=f"{key}-{source}"))
    return out


@pytest.mark.parametrize("package,rel,source", _params([(r.split("/")[-1], (p, r)) for p, r in HANDFUL]))
def test_corpus_robot_agrees_with_pinocchio(package, rel, source):
    cf = _corpus_file(package, rel)
    problems = oracle_check(cf.path, cf.base, sources=(source,))
    assert not problems, f"{cf.name} ({' '.join(cf.args) or '--base auto'}):\n" + "\n".join(problems)


# The root of the same arm with a near-isotropic tensor and one tiny product of inertia (iCub's hand
# palm: diag 0.01, products ~1e-6): its principal axes are 45 deg off the link frame, however small
# the product. PyBullet's read-back error does not shrink with it (6 N m on a 4.9 N m pendulum).
NEAR_ISOTROPIC_ROOT_URDF = TILTED_ROOT_URDF.replace(
    '<inertia ixx="0.02" ixy="0.001" ixz="0" iyy="0.025" iyz="0.002" izz="0.03"/>',
    '<inertia ixx="0.01" ixy="1e-6" ixz="0" iyy="0.01" iyz="0" izz="0.01"/>')


@pytest.mark.parametrize("urdf,base,source", _params([
    ("tilted-fixed", (TILTED_ROOT_URDF, "fixed")), ("tilted-floating", (TILTED_ROOT_URDF, "floating")),
    ("near-isotropic-fixed", (NEAR_ISOTROPIC_ROOT_URDF, "fixed"))]))
def test_tilted_root_inertia_agrees_with_pinocchio(tmp_path, urdf, base, source):
    """A root whose inertial frame is rotated, welded (gravity fixed in the root frame) and free
    (random root orientation: gravity enters the joint rows rotated); and a welded root whose
    principal axes are rotated by a product of inertia of 1e-6."""
    if urdf is NEAR_ISOTROPIC_ROOT_URDF:
        assert 'ixy="1e-6"' in urdf and 'ixy="0.001"' not in urdf
    path = tmp_path / "tilted_root_arm.urdf"
    path.write_text(urdf)
    problems = oracle_check(str(path), base, sources=(source,), n_states=6)
    assert not problems, "\n".join(problems)


def test_oracle_comparison_catches_a_planted_error(tmp_path):
    """The comparison is not vacuous: a reference built from a model with one mass changed by 1e-6
    relative disagrees with Pinocchio's model of the original file."""
    path = tmp_path / "tilted_root_arm.urdf"
    path.write_text(TILTED_ROOT_URDF)
    model = load_urdf(path, base="fixed")
    pm = PinModel(str(path), model)
    states = list(Samples.draw(model, 3, 1).states)
    oracle = [pm.quantities(s) for s in states]
    assert not disagreements("reference", _reference(model, states), oracle, scales(model, states))
    bent = tmp_path / "bent.urdf"
    bent.write_text(TILTED_ROOT_URDF.replace('<mass value="0.7"/>', '<mass value="0.7000007"/>'))
    bad = load_urdf(bent, base="fixed")
    found = disagreements("reference", _reference(bad, states), oracle, scales(model, states))
    assert {line.split(":")[0] for line in found} == {f"reference {q}" for q in QUANTITIES}, found


def test_continuous_joint_maps_to_cos_sin():
    """A continuous joint is a (cos, sin) pair in Pinocchio: q = 2 rad must land on the same
    configuration (a wrong mapping would show as a gravity torque error at q != 0)."""
    cf = _corpus_file("example-robot-data", "double_pendulum_description/urdf/double_pendulum_continuous.urdf")
    model = load_urdf(Path(cf.path), base=cf.base)
    pm = PinModel(cf.path, model)
    assert {kind for _, kind, *_ in pm.joints} == {"unbounded"}
    s = State(np.array([2.0, -1.0]), np.zeros(2))
    g_pin = pm.quantities(s)["gravity_torques"]
    g_ref = ReferenceDynamics(model, SimConfig().gravity).gravity_torques(s)
    assert np.abs(g_pin).max() > 0.1
    np.testing.assert_allclose(g_ref, g_pin, rtol=0, atol=1e-12)


# -- slow: the whole corpus ----------------------------------------------------------------------

def _corpus_params():
    try:
        files = _sweep_module().discover()
    except Exception:  # a broken package must not break collection
        files = []
    return [pytest.param(cf.path, cf.base, id=cf.name) for cf in files] or [
        pytest.param(None, None, id="no-corpus", marks=pytest.mark.skip(reason="no corpus package installed"))]


@pytest.mark.slow
@pytest.mark.parametrize("path,base", _corpus_params())
def test_whole_corpus_agrees_with_pinocchio(path, base):
    problems = oracle_check(path, base, n_states=3)
    assert not problems, "\n".join(problems)


def test_massless_link_inertia_is_zeroed_for_pinocchio_only(tmp_path):
    """Pinocchio keeps the tensor of a massless link, simmatch drops it (massless_link_inertia): the
    oracle gets simmatch's reading, and only for massless links."""
    path = tmp_path / "frame.urdf"
    path.write_text(TILTED_ROOT_URDF.replace(
        '</robot>', '<joint name="tool" type="fixed"><parent link="fore"/><child link="flange"/></joint>'
                    '<link name="flange"><inertial><mass value="0"/><inertia ixx="0.1" ixy="0" ixz="0" '
                    'iyy="0.1" iyz="0" izz="0.1"/></inertial></link></robot>'))
    text, zeroed = massless_inertia_zeroed(str(path))
    assert zeroed == ["flange"]
    assert 'ixx="0.1"' not in text and 'ixx="0.004"' in text  # massive links untouched
    model = load_urdf(path, base="fixed")
    pm = PinModel(str(path), model)
    s = State(np.array([0.3, -0.7]), np.array([0.5, 1.0]))
    ref = ReferenceDynamics(model, SimConfig().gravity)
    np.testing.assert_allclose(pm.quantities(s)["mass_matrix"], ref.mass_matrix(s), rtol=0, atol=1e-12)
    keep = pin.buildModelFromUrdf(str(path))  # Pinocchio's own reading adds 0.1 kg m^2 about the tool
    M_keep = pin.crba(keep, keep.createData(), pm.qv(s)[0])
    assert abs(M_keep[1, 1] - ref.mass_matrix(s)[1, 1]) > 0.05


def test_impossible_inertias_are_held_balanced_by_every_build():
    """An arm whose 'fore' link declares moments 0.001 + 0.001 < 0.01: the model balances the tensor, every
    matched build holds the balanced one and Pinocchio, given it, agrees with all of them (before, PyBullet
    zeroed it, MuJoCo averaged it, and both were left out of the comparison)."""
    bad = TILTED_ROOT_URDF.replace('ixx="0.002" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"',
                                   'ixx="0.001" ixy="0" ixz="0" iyy="0.001" iyz="0" izz="0.01"')
    assert bad != TILTED_ROOT_URDF
    with tempfile.TemporaryDirectory() as tmp:
        bad_path = Path(tmp) / "bad.urdf"
        bad_path.write_text(bad)
        model = load_urdf(bad_path, base="fixed")
        assert [link.name for link in model.links if link.inertial and link.inertial.source == "balanced"] == ["fore"]
        assert PinModel(str(bad_path), model).balanced == ["fore"]
        assert oracle_check(str(bad_path), "fixed", n_states=3) == []
