"""The README's result figures come from benchmarks/readme_results.py.

Default suite (pure text, no engines): the marked blocks of README.md are well formed and complete, the
README says exactly what the renderer makes of the stored measurements (benchmarks/readme_results.json),
and the renderers turn given numbers into the expected sentences. `-m slow`: the deterministic blocks
measured afresh through the command line match README.md (what `readme_results.py --check` does).
"""

import copy
import json
from pathlib import Path

import pytest
from conftest import bench_module

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

rr = bench_module("readme_results")


def test_readme_blocks_are_well_formed_and_complete():
    text = README.read_text()
    blocks = rr.parse_blocks(text)  # raises on an unclosed, nested, duplicated or stray marker
    assert sorted(blocks) == sorted(rr.all_names())
    for name in rr.all_names():  # one opening and one closing marker each, on lines of their own
        assert text.count(rr.OPEN.format(name)) == 1 and text.count(rr.CLOSE.format(name)) == 1
        assert f"\n{rr.OPEN.format(name)}\n" in text and f"\n{rr.CLOSE.format(name)}\n" in text
        assert blocks[name].strip(), name


@pytest.mark.parametrize("bad, why", [
    ("a\n<!-- results:x -->\nb\n", "never closed"),
    ("<!-- /results:x -->\n", "closed but"),
    ("<!-- results:x -->\n<!-- results:y -->\n<!-- /results:y -->\n<!-- /results:x -->\n", "opened inside"),
    ("<!-- results:x -->\n<!-- /results:x -->\n<!-- results:x -->\n<!-- /results:x -->\n", "appears twice"),
    ("<!-- results:x -->\n<!-- /results:y -->\n", "closed but"),
    ("<!--results:x-->\n", "malformed"),
])
def test_bad_markers_are_refused(bad, why):
    with pytest.raises(rr.BlockError, match=why):
        rr.parse_blocks(bad)


def test_replace_block_touches_only_the_block():
    text = "head\n<!-- results:a -->\nold\nlines\n<!-- /results:a -->\nmiddle\n<!-- results:b -->\nkeep\n<!-- /results:b -->\ntail"
    new = rr.replace_block(text, "a", "new text\n")
    assert new == "head\n<!-- results:a -->\nnew text\n<!-- /results:a -->\nmiddle\n<!-- results:b -->\nkeep\n" \
                  "<!-- /results:b -->\ntail"
    assert rr.parse_blocks(new) == {"a": "new text", "b": "keep"}


def test_readme_says_what_was_measured():
    """Every result block is exactly the rendering of the numbers stored by the last `--write`."""
    store = json.loads(rr.STORE.read_text())
    blocks = rr.parse_blocks(README.read_text())
    for name in rr.BLOCKS:
        assert name in store, f"{name}: never measured (run readme_results.py --write --only {name})"
        assert rr.render(name, store[name]["measurement"]) == blocks[name], (
            f"README block {name} differs from its stored measurement (edited by hand? run readme_results.py "
            f"--render)")


def _pend_run(one, ol, step=None, before=None, limits=()):
    return {"gt_open_loop_max": ol, "gt_one_step_max": one, "divergence_step": step,
            "before_divergence_max": ol if before is None else before, "joints_at_limit": list(limits),
            "contact": False}


def test_pendulum_sentence_is_rendered_from_the_numbers():
    calm = {rr.pair(a, b): _pend_run(2e-17, 3e-16) for a, b in rr.PAIRS}
    hit = {rr.pair(a, b): _pend_run(1e-3, 2.0, 170 + i, 3e-15, ("shoulder",) if b != "bullet" else ())
           for i, (a, b) in enumerate(rr.PAIRS)}
    m = {"horizon": 500, "threshold": 1e-6,
         "runs": {"pendulum": {"sine": calm}, "double-pendulum": {"sine": hit, "random": copy.deepcopy(calm)}}}
    text = rr.render_gap_pendulums(m)
    rows = [line for line in text.split("\n") if line.startswith("| ") and not line.startswith("| model")]
    assert rows == ["| pendulum | sine | none | 3.0e-16 | none | 2.0e-17 |",
                    "| double-pendulum | sine | shoulder | 3.0e-15 | 6 of 6, step 170-175 | 0.001 |",
                    "| double-pendulum | random | none | 3.0e-16 | none | 2.0e-17 |"]
    assert text.split("\n")[-1] == (
        "Where no joint reaches a limit (pendulum sine and double-pendulum random) every pair agrees to 3.0e-16 "
        "or better over the whole run, one step and open loop: integrator round-off. The sine torques drive the "
        "double-pendulum's shoulder into its joint limit: until then the pairs agree to 3.0e-15; from there the "
        "engines' limit handling differs (hard in PyBullet and DART, soft in MuJoCo), 6 of 6 pairs pass 1e-06 "
        "(step 170 to 175) and the one-step error reaches 0.001.")
    assert "(no contact), 500 steps" in text
    # no divergence anywhere: no limit sentence at all
    quiet = rr.render_gap_pendulums({**m, "runs": {"pendulum": {"sine": calm}}})
    assert "limit handling" not in quiet and quiet.endswith("integrator round-off.")


def test_learn_dyn_text_follows_the_numbers():
    store = json.loads(rr.STORE.read_text())
    m = copy.deepcopy(store["learn_dyn_bullet_dart"]["measurement"])
    m["methods"]["learned hybrid"]["one_step"] = 0.25 * m["methods"]["raw source"]["one_step"]
    m["methods"]["sysid (constant, CMA-ES)"]["one_step"] = 0.5 * m["methods"]["raw source"]["one_step"]
    m["selected_iteration"] = m["pretrain_iters"] + 1
    text = rr.render_ld_bullet_dart(m)
    assert "removes 75% of the held-out one-step error" in text
    assert "the best constant correction 50%" in text and "is mostly in the contact space" in text
    assert "from the GAIL stage)" in text
    assert f"| learned hybrid | {0.25 * m['methods']['raw source']['one_step']:.3f} |" in text


def test_speed_renderers_print_the_readme_text():
    blocks = rr.parse_blocks(README.read_text())
    roll = bench_module("bench_rollout")
    row = {"engine": "bullet", "model": "hopper", "steps": 3000, "repeats": 7, "raw_steps_per_s": 50000.0,
           "simmatch_rollout_steps_per_s": 40000.0, "rollout_overhead_pct": 25.0, "simmatch_steps_per_s": 25000.0,
           "overhead_pct": 100.0, "same_final_state": True, "record_rollout_steps_per_s": 30000.0,
           "record_rollout_recording_steps_per_s": 10000.0}
    text = roll.markdown([row])
    assert "| PyBullet | 50,000 | 40,000 | 25.0% | 25,000 | 100.0% | 30,000 | 10,000 |" in text
    assert "at most 25.0% (PyBullet)" in text and "adds 20.0 to 20.0 us per step" in text
    assert text.split("\n")[2:4] == blocks["speed_rollout"].split("\n")[2:4]  # same table header
    hyb = bench_module("bench_hybrid")
    text = hyb.markdown([("bullet", "contact", 5000.0, 2500.0, 2000.0)], 2000, "a test machine")
    assert "| bullet | contact | 5000 | 2500 (0.50x) | 2000 |" in text and "bullet 0.20 ms in the contact space" in text
    chain = bench_module("bench_chain")
    assert chain.markdown([{"n": 16, "wall": 1.5}, {"n": 250, "wall": 3.0, "reference": 1.0, "engines": 1.25,
                            "compare": 0.5}], 20).endswith(
        "wall 1.5 s at 16 joints and **3.0 s at 250** (in process at 250: reference 1.00 s, engines 1.25 s, "
        "compare 0.50 s).")
    check = bench_module("bench_check")
    s = check.summary([2.0, 1.0, 3.0], {"total": 1.5, "reference": 0.1, "engines": 0.8, "compare": 0.5,
                                        "per_source": {"bullet/native": {"wall": 0.5, "kinematics": 0.1,
                                                                         "dynamics": 0.1}}})
    assert s["wall"] == 2.0 and s["startup"] == pytest.approx(0.3) and s["python"] == pytest.approx(0.5)
    assert "takes **2.00 s wall** (median of 3" in check.markdown(s, "hopper", 100, "m", "d")


GAP_BLOCKS = [n for n, b in rr.BLOCKS.items() if not b.slow]
LEARN_BLOCKS = [n for n, b in rr.BLOCKS.items() if b.slow and n not in rr.TRANSFER]  # the study: hours


def _check_blocks(names):
    blocks = rr.parse_blocks(README.read_text())
    fresh = rr.measure(names, jobs=2)
    for name in names:
        assert rr.render(name, fresh[name]["measurement"]) == blocks[name], (
            f"README block {name} no longer holds: run benchmarks/readme_results.py --write --only {name}")


@pytest.mark.slow
def test_readme_gap_blocks_hold():
    """`readme_results.py --check` for the gap blocks: the hopper's six pairs, --explain, the pendulums, laikago."""
    _check_blocks(GAP_BLOCKS)


@pytest.mark.slow
@pytest.mark.parametrize("name", LEARN_BLOCKS)
def test_readme_learn_dyn_block_holds(name):
    pytest.importorskip("torch")
    _check_blocks([name])


def test_read_only_modes_never_write(tmp_path, monkeypatch, capsys):
    """--check (and --list, --render) with --from-run is refused, exit 2, README and store untouched:
    --from-run was run first whatever the mode, so `--check --from-run NAME=FOLDER` rewrote README.md and
    the store and exited 0. A --readme that is not there is one line, exit 2 (was a traceback)."""
    from dataclasses import asdict

    from simmatch.gail.config import LearnDynConfig

    monkeypatch.setattr(rr, "STORE", rr.STORE)  # main() sets the module's STORE from --store
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(asdict(LearnDynConfig(dst="bullet:low-power"))))
    one = {"mean": 1.0}
    (run / "scores.json").write_text(json.dumps({
        "methods": {m: {"one_step": one, "h10": one} for m in rr.METHODS}, "generator_outputs": {},
        "selected_generator": {"iteration": 1}, "backends": {}}))
    readme, store = tmp_path / "README.md", tmp_path / "store.json"
    readme.write_text(README.read_text())
    store.write_text((ROOT / "benchmarks" / "readme_results.json").read_text())
    before = readme.read_text(), store.read_text()
    for mode in ("--check", "--list", "--render"):
        assert rr.main([mode, "--from-run", f"learn_dyn_known_answer={run}", "--readme", str(readme),
                        "--store", str(store)]) == 2
        err = capsys.readouterr().err
        assert "--from-run" in err and mode in err
        assert (readme.read_text(), store.read_text()) == before
    assert rr.main(["--check", "--readme", str(tmp_path / "nope.md"), "--store", str(store)]) == 2
    assert f"--readme {tmp_path / 'nope.md'}: no such file" in capsys.readouterr().err


def _run_folder_of(tmp_path, name: str) -> Path:
    """A finished run folder (config.json, scores.json) whose digest is block NAME's stored measurement."""
    from dataclasses import asdict

    from simmatch.gail.config import LearnDynConfig

    m = json.loads(rr.STORE.read_text())[name]["measurement"]
    scores = {"methods": {k: {"one_step": {"mean": v["one_step"]}, "h10": {"mean": v["h10"]}}
                          for k, v in m["methods"].items()},
              "generator_outputs": {k: {"mean": v} for k, v in m["generator_outputs"].items()},
              "selected_generator": {"iteration": m["selected_iteration"],
                                     "validation_one_step": m["validation_one_step"]},
              "backends": {k: {"raw_source": {"mean": v["raw"]}, "learned_hybrid": {"mean": v["learned"]}}
                           for k, v in m["backends"].items()},
              "sysid": {"values": m["sysid"]}, "wall_s": m["wall_s"], "learned_vs_sysid": m["learned_vs_sysid"]}
    cfg = asdict(LearnDynConfig(**{k: v for k, v in rr.LD_EXPECT[name].items() if k != "policy"}))
    cfg.update(pretrain_iters=m["pretrain_iters"], gail_iters=m["gail_iters"], horizon=m["horizon"])
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(cfg))
    (run / "scores.json").write_text(json.dumps(scores))
    return run


def test_from_run_refusals_are_one_line_exit_2_and_writes_are_atomic(tmp_path, monkeypatch, capsys):
    """--from-run: a folder that is not the block's run (missing, damaged, another config) is one line,
    exit 2 (was exit 1 via SystemExit, a traceback for a missing folder), README and store untouched even
    when an earlier --from-run item was fine; a good one replaces README.md and the store whole (a new file
    renamed into place: README.md was written in place)."""
    monkeypatch.setattr(rr, "STORE", rr.STORE)  # main() sets the module's STORE from --store
    name = "learn_dyn_known_answer"
    good = _run_folder_of(tmp_path, name)
    readme, store = tmp_path / "README.md", tmp_path / "store.json"
    text = README.read_text()
    readme.write_text(rr.replace_block(text, name, "stale text"))
    store.write_text("{}\n")
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text((good / "config.json").read_text().replace('"seed": 0', '"seed": 3'))
    (other / "scores.json").write_text((good / "scores.json").read_text())
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "config.json").write_text((good / "config.json").read_text())
    (damaged / "scores.json").write_text('{"methods": {')
    bad = [(tmp_path / "nope", "no such run folder"), (other, "config seed=3"),
           (damaged, "scores.json: cannot be read as JSON")]
    before = readme.read_text(), store.read_text()
    for folder, why in bad:
        rc = rr.main(["--from-run", f"{name}={good}", "--from-run", f"{name}={folder}",
                      "--readme", str(readme), "--store", str(store)])
        err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
        assert rc == 2 and len(err) == 1 and err[0].startswith("error:") and why in err[0], err
        assert (readme.read_text(), store.read_text()) == before
    inode = readme.stat().st_ino
    assert rr.main(["--from-run", f"{name}={good}", "--readme", str(readme), "--store", str(store)]) == 0
    assert readme.read_text() == text  # the stored measurement renders to what README says
    assert readme.stat().st_ino != inode  # a new file renamed into place
    assert json.loads(store.read_text())[name]["from_run"] == str(good)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "damaged", "other", "run", "store.json"]


_DAMAGED = [('{"gap_hopper_drop": ', None, "cannot be read as JSON"), ("[1, 2]", None, "not a JSON object"),
            (None, b"\xff\xfe not utf-8", "cannot be read as UTF-8"), (None, "folder", "a folder, not a file")]


@pytest.mark.parametrize("store_text, readme_bytes, why, mode", [
    (*d, m) for d in _DAMAGED for m in (["--render"], ["--list"], ["--from-run", "transfer_hopper=nowhere"])
    if not (m == ["--list"] and d[0] is None)])  # --list reads no README
def test_damaged_store_or_readme_is_one_line_exit_2(tmp_path, monkeypatch, capsys, store_text, readme_bytes, why,
                                                      mode):
    """A damaged --store (not JSON, not an object) or a --readme that is not UTF-8 text or is a folder: one
    line naming it, exit 2, nothing written (they were a traceback, exit 1, or "no such file")."""
    monkeypatch.setattr(rr, "STORE", rr.STORE)  # main() sets the module's STORE from --store
    store, readme = tmp_path / "store.json", tmp_path / "README.md"
    if store_text is not None:
        store.write_text(store_text)
    if readme_bytes == "folder":
        readme.mkdir()
    else:
        readme.write_bytes(readme_bytes if readme_bytes is not None else (ROOT / "README.md").read_bytes())
    before = {p.name: (p.read_bytes() if p.is_file() else None) for p in tmp_path.iterdir()}
    rc = rr.main([*mode, "--readme", str(readme), "--store", str(store)])
    err = capsys.readouterr().err
    named = store if store_text is not None else readme
    assert rc == 2 and err.startswith("error: ") and str(named) in err and why in err, err
    assert len(err.strip().splitlines()) == 1
    assert {p.name: (p.read_bytes() if p.is_file() else None) for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize("damage, why", [
    (lambda s: s["methods"].pop("learned hybrid"), "lacks 'learned hybrid'"),
    (lambda s: s["methods"]["raw source"]["one_step"].__setitem__("mean", None), "TypeError"),
    (lambda s: s["methods"]["raw source"]["one_step"].__setitem__("mean", "x"), "ValueError"),
])
def test_from_run_scores_its_block_cannot_show_are_one_line_exit_2(tmp_path, monkeypatch, capsys, damage, why):
    """--from-run of a run whose scores.json has the keys the digest reads but not what the block shows (a
    method missing, a mean that is null or text): one line naming scores.json, exit 2, README and store
    untouched (it was a traceback from rendering, exit 1)."""
    monkeypatch.setattr(rr, "STORE", rr.STORE)  # main() sets the module's STORE from --store
    name = "learn_dyn_known_answer"
    run = _run_folder_of(tmp_path, name)
    scores = json.loads((run / "scores.json").read_text())
    damage(scores)
    (run / "scores.json").write_text(json.dumps(scores))
    readme, store = tmp_path / "README.md", tmp_path / "store.json"
    readme.write_text(README.read_text())
    rc = rr.main(["--from-run", f"{name}={run}", "--readme", str(readme), "--store", str(store)])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith(f"error: {run / 'scores.json'}: ") and why in err, err
    assert len(err.strip().splitlines()) == 1
    assert readme.read_text() == README.read_text() and not store.exists()
