"""The GAIL reward: log D - log(1 - D) equals the discriminator's logit (sign: positive when a window
looks like the target), 0 at D = 1/2, clipped to +-10; a trained discriminator rewards target-like
windows over generated ones."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from simmatch.gail.discriminator import REWARD_CLIP, Discriminator


def test_reward_is_log_d_minus_log_one_minus_d():
    torch.manual_seed(0)
    D = Discriminator(5, (16,))
    x = np.random.default_rng(0).normal(size=(50, 5))
    p = D.prob(x)
    np.testing.assert_allclose(D.reward(x), np.log(p) - np.log(1 - p), atol=1e-4)


def test_reward_zero_at_half_and_clipped():
    D = Discriminator(3, (4,))
    with torch.no_grad():
        for prm in D.parameters():
            prm.zero_()
    assert D.reward(np.ones((2, 3))) == pytest.approx(0.0)
    with torch.no_grad():
        D.net[-1].bias.fill_(50.0)
    assert D.reward(np.ones((1, 3)))[0] == REWARD_CLIP
    with torch.no_grad():
        D.net[-1].bias.fill_(-50.0)
    assert D.reward(np.ones((1, 3)))[0] == -REWARD_CLIP


def test_trained_discriminator_rewards_target_and_penalises_generated():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    target = rng.normal(1.0, 0.3, size=(400, 4))
    generated = rng.normal(-1.0, 0.3, size=(400, 4))
    D = Discriminator(4, (32, 32), lr=3e-3, gp_lambda=0.1)
    D.set_normalisation(np.vstack([target, generated]))
    stats = D.update(target, generated, steps=100, batch=64, rng=rng)
    assert stats["acc_target"] > 0.8 and stats["acc_gen"] > 0.8
    r_t, r_g = D.reward(target).mean(), D.reward(generated).mean()
    assert r_t > 1.0 and r_g < -1.0  # sign and scale: logits of a confident discriminator
