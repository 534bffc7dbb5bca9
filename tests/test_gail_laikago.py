"""Laikago in learn-dyn: the paper's per-foot correction space (28 outputs), per-foot contact read back
from each source engine, the scripted trot walks in PyBullet and MuJoCo, early termination when the
torso touches the floor, the notes' observation, and a tiny learn-dyn run end to end."""

import json
from pathlib import Path

import numpy as np
import pytest

from simmatch.gail.behavior import make_behaviour, make_task_env
from simmatch.gail.corrections import TORQUE_SCALE_RANGE, CorrectionSpace
from simmatch.gail.dataset import initial_state
from simmatch.gail.features import generator_obs
from simmatch.gail.laikago import LAIKAGO_FEET, legged_obs, legged_spec, torso_on_ground
from simmatch.gail.sim import HybridSim, fell_fn
from simmatch.registry import load_model

ENGINE_DT = 0.002  # SimConfig's 500 Hz


@pytest.fixture(scope="module")
def laikago():
    return load_model("laikago")


def test_spec_found_for_laikago_only(laikago):
    spec = legged_spec(laikago)
    assert spec is not None and spec.torso == "chassis" and set(spec.feet) == set(LAIKAGO_FEET)
    assert legged_spec(load_model("hopper")) is None


def test_contact_space_is_the_papers_28_outputs(laikago):
    sp = CorrectionSpace("contact", laikago)
    assert sp.dim == 28 and set(sp.links) == set(LAIKAGO_FEET)
    for foot in LAIKAGO_FEET:
        for k in ("friction", "restitution", "softness", "damping_ratio"):
            assert f"{k}[{foot}]" in sp.names
    scales = [d for d in sp.dims if d.name.startswith("torque_scale[")]
    assert len(scales) == 12 and all((d.lo, d.nominal, d.hi) == (*TORQUE_SCALE_RANGE[:1], 1.0,
                                                                   TORQUE_SCALE_RANGE[1]) for d in scales)
    d = {x.name: x for x in sp.dims}
    assert (d["friction[toeFR]"].lo, d["friction[toeFR]"].nominal, d["friction[toeFR]"].hi) == (0.3, 1.0, 2.0)
    assert (d["restitution[toeFR]"].lo, d["restitution[toeFR]"].hi) == (0.0, 0.6)
    assert (d["softness[toeFR]"].lo, d["softness[toeFR]"].hi) == (0.0, 1.0)
    assert (d["damping_ratio[toeFR]"].lo, d["damping_ratio[toeFR]"].hi) == (0.1, 3.0)
    # any generator output stays inside the bounds; zero output is nominal
    v = sp.physical(np.full(28, 50.0))
    assert np.all(v <= [x.hi for x in sp.dims]) and np.allclose(sp.physical(np.zeros(28)),
                                                                 [x.nominal for x in sp.dims])
    # MuJoCo has no restitution coefficient: 3 x 4 + 12
    assert CorrectionSpace("contact", laikago, ("friction", "stiffness", "damping")).dim == 24
    fs = CorrectionSpace("force", laikago)
    assert fs.dim == 24 and set(fs.links) == set(LAIKAGO_FEET)


@pytest.mark.parametrize("src", ["bullet", "mujoco"])
def test_each_foot_parameter_changes_that_foot_only(laikago, src):
    sim = HybridSim(laikago, src, "contact")
    sp, be = sim.space, sim.backend
    assert sp is not None
    before = {f: be.get_contact_params(f) for f in LAIKAGO_FEET}
    for foot in LAIKAGO_FEET:
        u = np.zeros(sp.dim)
        u[sp.index(f"friction[{foot}]")] = 1.0
        u[sp.index(f"softness[{foot}]")] = 1.0  # compliant: k = 10^(5 - 2 tanh(1))
        sim.correct(u)
        now = {f: be.get_contact_params(f) for f in LAIKAGO_FEET}
        v = sp.physical(u)
        assert now[foot]["friction"] == pytest.approx(v[sp.index(f"friction[{foot}]")])
        assert now[foot]["friction"] != pytest.approx(before[foot]["friction"])
        k = 10.0 ** (5.0 - 2.0 * v[sp.index(f"softness[{foot}]")])
        assert now[foot]["stiffness"] == pytest.approx(k, rel=1e-6)
        for other in set(LAIKAGO_FEET) - {foot}:
            assert now[other]["friction"] == pytest.approx(before[other]["friction"])
            assert now[other]["stiffness"] != pytest.approx(k, rel=1e-6)
        if src == "bullet":
            u[sp.index(f"restitution[{foot}]")] = 1.0
            sim.correct(u)
            r = be.get_contact_params(foot)["restitution"]
            assert r == pytest.approx(sp.physical(u)[sp.index(f"restitution[{foot}]")]) and r > 0.3
            assert all(be.get_contact_params(o)["restitution"] == 0.0 for o in set(LAIKAGO_FEET) - {foot})
    sim.close()


def _trot(laikago, src, steps, seed=0):
    """The trot at 250 Hz control (substeps 2): distance along x (m), speed (m/s), torso contact."""
    beh = make_behaviour("trot", laikago, dt=2 * ENGINE_DT)
    sim = HybridSim(laikago, src, None, substeps=2)
    rng = np.random.default_rng(seed)
    s0 = s = initial_state(laikago, rng)
    sim.reset_to(s)
    beh.reset(rng)
    fell = fell_fn(laikago, backend=lambda: sim.backend)
    for t in range(steps):
        s = sim.step(None, beh.act(s, t, rng))
        if fell(s):
            sim.close()
            return s[0] - s0[0], (s[0] - s0[0]) / ((t + 1) * sim.dt), True, s
    sim.close()
    return s[0] - s0[0], (s[0] - s0[0]) / (steps * sim.dt), False, s


@pytest.mark.parametrize("src", ["bullet", "mujoco"])
def test_trot_walks_forward_without_torso_contact(laikago, src):
    dist, _speed, fell, s = _trot(laikago, src, 500)  # 2 s
    assert not fell and s[2] > 0.4  # still standing
    assert dist > 0.3, f"{src}: {dist:.3f} m in 2 s"


def test_trot_is_deterministic_given_the_seed(laikago):
    a, b = _trot(laikago, "bullet", 100, seed=3), _trot(laikago, "bullet", 100, seed=3)
    assert np.array_equal(a[3], b[3])


@pytest.mark.parametrize("src", ["bullet", "mujoco"])
def test_termination_when_torso_dropped_on_floor(laikago, src):
    sim = HybridSim(laikago, src, None, substeps=10)
    fell = fell_fn(laikago, backend=lambda: sim.backend)
    s = initial_state(laikago, np.random.default_rng(0))
    s2 = sim.step(s, np.zeros(12), reset=True)
    assert not fell(s2) and not torso_on_ground(sim.backend, "chassis")  # standing: feet only
    flipped = s.copy()
    flipped[2], flipped[3:7] = 0.4, (1.0, 0.0, 0.0, 0.0)  # upside down 40 cm up, legs in the air, limp
    sim.reset_to(flipped)
    hit_at = None
    for t in range(50):
        s2 = sim.step(None, np.zeros(12))
        if fell(s2):
            hit_at = t
            break
    # free fall of ~0.3 m takes ~0.25 s = 12 control steps; the torso is then on the floor
    assert hit_at is not None and 5 <= hit_at <= 20 and s2[2] < 0.15
    assert {c.link for c in sim.backend.contacts()} == {"chassis"}
    sim.close()


def test_observation_is_the_notes(laikago):
    s = initial_state(laikago, np.random.default_rng(0))
    n = laikago.dof
    s[7 + n:10 + n] = (1.0, 0.0, 0.0)  # world x velocity
    s[3:7] = (0.0, 0.0, np.sin(np.pi / 4), np.cos(np.pi / 4))  # yaw 90 degrees
    o = legged_obs(laikago, s)
    assert o.shape == (1 + 3 + 3 + 3 + 2 * n,)
    assert o[0] == s[2] and o[3] == pytest.approx(np.pi / 2)
    assert np.allclose(o[4:7], (0.0, -1.0, 0.0), atol=1e-12)  # base frame: the robot faces +y
    assert np.array_equal(o[10:10 + n], s[7:7 + n])
    a = np.zeros(12)
    assert np.array_equal(generator_obs(laikago, s, a), np.concatenate([o, a]))


def test_task_env_walk_reward_and_torso_termination(laikago):
    env = make_task_env(laikago, "bullet", seed=0, max_steps=20, substeps=2)
    obs, info = env.reset(seed=0)
    assert obs.shape == (1 + 3 + 3 + 3 + 24,)
    beh = make_behaviour("trot", laikago, dt=2 * ENGINE_DT)
    rng = np.random.default_rng(0)
    s, total = info["state"], 0.0
    for t in range(20):
        _, r, term, trunc, info = env.step(beh.act(s, t, rng))
        s, total = info["state"], total + r
        assert not term
    assert trunc and total > 15.0  # alive bonus 1 per step plus forward progress
    env.sim.close()


TINY = ["--behavior", "trot", "--substeps", "2", "--n-traj", "6", "--max-steps", "20", "--horizon", "5",
        "--n-envs", "1", "--n-steps", "32", "--pretrain-n-steps", "16", "--batch-size", "32", "--n-epochs", "1", "--pretrain-iters", "1",
        "--gail-iters", "1", "--disc-steps", "2", "--eval-transitions", "20", "--score-transitions", "20",
        "--backend-traj", "1", "--sysid-evals", "4", "--sysid-transitions", "10", "--json", "-q"]


def _joint_speeds(laikago, amp, n_traj=4, steps=100):
    """|dq| (rad/s) of every joint over `n_traj` trot trajectories in PyBullet at 250 Hz."""
    from simmatch.gail.dataset import collect
    from simmatch.variants import make_target

    beh = make_behaviour("trot", laikago, dt=2 * ENGINE_DT, trot_amp=amp)
    be = make_target("bullet", laikago)
    ds = collect(be, laikago, beh, n_traj, steps, 2, 0, fell=fell_fn(laikago, backend=lambda: be))
    be.close()
    n = laikago.dof
    assert not any(t.terminated for t in ds.trajectories)  # 0.4 s of trot: standing throughout
    return np.abs(np.vstack([t.states for t in ds.trajectories])[:, 13 + n:13 + 2 * n])


def test_trot_amp_scales_the_swing_and_the_joint_speeds(laikago):
    """--trot-amp multiplies the thigh and knee amplitudes; at 3 the joints reach the speeds where the
    emf target's clip(1 - |dq|/15) departs from 1 (the walking trot's 99th percentile stays under 3 rad/s)."""
    base, fast = (make_behaviour("trot", laikago, dt=2 * ENGINE_DT, trot_amp=a) for a in (1.0, 3.0))
    assert fast.nominal[0] == base.nominal[0]  # the frequency is kept
    assert fast.nominal[1:] == pytest.approx(tuple(3 * x for x in base.nominal[1:]))
    slow_dq, fast_dq = _joint_speeds(laikago, 1.0), _joint_speeds(laikago, 3.0)
    assert np.percentile(slow_dq, 99) < 4.0
    assert np.percentile(fast_dq, 99) > 2 * np.percentile(slow_dq, 99) and fast_dq.max() > 12.0


def test_trot_amp_names_the_run_and_its_data(laikago):
    from simmatch.gail.config import LearnDynConfig
    from simmatch.gail.pipeline import data_key, run_name

    walk = LearnDynConfig(model="laikago", dst="bullet:emf", behavior="trot", substeps=2)
    fast = LearnDynConfig(model="laikago", dst="bullet:emf", behavior="trot", substeps=2, trot_amp=3.0)
    assert "_trot_" in run_name(walk) and "_trot3x_" in run_name(fast)
    assert data_key(walk) != data_key(fast)  # a dataset of the other trot is not reused


def test_close_trot_amps_never_share_a_run_name_or_data():
    """--trot-amp named the run and keyed its data to 6 significant digits (:g): 0.3333333 and 0.3333334
    were one 'trot0.333333x' run folder whose dataset each would reuse, 1.0000001 was 'trot1x'; now every
    digit, and 3 is still 'trot3x' (the README run's name)."""
    from simmatch.gail.config import LearnDynConfig
    from simmatch.gail.pipeline import data_key, run_name

    def cfg(a):
        return LearnDynConfig(model="laikago", dst="bullet:emf", behavior="trot", substeps=2, trot_amp=a)

    assert run_name(cfg(0.3333333)) != run_name(cfg(0.3333334))
    assert data_key(cfg(0.3333333)) != data_key(cfg(0.3333334))
    assert "_trot1.0000001x_" in run_name(cfg(1.0000001))
    assert "_trot3x_" in run_name(cfg(3.0)) and "_trot2.5x_" in run_name(cfg(2.5))


@pytest.mark.parametrize("args", [["--behavior", "sine", "--trot-amp", "3"],
                                  ["--behavior", "trot", "--trot-amp", "0"],
                                  ["--behavior", "trot", "--trot-amp", "9"]])
def test_trot_amp_refused_in_one_line(tmp_path, capsys, args):
    from simmatch.cli.app import main

    rc = main(["learn-dyn", "laikago", "--src", "bullet", "--dst", "bullet:emf", "--out", str(tmp_path / "run"), *args])
    err = capsys.readouterr().err
    assert rc == 2 and "--trot-amp" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_resume_with_the_saved_trot_amp_is_not_refused(tmp_path, capsys):
    """--resume of a `--behavior trot --trot-amp 3` run with --trot-amp 3 given again (and not --behavior):
    compared with the saved config, not refused as if the run were this command's default sine (it was:
    "--trot-amp 3: scales --behavior trot; this run uses --behavior sine"); another amplitude is refused
    as a change of the saved config."""
    from simmatch.cli.app import main
    from simmatch.gail.config import LearnDynConfig

    run = tmp_path / "run"
    run.mkdir()
    saved = LearnDynConfig(model="laikago", src="bullet", dst="bullet:emf", behavior="trot", substeps=2,
                           trot_amp=3.0, run="run")
    (run / "config.json").write_text(saved.to_json() + "\n")
    # --seed 4 differs from the saved seed: the resume check runs (and stops the command before any work)
    rc = main(["learn-dyn", "laikago", "--resume", "--out", str(run), "--trot-amp", "3", "--seed", "4", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "--resume continues" in err and "--seed 4 (saved 0)" in err
    assert "--trot-amp" not in err and len(err.strip().splitlines()) == 1
    rc = main(["learn-dyn", "laikago", "--resume", "--out", str(run), "--trot-amp", "2", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "--trot-amp 2.0 (saved 3.0)" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in run.iterdir()) == ["config.json"]


def test_learn_dyn_laikago_heavy_leg_tiny_run(tmp_path, capsys):
    """learn-dyn laikago --src bullet --dst bullet:heavy-leg end to end (about 15 s here, alone)."""
    from simmatch.cli.app import main

    rc = main(["learn-dyn", "laikago", "--src", "bullet", "--dst", "bullet:heavy-leg", "--out",
               str(tmp_path / "run"), *TINY])
    assert rc == 0
    scores = json.loads(capsys.readouterr().out)
    methods = scores["methods"]
    raw = methods["raw source"]["one_step"]["mean"]
    assert raw > 0  # heavy legs: the source differs from the target
    for m in ("learned hybrid", "random force", "domain randomisation", "sysid (constant, CMA-ES)"):
        assert np.isfinite(methods[m]["one_step"]["mean"])
    assert len(scores["generator_outputs"]) == 28  # the per-foot contact space
    assert set(scores["backends"]) == {"bullet", "dart", "mujoco"}
    ds = np.load(tmp_path / "run" / "dataset.npz")
    assert ds["states"].shape[1] == 7 + 12 + 6 + 12 and ds["actions"].shape[1] == 12


def test_exported_policy_sees_the_legged_observation(laikago, tmp_path):
    """`train-policy laikago` writes policy.pt: the TorchScript module computes the notes' observation
    itself (torch ops) and gives the torques of PPO.predict on `legged_obs`."""
    import torch
    from stable_baselines3 import PPO

    from simmatch.gail.behavior import export_torques
    from simmatch.gail.features import torques

    env = make_task_env(laikago, "bullet", seed=0, max_steps=5)
    ppo = PPO("MlpPolicy", env, n_steps=64, device="cpu", seed=0)
    export_torques(ppo, laikago, tmp_path / "p.pt")
    module = torch.jit.load(str(tmp_path / "p.pt"))
    rng = np.random.default_rng(2)
    s = initial_state(laikago, rng)
    s[3:7] = _quat_from_rpy(0.1, -0.2, 0.7)
    s[7 + 12:13 + 12] = rng.normal(size=6)
    a, _ = ppo.predict(legged_obs(laikago, s).astype(np.float32), deterministic=True)
    out = module(torch.tensor(s[None], dtype=torch.float32)).detach().numpy()[0]
    assert np.allclose(out, torques(laikago, a), atol=1e-3)
    env.sim.close()


def _quat_from_rpy(r, p, y):
    from scipy.spatial.transform import Rotation

    return Rotation.from_euler("xyz", (r, p, y)).as_quat()


def test_observation_matches_scipy_rotations(laikago):
    """legged_obs' own quaternion arithmetic against scipy's Rotation on random states."""
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(1)
    n = laikago.dof
    for _ in range(20):
        s = rng.normal(size=13 + 2 * n)
        s[3:7] /= np.linalg.norm(s[3:7])
        R = Rotation.from_quat(s[3:7])
        ref = np.concatenate([[s[2]], R.as_euler("xyz"), R.inv().apply(s[7 + n:10 + n]),
                              R.inv().apply(s[10 + n:13 + n]), s[7:7 + n], s[13 + n:]])
        assert np.allclose(legged_obs(laikago, s), ref, atol=1e-12)


def test_trot_gait_env_with_zero_residual_is_the_scripted_trot(laikago):
    """--gait trot: the task env adds the policy's action to the trot's PD action and appends the trot's
    phase (sin, cos) to the observation; a zero residual walks exactly as the scripted trot does."""
    from simmatch.gail.laikago import gait_phase

    plain = make_task_env(laikago, "bullet", seed=0, max_steps=30, substeps=2)
    gaited = make_task_env(laikago, "bullet", seed=0, max_steps=30, substeps=2, gait="trot")
    obs_p, info_p = plain.reset(seed=3)
    obs_g, info_g = gaited.reset(seed=3)
    assert obs_g.shape == (obs_p.shape[0] + 2,) and np.array_equal(obs_g[:-2], obs_p)
    trot = gaited.gait  # its frequency and amplitudes drawn from the env's rng at the reset
    assert trot.dt == pytest.approx(2 * ENGINE_DT) and np.allclose(obs_g[-2:], (0.0, 1.0))
    s = info_p["state"]
    for t in range(30):
        _, _, _, _, info_p = plain.step(trot.act(s, t, None))
        obs_g, _, _, _, info_g = gaited.step(np.zeros(12))
        s = info_p["state"]
        assert np.array_equal(info_g["state"], s)
        assert np.allclose(obs_g[-2:], gait_phase(trot, t + 1))
    assert info_g["distance"] > 0.0
    plain.close()
    gaited.close()


def test_gait_policy_runs_at_its_rate_and_gait_everywhere(laikago, tmp_path, capsys):
    """train-policy --substeps 2 --gait trot records both (config.json, the zip); learn-dyn --policy runs it
    over the same trot and refuses another --substeps in one line, writing nothing; policy.pt is not written
    (a state -> torques module has no gait time) and export_torques refuses it."""
    from stable_baselines3 import PPO

    from simmatch.cli.app import main
    from simmatch.errors import UsageError
    from simmatch.gail.behavior import PPOBehaviour, export_torques, policy_task, policy_task_of
    from simmatch.gail.laikago import gait_phase, residual_action

    pol = tmp_path / "pol"
    assert main(["train-policy", "laikago", "--steps", "64", "--n-envs", "2", "--max-steps", "20", "--substeps", "2",
                 "--gait", "trot", "--out", str(pol), "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["config"]["gait"] == "trot" and ev["config"]["substeps"] == 2
    cfg = json.loads((pol / "config.json").read_text())
    assert (cfg["gait"], cfg["substeps"]) == ("trot", 2) and not (pol / "policy.pt").exists()
    assert policy_task_of(pol / "policy.zip") == (2, "trot")
    ppo = PPO.load(str(pol / "policy.zip"), device="cpu")
    assert policy_task(ppo) == (2, "trot")
    with pytest.raises(ValueError, match="gait"):
        export_torques(ppo, laikago, tmp_path / "p.pt")
    assert not (tmp_path / "p.pt").exists()
    from simmatch.gap.scenarios import load_policy

    for given in (pol, pol / "policy.zip"):
        with pytest.raises(UsageError, match="trot gait"):
            load_policy(str(given))

    beh = PPOBehaviour(laikago, str(pol / "policy.zip"), deterministic=True, dt=2 * ENGINE_DT, substeps=2)
    beh.reset(np.random.default_rng(0))
    s = initial_state(laikago, np.random.default_rng(1))
    from simmatch.gail.behavior import task_obs

    mean, _ = ppo.predict(np.concatenate([task_obs(laikago, s), gait_phase(beh.gait, 7)]), deterministic=True)
    assert np.allclose(beh.act(s, 7, None), residual_action(beh.gait, s, 7, np.clip(mean, -1, 1)))
    with pytest.raises(UsageError, match="--substeps 10"):
        PPOBehaviour(laikago, str(pol / "policy.zip"), substeps=10)

    out = tmp_path / "run"
    assert main(["learn-dyn", "laikago", "--src", "bullet", "--dst", "bullet:heavy-leg", "--policy", str(pol),
                 "--out", str(out), "-q"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "--substeps 2" in err[0] and "Traceback" not in err[0], err
    assert not out.exists()
    tiny = [a for a in TINY if a not in ("--behavior", "trot")]
    assert main(["learn-dyn", "laikago", "--src", "bullet", "--dst", "bullet:heavy-leg", "--policy", str(pol),
                 "--out", str(out), *tiny]) == 0
    assert json.loads(capsys.readouterr().out)["methods"]["learned hybrid"]
    ds = np.load(out / "dataset.npz")
    assert ds["actions"].shape[1] == 12 and np.isfinite(ds["actions"]).all()


def test_a_fall_costs_one_second_of_alive_bonus(laikago):
    """The walking task takes `walk_fall_penalty(dt)` = WALK_FALL_S / dt at the step where the torso
    touches the floor (250 at 250 Hz), on top of `walk_reward`; `TaskReward.fall_s` (--fall-cost) sets it."""
    from simmatch.gail.behavior import TaskReward
    from simmatch.gail.laikago import WALK_FALL_S, walk_fall_penalty, walk_reward

    assert walk_fall_penalty(2 * ENGINE_DT) == pytest.approx(WALK_FALL_S * 250)
    env = make_task_env(laikago, "bullet", seed=0, max_steps=20, substeps=2)
    _, info = env.reset(seed=0)
    s = info["state"]
    _, r, term, _, info = env.step(np.zeros(12))
    assert not term and r == pytest.approx(walk_reward(laikago, s, info["state"], np.zeros(12), env.sim.dt))
    s = info["state"]
    env.fell = lambda state: True  # as if the torso touched the floor in this step
    _, r, term, _, info = env.step(np.zeros(12))
    assert term and r == pytest.approx(walk_reward(laikago, s, info["state"], np.zeros(12), env.sim.dt) - 250.0)
    env.close()
    half = make_task_env(laikago, "bullet", seed=0, max_steps=20, substeps=2, reward=TaskReward(fall_s=0.5))
    _, info = half.reset(seed=0)
    half.fell = lambda state: True  # train-policy --fall-cost 0.5: half a second
    _, r, term, _, info2 = half.step(np.zeros(12))
    assert term and r == pytest.approx(walk_reward(laikago, info["state"], info2["state"], np.zeros(12), 0.004) - 125.0)
    half.close()


def test_hip_axis_signs_follow_the_urdf(laikago):
    """hip_x: each hip axis in the torso frame (URDF axis rotated by the joint origin's rpy): pybullet_data's
    Laikago has its right hips about -x and its left hips about +x."""
    spec = legged_spec(laikago)
    assert spec.hip_x == (-1.0, 1.0, -1.0, 1.0)  # FR, FL, RR, RL


def test_a_laikago_urdf_with_its_torso_frame_turned_gets_no_legged_spec(tmp_path, capsys, laikago):
    """pybullet_data's laikago_toes.urdf has Laikago's names but its chassis frame is y up, z forward (its
    users rotate it at load): it was taken as Laikago, stood on its side (the standing state's identity
    orientation) with every hip_x +1 (its hip axes along the frame's z), and `train-policy FILE --gait
    balanced-trot` trained a policy that fell after 2 control steps. It has no legged spec now, and the
    gait is refused in one line, exit 2, nothing written; the z-up file (the registry's) keeps its spec."""
    import pybullet_data

    from simmatch.cli.app import main

    folder = Path(pybullet_data.getDataPath()) / "laikago"
    assert legged_spec(load_model(str(folder / "laikago_toes.urdf"))) is None
    zup = legged_spec(load_model(str(folder / "laikago_toes_zup.urdf")))
    assert zup is not None and zup == legged_spec(laikago)
    out = tmp_path / "pol"
    rc = main(["train-policy", str(folder / "laikago_toes.urdf"), "--gait", "balanced-trot", "--steps", "64",
               "--out", str(out), "-q"])
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2 and len(lines) == 1 and "--gait balanced-trot" in lines[0] and "x forward" in lines[0], err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_roll_reflex_moves_only_the_hip_targets(laikago):
    """TrotBehaviour's roll reflex: a torso rolled by r and pitched by p (rad), spinning at w (rad/s) about
    its forward axis, moves each hip target by -hip_x (roll_gain r + roll_rate_gain w), so the hip PD torques
    change by kp times that; the thighs and knees are untouched (pitch moves nothing)."""
    from scipy.spatial.transform import Rotation

    from simmatch.gail.laikago import TrotBehaviour

    spec = legged_spec(laikago)
    n = laikago.dof
    s = initial_state(laikago, np.random.default_rng(0))
    r, p, w = 0.1, -0.05, 0.4
    rot = Rotation.from_euler("xyz", (r, p, 0.0))  # extrinsic roll, pitch, yaw
    s[3:7] = rot.as_quat()  # x-y-z-w
    s[10 + n:13 + n] = rot.apply((w, 0.0, 0.0))  # world frame
    plain = TrotBehaviour(laikago, spec, dt=2 * ENGINE_DT, kp=10.0)
    reflex = TrotBehaviour(laikago, spec, dt=2 * ENGINE_DT, kp=10.0, roll_gain=0.7, roll_rate_gain=-0.06)
    rng = np.random.default_rng(0)
    a0, a1 = plain.act(s, 5, rng), reflex.act(s, 5, rng)
    hip = list(spec.hip)
    expected = 10.0 * -np.asarray(spec.hip_x) * (0.7 * r - 0.06 * w) / plain.effort[hip]
    assert np.allclose(a1[hip] - a0[hip], expected, atol=1e-12)
    legs = list(spec.thigh) + list(spec.knee)
    assert np.array_equal(a1[legs], a0[legs])


def test_balanced_trot_gait_walks_past_the_bar(laikago):
    """make_gait("balanced-trot"): the trot at 1.5x amplitude with the hip roll reflex, the policy's residual
    scaled by 0.1; a zero residual over it (the gait alone) walks >= WALK_BAR_M in 500 control steps at
    250 Hz without the torso touching, for the first three start states (measured: 9 of seeds 0-9, 1.46-1.64
    m). An unknown gait is refused by name."""
    from simmatch.gail.laikago import BALANCED_TROT, WALK_BAR_M, make_gait, residual_action

    gait = make_gait("balanced-trot", laikago, 2 * ENGINE_DT)
    assert (gait.roll_gain, gait.roll_rate_gain, gait.residual_scale) == tuple(
        BALANCED_TROT[k] for k in ("roll_gain", "roll_rate_gain", "residual_scale"))
    assert gait.nominal[1:] == pytest.approx((-0.12 * 1.5, 0.15 * 1.5))
    s = initial_state(laikago, np.random.default_rng(1))
    a = np.full(12, 0.5)
    assert np.allclose(residual_action(gait, s, 7, a), np.clip(gait.act(s, 7, None) + 0.05, -1, 1))
    with pytest.raises(ValueError, match="unknown gait 'gallop'"):
        make_gait("gallop", laikago, 0.004)
    env = make_task_env(laikago, "bullet", seed=0, max_steps=500, substeps=2, gait="balanced-trot")
    try:
        for seed in range(3):
            env.reset(seed=seed)
            steps, done, info = 0, False, {}
            while not done:
                _, _, term, trunc, info = env.step(np.zeros(12))
                steps, done = steps + 1, term or trunc
            assert steps == 500 and not term and info["distance"] >= WALK_BAR_M
    finally:
        env.close()
