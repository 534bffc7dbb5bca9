"""Scenarios: seeded, reproducible, torques only on actuated joints, files read as documented."""

import warnings

import numpy as np
import pytest

from simmatch import UsageError, load_model
from simmatch.gap.scenarios import Scenario, parse_scenario, standing_state


@pytest.fixture(scope="module")
def hopper():
    return load_model("hopper")


def _episode(hopper, text, **kw):
    return Scenario(parse_scenario(text, **kw), hopper, 0.002).episode(kw.pop("ep", 0))


@pytest.mark.parametrize("name", ["drop", "sine", "random"])
def test_builtin_scenarios_are_seeded(hopper, name):
    a = _episode(hopper, name, horizon=300, noise=0.05, seed=3)
    b = _episode(hopper, name, horizon=300, noise=0.05, seed=3)
    c = _episode(hopper, name, horizon=300, noise=0.05, seed=4)
    np.testing.assert_array_equal(a.torques, b.torques)
    np.testing.assert_array_equal(a.initial.q, b.initial.q)
    assert not np.array_equal(a.initial.q, c.initial.q)
    assert a.torques.shape == (300, 6)
    assert not a.torques[:, :3].any()  # the planar root is not actuated
    if name == "drop":
        assert not a.torques.any()
    else:
        assert np.abs(a.torques[:, 3:]).max() <= 0.5 * 200 + 1e-9  # default amplitude: half the effort
        assert np.abs(a.torques[:, 3:]).max() > 50
        if name == "sine":
            assert not np.array_equal(a.torques, c.torques)


def test_random_torques_are_smooth(hopper):
    tau = _episode(hopper, "random", horizon=500).torques[:, 3:]
    step = np.abs(np.diff(tau, axis=0)).max()
    assert step < 2 * 100 / 25 + 1e-9  # knots every 25 steps: at most 2 * amplitude / 25 per step


def test_noise_stays_within_limits(hopper):
    s = _episode(hopper, "drop", noise=1.0, seed=1).initial
    for k, j in enumerate(hopper.dof_joints):
        if j.limited:
            assert j.limit.lower <= s.q[k] <= j.limit.upper


def test_floating_root_starts_above_the_floor():
    m = load_model("laikago")
    s = standing_state(m)
    assert 0.2 < s.root_pos[2] < 1.5


def test_replay_npz_and_csv(hopper, tmp_path):
    tau = np.linspace(-1, 1, 30).reshape(10, 3)
    np.savez(tmp_path / "t.npz", torques=tau)
    e = _episode(hopper, f"replay={tmp_path / 't.npz'}", horizon=100, torque_scale=2.0)
    assert e.torques.shape == (10, 6)  # horizon clipped to the file
    np.testing.assert_allclose(e.torques[:, 3:], 2 * tau)
    (tmp_path / "t.csv").write_text("leg_joint,foot_joint\n1,2\n3,4\n")
    e = _episode(hopper, f"replay={tmp_path / 't.csv'}", horizon=100)
    np.testing.assert_allclose(e.torques, [[0, 0, 0, 0, 1, 2], [0, 0, 0, 0, 3, 4]])
    (tmp_path / "bad.csv").write_text("nope,foot_joint\n1,2\n")
    with pytest.raises(UsageError, match="unknown joints"):
        _episode(hopper, f"replay={tmp_path / 'bad.csv'}")
    np.savez(tmp_path / "wrong.npz", torques=np.zeros((5, 4)))
    with pytest.raises(UsageError, match="columns"):
        _episode(hopper, f"replay={tmp_path / 'wrong.npz'}")


try:
    import torch

    class ConstantPolicy(torch.nn.Module):
        """obs (1, 12) -> torques for the 3 actuated joints."""

        def forward(self, obs):
            return obs[:, :3] * 0 + torch.tensor([[1.0, 2.0, 3.0]])
except ImportError:  # the core runs without torch; this test is skipped then
    torch = None


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_policy_file(hopper, tmp_path):
    P = ConstantPolicy
    path = tmp_path / "p.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated, still supported
        torch.jit.script(P()).save(str(path))
    e = _episode(hopper, f"policy={path}")
    assert e.torques is None
    from simmatch import State

    np.testing.assert_allclose(e.policy(State(np.zeros(6), np.zeros(6))), [0, 0, 0, 1, 2, 3])
    torch.save(P(), tmp_path / "m.pt")
    e = _episode(hopper, f"policy={tmp_path / 'm.pt'}", torque_scale=0.5)
    np.testing.assert_allclose(e.policy(State(np.zeros(6), np.zeros(6))), [0, 0, 0, 0.5, 1, 1.5])


@pytest.mark.parametrize("text, message", [("jump", "unknown scenario"), ("replay", "needs a file"),
                                            ("drop=x", "takes no file"), ("replay=/no/such.npz", "no such file")])
def test_bad_scenarios(text, message):
    with pytest.raises(UsageError, match=message):
        parse_scenario(text)


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_a_policy_for_another_model_is_one_line_naming_its_model(tmp_path, monkeypatch, capsys):
    """The shipped hopper policy with the pendulum was an internal error (exit 70: the TorchScript module
    failed on the 2-value state), with Laikago a message without the policy's model; both are now refused
    when the scenario is made, naming the model the policy was trained on (its config.json)."""
    from pathlib import Path

    import simmatch.assets
    from simmatch.cli.app import main

    pol = Path(simmatch.assets.__file__).parent / "policies" / "hopper_bullet"
    with pytest.raises(UsageError, match=r"the policy cannot run on pendulum's state \(2 values: .*\); it was "
                                         r"trained on hopper \(.*hopper_bullet/config\.json\): pass that model"):
        Scenario(parse_scenario(f"policy={pol}"), load_model("pendulum"), 0.002)
    with pytest.raises(UsageError, match=r"policy returned 6 values; laikago needs 12; it was trained on hopper"):
        Scenario(parse_scenario(f"policy={pol / 'policy.pt'}"), load_model("laikago"), 0.002)
    Scenario(parse_scenario(f"policy={pol}"), load_model("hopper"), 0.002)  # its own model: made
    monkeypatch.chdir(tmp_path)
    assert main(["gap", "pendulum", "-s", f"policy={pol}", "--out", "gp"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {pol}: the policy cannot run on pendulum's state"), err
    assert list(tmp_path.iterdir()) == []
