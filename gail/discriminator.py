"""The discriminator: an MLP on window features that tells target windows (label 1) from generator
windows (label 0), trained with binary cross-entropy plus a zero-centred gradient penalty on
interpolates. The generator's reward is the logit, log D - log(1 - D): positive when a window looks
like the target, negative when it looks generated, 0 at D = 1/2."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

REWARD_CLIP = 10.0


class Discriminator(nn.Module):
    # buffers (register_buffer): declared for the type checker, which sees Module attributes otherwise
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, in_dim: int, hidden: tuple[int, ...] = (128, 128), lr: float = 3e-4,
                 gp_lambda: float = 1.0, mean=None, std=None):
        super().__init__()
        layers, d = [], in_dim
        for h in hidden:
            layers += [nn.Linear(d, h), nn.Tanh()]
            d = h
        layers.append(nn.Linear(d, 1))
        self.net = nn.Sequential(*layers)
        self.register_buffer("mean", torch.as_tensor(np.zeros(in_dim) if mean is None else mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(np.ones(in_dim) if std is None else std, dtype=torch.float32))
        self.gp_lambda = gp_lambda
        self.opt = torch.optim.Adam(self.parameters(), lr=lr)

    def set_normalisation(self, feats: np.ndarray) -> None:
        self.mean.copy_(torch.as_tensor(feats.mean(0), dtype=torch.float32))
        self.std.copy_(torch.as_tensor(np.maximum(feats.std(0), 1e-3), dtype=torch.float32))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std).squeeze(-1)

    @torch.no_grad()
    def prob(self, feats: np.ndarray) -> np.ndarray:
        return torch.sigmoid(self.logits(torch.as_tensor(feats, dtype=torch.float32))).numpy()

    @torch.no_grad()
    def reward(self, feats: np.ndarray) -> np.ndarray:
        """log D - log(1 - D) (= the logit), clipped to +-10."""
        z = self.logits(torch.as_tensor(np.atleast_2d(feats), dtype=torch.float32)).numpy()
        return np.clip(z, -REWARD_CLIP, REWARD_CLIP)

    def update(self, expert: np.ndarray, generated: np.ndarray, steps: int, batch: int,
               rng: np.random.Generator) -> dict:
        """`steps` minibatch updates; returns mean loss and accuracies."""
        stats = {"loss": 0.0, "gp": 0.0, "acc_target": 0.0, "acc_gen": 0.0}
        if len(expert) == 0 or len(generated) == 0 or steps <= 0:
            return stats
        E = self._expert_tensor(expert)
        G = torch.as_tensor(generated, dtype=torch.float32)
        labels = torch.cat([torch.ones(batch), torch.zeros(batch)])
        sums = torch.zeros(4)
        for _ in range(steps):
            e = E[torch.as_tensor(rng.integers(0, len(E), batch))]
            g = G[torch.as_tensor(rng.integers(0, len(G), batch))]
            z = self.logits(torch.cat([e, g]))  # one forward pass for both halves
            loss = F.binary_cross_entropy_with_logits(z, labels) * 2.0  # = BCE(target) + BCE(generated)
            alpha = torch.as_tensor(rng.random((batch, 1)), dtype=torch.float32)
            mix = (alpha * e + (1 - alpha) * g).requires_grad_(True)
            grad = torch.autograd.grad(self.logits(mix).sum(), mix, create_graph=True)[0]
            gp = (grad * self.std).pow(2).sum(1).mean()  # gradient w.r.t. normalised features
            total = loss + self.gp_lambda * gp
            self.opt.zero_grad()
            total.backward()
            self.opt.step()
            with torch.no_grad():
                sums += torch.stack([loss, gp, (z[:batch] > 0).float().mean(), (z[batch:] < 0).float().mean()])
        mean = (sums / steps).tolist()
        return dict(zip(("loss", "gp", "acc_target", "acc_gen"), mean))

    def _expert_tensor(self, expert: np.ndarray) -> torch.Tensor:
        """The target windows as a float32 tensor, converted once per array (the trainer passes the same
        array every iteration)."""
        cached = self.__dict__.get("_expert_cache")
        if cached is None or cached[0] is not expert:
            cached = self._expert_cache = (expert, torch.as_tensor(expert, dtype=torch.float32))
        return cached[1]
