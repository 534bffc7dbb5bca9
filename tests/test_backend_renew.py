"""`Backend.renew()`: an engine that says it can return to its as-built state in place (MuJoCo) must
then step bit for bit as a new build, whatever corrections were applied before (learn-dyn renews its
engines at every iteration instead of rebuilding them)."""

import numpy as np
import pytest

pytest.importorskip("mujoco")

from simmatch.gail.sim import HybridSim
from simmatch.registry import load_model


def _run(sim, space_dim, seed, steps=60):
    """A fixed sequence of actions and corrections from the sim's as-built state; the states, (steps, S)."""
    rng = np.random.default_rng(seed)
    s = sim.step(None, np.zeros(3))
    out = [s]
    for _ in range(steps):
        u = rng.normal(0.0, 1.5, space_dim)
        s = sim.step(None, rng.uniform(-1, 1, 3), u)
        out.append(s)
    return np.array(out)


@pytest.mark.parametrize("space", ["contact", "force"])
@pytest.mark.parametrize("src", ["mujoco", "mujoco:emf", "mujoco:low-power"])
def test_a_renewed_engine_steps_as_a_new_build(src, space):
    m = load_model("hopper")
    fresh = HybridSim(m, src, space)
    ref = _run(fresh, fresh.space.dim, 1)
    used = HybridSim(m, src, space)
    _run(used, used.space.dim, 2)  # other corrections: soft contacts, other friction, forces
    backend = used.backend
    used.rebuild()
    assert used.backend is backend  # renewed in place, not rebuilt
    assert np.array_equal(used.backend.torque_scale, fresh.base_scale)
    assert np.array_equal(_run(used, used.space.dim, 1), ref)
    fresh.close()
    used.close()


def test_bullet_is_rebuilt():
    pytest.importorskip("pybullet")
    m = load_model("hopper")
    sim = HybridSim(m, "bullet", "contact")
    backend = sim.backend
    assert backend.renew() is False
    sim.rebuild()
    assert sim.backend is not backend
    sim.close()


def test_renew_puts_back_what_was_changed_at_run_time():
    """Contact parameters, applied forces and the state go back to the build's, read back from MuJoCo."""
    from simmatch.variants import make_target

    m = load_model("hopper")
    b = make_target("mujoco", m)
    foot = m.links[-1].name
    built = b.get_contact_params(foot)
    state0 = b.get_state()
    b.set_contact_params(foot, friction=0.1, stiffness=1e3, damping=5.0)
    b.apply_external_force(foot, [1.0, 2.0, 3.0], [0.1, 0.2, 0.3])
    b.apply_torques(np.full(m.dof, 5.0))
    b.step(20)
    assert b.get_contact_params(foot) != built
    assert b.renew() is True
    assert b.get_contact_params(foot) == built
    assert not b.d.xfrc_applied.any() and not b.d.qfrc_applied.any()
    s = b.get_state()
    assert np.array_equal(s.q, state0.q) and np.array_equal(s.dq, state0.dq)
    b.close()
