"""learn-dyn's outputs people read: training curves (one panel per quantity), the emf torque-scale
figure's numbers, the learned-vs-sysid reductions."""

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

from simmatch.gail import run_folder as rf
from simmatch.gail.pipeline import vs_sysid
from simmatch.gail.run_folder import RunFolder
from simmatch.gail.scoring import emf_agreement


def _rows():
    rows = []
    for it in range(1, 7):
        gail = it > 3
        row = {"iteration": it, "stage": "gail" if gail else "pretrain", "time/steps_per_s": 500.0 + it,
               "gen/gt_reward": -1.0 / it, "train/loss": 1.0 / it}
        if gail:  # a return summed over episodes is ~100x a per-step correction
            row.update({"gen/return": 100.0 + it, "gen/reward_per_step": 0.5, "gen/ep_len": 100.0,
                        "disc/loss": 1.3})
        if it % 2 == 0:
            row.update({"gt/one_step": 2.0 - 0.2 * it, "gt/one_step_raw_source": 2.0,
                        "gen/friction": 1.0 + 0.01 * it, "gen/torque_scale[thigh_joint]": 1.0 - 0.05 * it})
        rows.append(row)
    return rows


def test_curves_have_one_panel_per_quantity(tmp_path, monkeypatch):
    run = RunFolder(tmp_path, "run")
    for row in _rows():
        run.log(row)
    run.close_metrics()
    figures = {}

    def keep(fig, path, **kw):
        figures[path.name] = [(ax.get_title(), ax) for ax in fig.axes if ax.get_visible()]
        return path

    monkeypatch.setattr(rf, "save_figure", keep)
    run.plot_curves()
    # the corrections are apart from the rewards, each in its own panel (its own scale)
    assert sorted(t for t, _ in figures["curve_corrections.png"]) == ["friction", "torque_scale[thigh_joint]"]
    gen = dict(figures["curve_gen.png"])
    assert "discriminator return per episode (sum)" in gen and "discriminator reward per step (mean)" in gen
    # the validation GT error and the raw source's line share one panel, from zero
    (title, ax), = figures["curve_gt.png"]
    assert title == "one-step GT error (validation)"
    labels = [line.get_label() for line in ax.get_lines()]
    assert "learned hybrid" in labels and "raw source" in labels
    raw = next(line for line in ax.get_lines() if line.get_label() == "raw source")
    assert list(raw.get_ydata()) == [2.0, 2.0]
    assert ax.get_ylim()[0] == 0.0
    # the GAIL stage's start (between iterations 3 and 4) is marked in every panel
    xs = [line.get_xdata() for line in ax.get_lines() if line.get_label().startswith("_")]
    assert any(list(x) == [3.5, 3.5] for x in xs)


def test_emf_agreement():
    dq = np.linspace(0, 20, 50)
    true = np.clip(1 - dq / 15, 0, 1)
    res = emf_agreement({"thigh_joint": (dq, true), "leg_joint": (dq, np.full(50, 0.7))}, 15.0)
    assert res["joints"]["thigh_joint"]["correlation"] == pytest.approx(1.0)
    assert res["joints"]["thigh_joint"]["mean_abs_diff"] == pytest.approx(0.0, abs=1e-12)
    assert res["joints"]["leg_joint"]["correlation"] is None  # a constant scale: no correlation
    assert 0.0 < res["correlation"] < 1.0  # pooled: the constant joint drags it down


def test_learned_vs_sysid_reduction():
    methods = {"learned hybrid": {"one_step": {"mean": 0.7}, "h10": {"mean": 3.0}},
               "sysid (constant, CMA-ES)": {"one_step": {"mean": 1.0}, "h10": {"mean": 2.0}}}
    out = vs_sysid(methods, 10)
    assert out["one_step"] == pytest.approx(0.3) and out["h10"] == pytest.approx(-0.5)


@pytest.mark.parametrize("n", [3, 12])
def test_torque_scale_plot_wraps_into_rows_of_four(tmp_path, n):
    """emf_torque_scale.png: one readable panel per joint; Laikago's 12 joints are 3 rows of 4, not one
    strip 50 inches wide."""
    from PIL import Image

    from simmatch.gail.scoring import plot_torque_scale_vs_speed

    rng = np.random.default_rng(0)
    curves = {f"j{k}": (dq := rng.uniform(0, 18, 40), np.clip(1 - dq / 15, 0, 1)) for k in range(n)}
    path = tmp_path / "emf.png"
    plot_torque_scale_vs_speed(path, curves, 15.0, constant={"j0": 0.6})
    w, h = Image.open(path).size
    cols, rows = min(n, 4), -(-n // 4)
    assert w == pytest.approx(4.2 * cols * 90, rel=0.02) and h == pytest.approx(3.4 * rows * 90, rel=0.02)
