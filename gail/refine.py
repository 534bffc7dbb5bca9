"""Policy refinement, the paper's second stage: fine-tune the behaviour policy inside the learned
hybrid simulator (generator fixed) and compare its return *in the target* with the unrefined policy
and with the same fine-tuning under domain randomisation over the same correction space."""

from __future__ import annotations

from pathlib import Path

from .baselines import DomainRandCorrector
from .behavior import evaluate_return, train_task_policy


def refine(model, policy_path: str, src: str, dst: str, space: str, generator_factory, dim: int, steps: int,
           seed: int, out_dir, episodes: int = 5, log=print) -> dict:
    """`generator_factory()` returns a fresh GeneratorCorrector (G fixed)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    res = {"unrefined": evaluate_return(model, policy_path, dst, episodes, seed)}
    log(f"refine: unrefined policy, return in {dst}: {res['unrefined']['return']:.1f}")
    hyb = out_dir / "policy_refined_hybrid.zip"
    train_task_policy(model, src, steps, seed, hyb, corrector_factory=lambda k: generator_factory(),
                      init_path=policy_path, space=space)
    res["refined_in_hybrid"] = evaluate_return(model, hyb, dst, episodes, seed)
    log(f"refine: fine-tuned in the learned hybrid, return in {dst}: {res['refined_in_hybrid']['return']:.1f}")
    dr = out_dir / "policy_refined_dr.zip"
    train_task_policy(model, src, steps, seed, dr, corrector_factory=lambda k: DomainRandCorrector(dim),
                      init_path=policy_path, space=space)
    res["refined_domain_rand"] = evaluate_return(model, dr, dst, episodes, seed)
    log(f"refine: fine-tuned under domain randomisation, return in {dst}: {res['refined_domain_rand']['return']:.1f}")
    return res
