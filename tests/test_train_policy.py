"""train-policy (issue 13, point 3): environments over worker processes without changing the result, a
short run trains about its --steps, the training curve in the policy folder, an evaluation that says
whether the task is done, and the shipped hopper policy that does it."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

from simmatch.cli.app import main


def _params(path):
    from stable_baselines3 import PPO

    ppo = PPO.load(str(path), device="cpu")
    return {k: v.detach().numpy().copy() for k, v in ppo.policy.state_dict().items()}


def test_result_does_not_depend_on_env_workers(tmp_path, capsys):
    """The same policy bit for bit with the environments in this process (0) and in 2 processes."""
    runs = {}
    for w in (0, 2):
        out = tmp_path / f"w{w}"
        assert main(["train-policy", "hopper", "--steps", "96", "--max-steps", "20", "--env-workers", str(w),
                     "--out", str(out), "--json", "-q"]) == 0
        runs[w] = (_params(out / "policy.zip"), json.loads(capsys.readouterr().out))
    (p0, j0), (p2, j2) = runs[0], runs[2]
    assert p0.keys() == p2.keys()
    for k in p0:
        np.testing.assert_array_equal(p0[k], p2[k], err_msg=k)
    assert j0["episodes"] == j2["episodes"] and j0["config"]["env_workers"] == 0 and j2["config"]["env_workers"] == 2
    # training changed the policy: not the untrained initial weights
    from simmatch.gail.behavior import rollout_size

    assert rollout_size(96, 2) == (48, 96)


def test_short_runs_train_about_their_steps():
    """--steps 64 trains one rollout of 32 steps per environment, not 1024 (the old fixed n_steps)."""
    from simmatch.gail.behavior import rollout_size

    assert rollout_size(64, 2) == (32, 64)
    assert rollout_size(20000, 2) == (1024, 256)
    assert rollout_size(1, 2) == (1, 2) and rollout_size(1, 1) == (2, 2)  # SB3 needs a rollout of 2
    assert rollout_size(1000, 2) == (500, 250)
    for steps in range(1, 3000, 37):
        for n_envs in (1, 2, 3, 8):
            n, b = rollout_size(steps, n_envs)
            assert 1 <= n <= 1024 and (n * n_envs) % b == 0 and (b >= 32 or b == n * n_envs)
            assert n * n_envs >= min(steps, 1024 * n_envs)


def test_json_stdout_is_the_json_alone(tmp_path, capsys):
    """--json without -q: stdout holds the JSON document only (the progress bar wrote a blank line before
    it, so `train-policy --json | jq` read an empty document first); the progress lines go to stderr."""
    out = tmp_path / "p"
    assert main(["train-policy", "hopper", "--steps", "64", "--max-steps", "20", "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("{")
    assert json.loads(captured.out)["trained_steps"] == 64
    assert "policy saved" not in captured.out


def test_trains_the_steps_asked_and_writes_its_curve(tmp_path, capsys):
    out = tmp_path / "p"
    assert main(["train-policy", "hopper", "--steps", "64", "--max-steps", "20", "--out", str(out), "--json",
                 "-q"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["trained_steps"] == 64
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "curve.png", "manifest.json", "policy.pt",
                                                      "policy.zip", "progress.csv"]
    with open(out / "progress.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 and int(rows[0]["time/total_timesteps"]) == 64
    for key in ("rollout/ep_rew_mean", "rollout/ep_len_mean", "rollout/ep_dist_mean", "time/steps_per_s"):
        assert np.isfinite(float(rows[0][key])), key
    assert float(rows[0]["rollout/ep_len_mean"]) >= 1
    assert (out / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the evaluation: per deterministic episode its forward distance and whether it fell
    assert len(res["episodes"]) == 3 and res["bar"]["distance_m"] == 1.5 and res["bar"]["steps"] == 20
    for e in res["episodes"]:
        assert set(e) == {"return", "length", "distance", "fell"} and 1 <= e["length"] <= 20
        assert e["fell"] == (e["length"] < 20)
    assert res["falls"] == sum(e["fell"] for e in res["episodes"])
    assert res["distance"] == pytest.approx(np.mean([e["distance"] for e in res["episodes"]]))
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file or folder left


def test_evaluation_distance_is_the_root_travel():
    """evaluate's distance is the root's world-x travel over the episode, read from the engine state,
    and `fell` is the task's termination."""
    from simmatch.gail.behavior import forward_index, make_task_env
    from simmatch.registry import load_model

    m = load_model("hopper")
    xi = forward_index(m)
    assert m.dof_joints[xi].name == "rootx"
    env = make_task_env(m, "bullet", 0, max_steps=40)
    try:
        _, info = env.reset(seed=3)
        x0 = env.s[xi]
        assert info["distance"] == 0.0
        term = trunc = False
        while not (term or trunc):
            _, _, term, trunc, info = env.step(np.array([-1.0, 1.0, 0.0]))
        assert info["distance"] == pytest.approx(env.s[xi] - x0)
        assert term  # full torques into the joint limits: the hopper falls within 40 steps
    finally:
        env.close()


# -- the shipped hopper policy (assets/policies/hopper_bullet) --------------------------------------
def _shipped(name: str = "hopper_bullet"):
    from pathlib import Path

    import simmatch.assets

    return Path(simmatch.assets.__file__).parent / "policies" / name


def test_shipped_hopper_policy_hops_forward_without_falling():
    """The shipped policy (trained in PyBullet, see its config.json) does the task: >= 1.5 m forward in
    500 control steps (10 s) without falling, deterministic, in each of 3 episodes (about 2 s)."""
    from simmatch.gail.behavior import HOP_BAR_M, HOP_BAR_STEPS, evaluate_return
    from simmatch.gail.config import TrainPolicyConfig
    from simmatch.registry import load_model

    folder = _shipped()
    cfg = TrainPolicyConfig.from_dict(json.loads((folder / "config.json").read_text()))
    assert cfg.model == "hopper" and cfg.src == "bullet"
    assert (folder / "policy.zip").stat().st_size < 400_000
    assert (folder / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ev = evaluate_return(load_model("hopper"), folder / "policy.zip", "bullet", episodes=3, seed=0,
                         max_steps=HOP_BAR_STEPS)
    for e in ev["episodes"]:
        assert not e["fell"] and e["length"] == HOP_BAR_STEPS, e
        assert e["distance"] >= HOP_BAR_M, e


def test_learn_dyn_records_with_the_shipped_policy(tmp_path, capsys):
    """`learn-dyn --policy assets/policies/hopper_bullet` takes the folder (a tiny run)."""
    out = tmp_path / "run"
    assert main(["learn-dyn", "hopper", "--src", "bullet", "--dst", "bullet:low-power", "--policy", str(_shipped()),
                 "--n-traj", "5", "--max-steps", "20", "--horizon", "5", "--n-envs", "1", "--n-steps", "32",
                 "--batch-size", "32", "--n-epochs", "1", "--pretrain-iters", "1", "--gail-iters", "0",
                 "--eval-transitions", "20", "--score-transitions", "20", "--backend-traj", "1",
                 "--sysid-evals", "2", "--sysid-transitions", "10", "--out", str(out), "--json", "-q"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert np.isfinite(scores["methods"]["learned hybrid"]["one_step"]["mean"])
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["policy"].endswith("hopper_bullet/policy.zip")
    ds = np.load(out / "dataset.npz")
    # the policy hops forward: the recorded trajectories move the root along x (rootx, state index 0)
    assert ds["states"][:, 0].max() > 0.05


def test_a_policy_for_another_robot_is_refused_before_anything_is_written(tmp_path, capsys):
    """`learn-dyn hopper --policy PENDULUM_POLICY` was an internal error (SB3's 'Unexpected observation
    shape') in the first rollout, after config.json and checkpoints/ were written: one line naming the file
    and both robots' sizes, exit 2, no run folder."""
    pol = tmp_path / "pendulum_policy"
    assert main(["train-policy", "pendulum", "--steps", "64", "--max-steps", "20", "--out", str(pol), "-q"]) == 0
    capsys.readouterr()
    out = tmp_path / "run"
    assert main(["learn-dyn", "hopper", "--policy", str(pol), "--n-traj", "5", "--max-steps", "20", "--horizon", "5",
                 "--out", str(out), "-q"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and str(pol / "policy.zip") in err[0], err
    assert "another robot" in err[0] and "observes 2 values and gives 1 actions, hopper needs 11 and 3" in err[0]
    assert not out.exists()


def test_an_engine_that_blows_up_ends_the_episode_unrewarded():
    """PyBullet's Laikago under random torques (0.22 x its effort limits) flew off at up to 1e6 m/s and
    was rewarded for the distance (returns of 1e6 in train-policy's first rollouts): a blown-up state
    (a root speed over TaskReward.root_speed_max, any velocity over speed_max, a non-finite state) now
    ends the episode as an engine failure, reward -10, the observation of the state before it."""
    from simmatch.gail.behavior import TaskReward, make_task_env
    from simmatch.registry import load_model

    m = load_model("laikago")
    env = make_task_env(m, "bullet", 0, max_steps=100)
    rng = np.random.default_rng(0)
    try:
        for ep in range(20):  # these seeds blew up 4 times in 20 episodes without the guard
            obs, info = env.reset(seed=ep)
            done = False
            while not done:
                obs, r, term, trunc, info = env.step(np.clip(rng.normal(0, 0.22, 12), -1, 1))
                done = term or trunc
                assert np.isfinite(obs).all() and -10.0 <= r <= 1.0 + TaskReward().root_speed_max
            assert abs(info["distance"]) < 5.0
        # the guard itself: a state with a joint velocity beyond speed_max
        env.reset(seed=0)
        before = env.s.copy()
        real_step = env.sim.step

        def blown(s, a, u=None):
            s2 = real_step(s, a, u)
            s2[-1] = 1e4
            return s2

        env.sim.step = blown
        obs, r, term, trunc, info = env.step(np.zeros(12))
        assert (r, term, trunc) == (-10.0, True, False)
        np.testing.assert_array_equal(info["state"], before)
    finally:
        env.close()


def test_a_missing_recorded_policy_is_named_as_missing(tmp_path, monkeypatch):
    """A run folder records --policy as given; resumed from another folder, a relative path is not there:
    SB3 then tried PATH.zip and the line said 'policy.zip.zip: not a readable policy zip'. It says the file
    is missing and where a relative path was read from."""
    from simmatch.errors import UsageError
    from simmatch.gail.behavior import PPOBehaviour
    from simmatch.registry import load_model

    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as err:
        PPOBehaviour(load_model("hopper"), "assets/policies/hopper_bullet/policy.zip")
    assert str(err.value) == (f"assets/policies/hopper_bullet/policy.zip: no such policy file (a relative path, "
                              f"read from {tmp_path})")


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("sig, code", [("SIGTERM", 143), ("SIGINT", 130)])
def test_interrupted_training_leaves_no_folder_and_an_older_one_as_it_was(tmp_path, capsys, sig, code):
    """A SIGTERM'd (Ctrl-C'd) train-policy left its --out folder behind, empty (a new one, and the parent
    folders made for it) or with the new run's files beside an older policy's. Now the folder is written
    whole: interrupted during training, a new --out (and its new parent) is gone, an older policy folder
    is byte for byte as it was, and no temporary file or folder is left anywhere."""
    import signal
    import subprocess
    import sys
    import time

    old = tmp_path / "old"
    assert main(["train-policy", "pendulum", "--steps", "8", "--n-envs", "1", "--max-steps", "5", "--out", str(old),
                 "-q"]) == 0
    assert (old / "policy.zip").is_file()
    before = _tree(old)
    capsys.readouterr()
    for out in (tmp_path / "new" / "pol", old):
        p = subprocess.Popen([sys.executable, "-m", "simmatch.cli.app", "train-policy", "pendulum", "--steps",
                              "10000000", "--max-steps", "5", "--out", str(out), "-q"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not any(e.name.startswith(f".{out.name}.tmp-") for e in out.parent.glob(".*")) \
                and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
        time.sleep(2.0)  # training (the staged folder exists once the model is loaded)
        assert p.poll() is None, p.communicate()
        p.send_signal(getattr(signal, sig))
        _, err = p.communicate(timeout=60)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert p.returncode == code and len(lines) == 1 and "no file left half-written" in lines[0], err
        assert sorted(e.name for e in tmp_path.iterdir()) == ["old"]  # nothing of the run, no temporary
        assert _tree(old) == before


def test_select_every_keeps_the_best_evaluated_checkpoint(tmp_path, capsys):
    """--select-every: the same training bit for bit (the last policy equals a run without selection), and the
    kept policy is the evaluated checkpoint with the highest mean return on the held-out start states
    (SELECT_SEED + seed, the same for every checkpoint), at least the last one's; eval/mean_reward is in the
    training curve."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    from simmatch.gail.behavior import SELECT_SEED, make_task_env
    from simmatch.registry import load_model

    # three rollouts of 2 x 1024 steps: three PPO updates, evaluated after the first, second and last
    common = ["train-policy", "hopper", "--steps", "6144", "--n-envs", "2", "--max-steps", "30", "--json", "-q"]
    assert main([*common, "--out", str(tmp_path / "last")]) == 0
    last = json.loads(capsys.readouterr().out)
    assert last["selected_step"] is None
    assert main([*common, "--select-every", "2048", "--select-episodes", "3", "--out", str(tmp_path / "sel")]) == 0
    sel = json.loads(capsys.readouterr().out)
    assert sel["config"]["select_every"] == 2048 and sel["selected_step"] in (2048, 4096, 6144)
    rows = list(csv.DictReader((tmp_path / "sel" / "progress.csv").read_text().splitlines()))
    assert len([r for r in rows if r.get("eval/mean_reward")]) >= 2
    hopper = load_model("hopper")

    def held_out_return(path):
        env = DummyVecEnv([lambda: Monitor(make_task_env(hopper, "bullet", SELECT_SEED, max_steps=30))])
        env.seed(SELECT_SEED)
        mean, _ = evaluate_policy(PPO.load(str(path), device="cpu"), env, n_eval_episodes=3, deterministic=True)
        env.close()
        return mean

    kept, final = held_out_return(tmp_path / "sel" / "policy.zip"), held_out_return(tmp_path / "last" / "policy.zip")
    assert kept >= final
    p_sel, p_last = _params(tmp_path / "sel" / "policy.zip"), _params(tmp_path / "last" / "policy.zip")
    same = all(np.array_equal(p_sel[k], p_last[k]) for k in p_last)
    assert same == (sel["selected_step"] == 6144)
    if not same:
        assert kept > final


def test_select_every_eval_rows_leave_the_rollout_rows_as_without_it(tmp_path, capsys):
    """--select-every's eval rows in progress.csv hold only the step and eval/mean_reward; each rollout's row
    (its episode statistics and the train/* of the PPO update before it) is the one a run without
    --select-every writes (an evaluation at a rollout's start used to write the pending train/* into its
    own row, leaving that rollout's row without them)."""
    common = ["train-policy", "hopper", "--steps", "6144", "--n-envs", "2", "--max-steps", "20", "--json", "-q"]
    assert main([*common, "--out", str(tmp_path / "last")]) == 0
    assert main([*common, "--select-every", "2048", "--select-episodes", "1", "--out", str(tmp_path / "sel")]) == 0
    capsys.readouterr()

    def rows(name):
        return list(csv.DictReader((tmp_path / name / "progress.csv").read_text().splitlines()))

    timing = ("time/fps", "time/time_elapsed", "time/steps_per_s")  # wall-clock: differ run to run
    plain, sel = rows("last"), rows("sel")
    evals = [r for r in sel if r.get("eval/mean_reward")]
    assert [int(r["time/total_timesteps"]) for r in evals] == [2048, 4096, 6144]
    for r in evals:
        assert {k for k, v in r.items() if v != ""} == {"time/total_timesteps", "eval/mean_reward"}, r
    rollouts = [r for r in sel if not r.get("eval/mean_reward")]
    assert len(rollouts) == len(plain) == 3
    assert all(r.get("train/approx_kl") for r in plain[1:])
    for a, b in zip(plain, rollouts):
        assert {k: v for k, v in a.items() if k not in timing} == \
            {k: v for k, v in b.items() if k not in timing and k != "eval/mean_reward"}


def test_select_every_meets_the_same_start_states_whatever_the_policy():
    """--select-every's evaluations start from the same states for every checkpoint: the environment is
    reseeded with SELECT_SEED + seed, its first reset takes that seed and the later ones draw on from the
    same generator (only a reset draws), so episodes of other lengths (another policy) leave the start states
    as they were. Episode k > 0 is not the reset with SELECT_SEED + seed + k (README said "seeds 10000 + seed
    on")."""
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    from simmatch.gail.behavior import SELECT_SEED, make_task_env
    from simmatch.registry import load_model

    hopper = load_model("hopper")

    def starts(action):
        env = DummyVecEnv([lambda: Monitor(make_task_env(hopper, "bullet", SELECT_SEED, max_steps=15))])
        env.seed(SELECT_SEED)
        out, obs, lengths, n = [env.reset()[0].copy()], None, [], 0
        while len(out) < 3:
            obs, _, done, _ = env.step(np.full((1, env.action_space.shape[0]), action))
            n += 1
            if done[0]:
                out.append(obs[0].copy())  # the next episode's first observation (auto-reset)
                lengths.append(n)
                n = 0
        env.close()
        return np.array(out), lengths

    still, l_still = starts(0.0)
    pushed, l_pushed = starts(1.0)
    assert l_still != l_pushed  # the episodes differ...
    np.testing.assert_array_equal(still, pushed)  # ...their start states do not
    alone = make_task_env(hopper, "bullet", 0, max_steps=15)
    assert np.array_equal(alone.reset(seed=SELECT_SEED)[0], still[0])
    assert not np.allclose(alone.reset(seed=SELECT_SEED + 1)[0], still[1])
    alone.close()


def test_a_policy_fine_tuned_from_a_selected_one_does_not_keep_its_selected_step(tmp_path):
    """The shipped walker's zip records the checkpoint its --select-every run kept (task_selected_step
    802816). Fine-tuned from it (the transfer study's refinement: train_task_policy(init_path=...)), the
    new zip carried that step on, a record of a run it is not; it holds none now (no selection ran)."""
    import zipfile

    from simmatch.gail.behavior import train_task_policy
    from simmatch.registry import load_model

    shipped = _shipped("laikago_bullet") / "policy.zip"
    assert json.loads(zipfile.ZipFile(shipped).read("data"))["task_selected_step"] == 802816
    out = tmp_path / "ft.zip"
    ppo = train_task_policy(load_model("laikago"), "bullet", 64, 0, out, n_envs=1, log=lambda *a: None,
                            progress=False, init_path=str(shipped), max_steps=20)
    data = json.loads(zipfile.ZipFile(out).read("data"))
    assert "task_selected_step" not in data and not hasattr(ppo, "task_selected_step")
    assert (data["task_gait"], data["task_substeps"]) == ("balanced-trot", 2)  # the policy's task is kept


def test_shipped_laikago_policy_walks_forward_without_falling():
    """The shipped Laikago walker (train-policy laikago ... --gait balanced-trot --substeps 2 --select-every
    50000, its config.json) does the task at its own rate and gait: >= WALK_BAR_M forward in 500 control
    steps (2 s at 250 Hz) without the torso touching, deterministic, in each of 3 episodes (measured over
    seeds 0-9: 1.52-1.70 m, none falls)."""
    from simmatch.gail.behavior import evaluate_return, policy_task_of
    from simmatch.gail.config import TrainPolicyConfig
    from simmatch.gail.laikago import WALK_BAR_M
    from simmatch.registry import load_model

    folder = _shipped("laikago_bullet")
    cfg = TrainPolicyConfig.from_dict(json.loads((folder / "config.json").read_text()))
    assert (cfg.model, cfg.src, cfg.gait, cfg.substeps) == ("laikago", "bullet", "balanced-trot", 2)
    assert policy_task_of(folder / "policy.zip") == (2, "balanced-trot")
    assert (folder / "policy.zip").stat().st_size < 400_000 and not (folder / "policy.pt").exists()
    ev = evaluate_return(load_model("laikago"), folder / "policy.zip", "bullet", episodes=3, seed=0, max_steps=500)
    for e in ev["episodes"]:
        assert not e["fell"] and e["length"] == 500, e
        assert e["distance"] >= WALK_BAR_M, e


def test_training_without_a_curve_writes_nothing_to_the_temp_dir(tmp_path, monkeypatch):
    """train_task_policy with no log_dir (the transfer study's fine-tuning, the tests) left SB3's default
    logger folder (TMP/SB3-<time>, empty) behind on every call: 4,551 of them gathered in /tmp here."""
    import tempfile

    from simmatch.gail.behavior import train_task_policy
    from simmatch.registry import load_model

    hopper = load_model("hopper")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    train_task_policy(hopper, "bullet", 64, 0, tmp_path / "p.zip", n_envs=1, log=lambda *a: None,
                      progress=False, max_steps=20)
    assert (tmp_path / "p.zip").is_file()
    assert [p.name for p in tmp.iterdir() if p.name.startswith("SB3")] == []


def test_a_policy_given_with_the_wrong_model_names_the_model_it_was_trained_on():
    """The shipped walker without `--model laikago` (the default model, the hopper) was refused with
    '...hopper is not one', and the hopper's policy with laikago said 'train one with `simmatch train-policy
    plane`' (the Laikago URDF's robot name). Both now name the model argument and, from the policy's
    train-policy folder (config.json), the model it was trained on."""
    from simmatch.errors import UsageError
    from simmatch.gail.behavior import PPOBehaviour
    from simmatch.registry import load_model, model_arg

    walker, hopper_policy = _shipped("laikago_bullet"), _shipped("hopper_bullet")
    with pytest.raises(UsageError) as e:
        PPOBehaviour(load_model("hopper"), str(walker / "policy.zip"))
    assert f"it was trained on laikago ({walker / 'config.json'}): pass that model" in str(e.value)
    laikago = load_model("laikago")
    assert laikago.name == "plane" and model_arg(laikago) == "laikago"
    with pytest.raises(UsageError) as e:
        PPOBehaviour(laikago, str(hopper_policy / "policy.zip"))
    msg = str(e.value)
    assert "laikago needs 34 and 12 (train one with `simmatch train-policy laikago`)" in msg and "plane" not in msg
    assert msg.endswith(f"it was trained on hopper ({hopper_policy / 'config.json'}): pass that model")
    # a right pairing loads; a model from a file is named by its path
    PPOBehaviour(laikago, str(walker / "policy.zip"), dt=0.008, substeps=2)
    assert model_arg(load_model(str(laikago.source))) == "laikago"  # the same file as the short name's
    assert model_arg(load_model("hopper")) == "hopper"


def test_the_curve_marks_the_checkpoint_select_every_kept(tmp_path, monkeypatch):
    """curve.png's return panel draws --select-every's held-out returns and marks the one kept (the first
    with the highest return, as take_best keeps it), labelled with its step."""
    import simmatch.outputs
    from simmatch.gail.behavior import plot_curve

    rows = ["time/total_timesteps,rollout/ep_rew_mean,eval/mean_reward"]
    rows += [f"{k * 1000},{k},{r}" for k, r in ((1, 5.0), (2, 9.0), (3, 7.0), (4, 9.0))]
    rows.insert(2, "1500,2,")
    (tmp_path / "progress.csv").write_text("\n".join(rows) + "\n")
    seen = {}

    def keep(fig, path, **kw):
        seen["labels"] = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        seen["star"] = [tuple(line.get_xydata()[0]) for line in fig.axes[0].get_lines() if line.get_marker() == "*"]

    monkeypatch.setattr(simmatch.outputs, "save_figure", keep)
    plot_curve(tmp_path / "progress.csv", tmp_path / "curve.png", 1.0)
    assert seen["labels"][-1] == "kept: step 2,000" and seen["star"] == [(2000.0, 9.0)]


def test_learn_dyn_names_the_policy_s_model_before_its_substeps(tmp_path, monkeypatch, capsys):
    """The shipped walker with the default model (the hopper) was refused with 'give --substeps 2' only, which
    does not make it run; it now names the model it was trained on first. With its own model (name or URDF
    path) the substeps line stays; nothing is written either way."""
    from simmatch.registry import resolve_path

    monkeypatch.chdir(tmp_path)
    walker = _shipped("laikago_bullet")
    tiny = ["--n-traj", "3", "--max-steps", "5", "--horizon", "3", "--out", "run"]
    assert main(["learn-dyn", "--policy", str(walker), *tiny]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and (f"trained on laikago ({walker / 'config.json'}) at --substeps 2; this run's model is "
                              "hopper: pass laikago and --substeps 2") in err[0], err
    for model in ("laikago", str(resolve_path("laikago"))):
        assert main(["learn-dyn", model, "--policy", str(walker), *tiny]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].endswith("this run uses --substeps 10: give --substeps 2"), err
    assert list(tmp_path.iterdir()) == []
