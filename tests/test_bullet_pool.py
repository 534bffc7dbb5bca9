"""PyBullet's pool of emptied physics servers (backends/bullet.py `_ServerPool`): a build on a reused
server must step bit for bit as a build on a new one, whatever the previous build did to its server."""

import numpy as np
import pytest

pytest.importorskip("pybullet")

from simmatch.backends import bullet
from simmatch.config import ContactConfig, SimConfig
from simmatch.registry import load_model


def _run(backend, steps=150):
    """A fixed torque sequence from a fixed state; the state trajectory, (steps, 2 dof)."""
    m = backend.model
    rng = np.random.default_rng(4)
    out = []
    for _ in range(steps):
        backend.apply_torques(rng.uniform(-20, 20, m.dof))
        backend.step(2)
        s = backend.get_state()
        out.append(np.concatenate([s.q, s.dq]))
    return np.array(out)


def test_a_reused_server_steps_as_a_new_one():
    m = load_model("hopper")
    cfg = SimConfig()
    bullet._POOL.free.clear()
    fresh = bullet.BulletBackend(m, cfg)
    ref = _run(fresh)
    cid = fresh.cid
    fresh.close()
    assert len(bullet._POOL.free) == 1
    # a build that changes its server: compliant foot contact, other gravity, other solver settings
    other = bullet.BulletBackend(m, SimConfig(gravity=(0.0, 0.0, -3.0), solver_iterations=7))
    assert other.cid == cid  # the pooled server
    other.set_contact_params(m.links[-1].name, friction=0.2, stiffness=1e3, damping=10.0)
    _run(other, 20)
    other.close()
    reused = bullet.BulletBackend(m, cfg)
    assert reused.cid == cid
    assert np.array_equal(_run(reused), ref)
    reused.close()


def test_deformable_worlds_are_not_pooled():
    m = load_model("hopper")
    bullet._POOL.free.clear()
    fem = bullet.BulletBackend(m, SimConfig(contact=ContactConfig(young_modulus=2e5)))
    fem.close()
    assert bullet._POOL.free == []


def test_the_pool_is_bounded_and_per_process(monkeypatch):
    pool = bullet._ServerPool(size=1)
    import pybullet as p

    a, b = p.connect(p.DIRECT), p.connect(p.DIRECT)
    assert pool.give(a) and not pool.give(b)
    monkeypatch.setattr(pool, "pid", -1)  # as seen from a forked child
    assert pool.take() is None
    p.disconnect(a)
    p.disconnect(b)
