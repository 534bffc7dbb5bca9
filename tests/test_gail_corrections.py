"""Correction bounds: every generator output maps inside its physical range, zero output is the
raw source, the torque scale can represent 0.5, the force is zero away from the ground."""

import numpy as np
import pytest

from simmatch.backends import make_backend
from simmatch.errors import EngineFailure
from simmatch.gail.corrections import TORQUE_SCALE_RANGE, CorrectionSpace, invert_dims, map_dims
from simmatch.model import State
from simmatch.registry import load_model


@pytest.fixture(scope="module")
def hopper():
    return load_model("hopper")


def test_contact_space_is_the_papers_seven_outputs(hopper):
    sp = CorrectionSpace("contact", hopper)
    assert sp.dim == 7
    assert sp.names[:4] == ["friction", "restitution", "softness", "damping_ratio"]
    assert sp.names[4:] == [f"torque_scale[{j}]" for j in ("thigh_joint", "leg_joint", "foot_joint")]
    assert sp.links == ["foot"]
    # MuJoCo has no restitution: the dimension is left out
    assert "restitution" not in CorrectionSpace("contact", hopper, ("friction", "stiffness", "damping")).names


@pytest.mark.parametrize("kind", ["contact", "force"])
def test_outputs_bounded_and_zero_is_nominal(hopper, kind):
    sp = CorrectionSpace(kind, hopper)
    lo = np.array([d.lo for d in sp.dims])
    hi = np.array([d.hi for d in sp.dims])
    rng = np.random.default_rng(0)
    for u in [rng.normal(0, 10, sp.dim) for _ in range(200)] + [np.full(sp.dim, 1e6), np.full(sp.dim, -1e6)]:
        v = sp.physical(u)
        assert np.all(v >= lo - 1e-12) and np.all(v <= hi + 1e-12)
    np.testing.assert_allclose(sp.physical(np.zeros(sp.dim)), [d.nominal for d in sp.dims])


def test_torque_scale_reaches_half_and_inverse_mapping(hopper):
    sp = CorrectionSpace("contact", hopper)
    i = sp.torque_scale_index("thigh_joint")
    d = sp.dims[i]
    assert (d.lo, d.nominal, d.hi) == (TORQUE_SCALE_RANGE[0], 1.0, TORQUE_SCALE_RANGE[1])
    u = invert_dims((d,), [0.5])
    assert map_dims((d,), u)[0] == pytest.approx(0.5)
    assert abs(u[0]) < 3.0  # inside the generator's action box


def test_applying_contact_correction_scales_torque(hopper):
    sp = CorrectionSpace("contact", hopper)
    b = make_backend("bullet", hopper)
    u = np.zeros(sp.dim)
    u[sp.torque_scale_index("thigh_joint")] = invert_dims((sp.dims[sp.torque_scale_index("thigh_joint")],), [0.5])[0]
    sp.apply(b, u, np.ones(hopper.dof))
    applied = b.apply_torques(np.array([0, 0, 0, 100.0, 100.0, 100.0]))
    np.testing.assert_allclose(applied[3:], [50.0, 100.0, 100.0])
    b.close()


def test_force_space_is_zero_away_from_ground(hopper):
    sp = CorrectionSpace("force", hopper)
    calls = []

    class Stub:
        def apply_external_force(self, link, f, t):
            calls.append((link, np.array(f), np.array(t)))

    u = np.full(sp.dim, 2.0)
    sp.apply(Stub(), u, np.ones(hopper.dof), lowest_z={"foot": 0.5})
    assert not calls[-1][1].any() and not calls[-1][2].any()
    sp.apply(Stub(), u, np.ones(hopper.dof), lowest_z={"foot": 0.0})
    assert calls[-1][1].any()
    assert np.all(np.abs(calls[-1][1]) <= sp.dims[0].hi)


@pytest.mark.parametrize("engine", ["bullet", "mujoco"])
def test_backend_setters_change_the_dynamics(hopper, engine):
    b = make_backend(engine, hopper)
    s0 = State(np.zeros(6), np.zeros(6))

    def run():
        b.set_state(s0)
        for _ in range(100):
            b.apply_torques(np.array([0, 0, 0, 30.0, 20.0, 10.0]))
            b.step()
        return b.get_state().q

    base = run()
    b.apply_external_force("torso", [60.0, 0, 0])
    pushed = run()
    b.apply_external_force("torso", [0, 0, 0])
    assert pushed[0] > base[0] + 0.05
    np.testing.assert_allclose(run(), base, atol=1e-9)
    b.set_contact_params("foot", friction=0.1, stiffness=2000.0, damping=200.0)
    assert np.abs(run() - base).max() > 1e-3
    b.close()


def test_dart_says_it_cannot():
    b = make_backend("dart", load_model("hopper"))
    with pytest.raises(EngineFailure, match="engine dart cannot"):
        b.apply_external_force("foot", [1, 0, 0])
    with pytest.raises(EngineFailure, match="engine dart cannot"):
        b.set_contact_params("foot", friction=0.5)
    b.close()
