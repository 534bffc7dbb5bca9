"""The known-answer run (slow): target bullet:low-power (thigh_joint torque halved) from source bullet
in the contact correction space. The learned torque scale of thigh_joint must end near 0.5 (mean
generator output over held-out states) and the one-step GT error on held-out target data must fall by
at least 50% against the raw source, reproducibly with a fixed seed, well under 20 minutes.

    /work/venv/bin/pytest -m slow tests/test_gail_known_answer.py -s
"""

import time

import pytest

pytest.importorskip("torch")

from simmatch.gail.config import LearnDynConfig
from simmatch.gail.pipeline import learn_dyn

CFG = LearnDynConfig(src="bullet", dst="bullet:low-power", space="contact", seed=0)


@pytest.mark.slow
def test_known_answer_low_power(tmp_path):
    t0 = time.time()
    res = learn_dyn(CFG, root=tmp_path, log=print, progress=False)
    wall = time.time() - t0
    scale = res["generator_outputs"]["torque_scale[thigh_joint]"]["mean"]
    raw = res["methods"]["raw source"]["one_step"]["mean"]
    learned = res["methods"]["learned hybrid"]["one_step"]["mean"]
    print(f"\nKNOWN ANSWER: thigh_joint torque scale {scale:.3f} (target 0.5); one-step GT error raw {raw:.4f} "
          f"-> learned {learned:.4f} ({100 * (1 - learned / raw):.1f}% lower); wall {wall:.0f} s")
    assert 0.4 <= scale <= 0.6
    assert learned <= 0.5 * raw
    assert wall < 20 * 60
    # the same seed gives the same run
    again = learn_dyn(LearnDynConfig(**{**CFG.__dict__, "run": "again"}), root=tmp_path, log=lambda m: None,
                      progress=False)
    assert again["methods"]["learned hybrid"]["one_step"]["mean"] == learned
    assert again["generator_outputs"]["torque_scale[thigh_joint]"]["mean"] == scale


GAIL_ONLY = LearnDynConfig(src="bullet", dst="bullet:low-power", space="contact", seed=0, pretrain_iters=0,
                           gail_iters=100, gail_lr=1e-3, disc_steps=50, run="gail-only")


@pytest.mark.slow
def test_known_answer_adversarial_only(tmp_path):
    """The same answer from the discriminator's reward alone (no GT pretraining): slower, and the
    reason the default pipeline pretrains on the GT error first."""
    t0 = time.time()
    res = learn_dyn(GAIL_ONLY, root=tmp_path, log=lambda m: None, progress=False)
    wall = time.time() - t0
    scale = res["generator_outputs"]["torque_scale[thigh_joint]"]["mean"]
    raw = res["methods"]["raw source"]["one_step"]["mean"]
    learned = res["methods"]["learned hybrid"]["one_step"]["mean"]
    print(f"\nGAIL ONLY: thigh_joint torque scale {scale:.3f}; one-step GT error raw {raw:.4f} -> learned "
          f"{learned:.4f} ({100 * (1 - learned / raw):.1f}% lower); wall {wall:.0f} s")
    assert 0.4 <= scale <= 0.65
    assert learned <= 0.5 * raw
    assert wall < 20 * 60
