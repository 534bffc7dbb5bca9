import importlib.util
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
SHIPPED_MODELS = ["hopper", "hopper-box", "pendulum", "double-pendulum", "laikago"]
ENGINES = ["bullet", "dart", "mujoco"]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


def bench_module(name: str):
    """benchmarks/NAME.py imported by path once (key simmatch_bench_NAME in sys.modules) and shared by
    the tests that use it."""
    key = f"simmatch_bench_{name}"
    if key not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(key, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        spec.loader.exec_module(mod)
    return sys.modules[key]


def corpus_sweep_module():
    """benchmarks/corpus_sweep.py (the corpus's file discovery and the --base a user passes)."""
    return bench_module("corpus_sweep")


def hopper_sine_split(cfg, frac: float = 0.34):
    """The learner tests' small data set: `cfg.n_traj` sine-behaviour trajectories of the hopper in
    `cfg.dst`, split (seed 0) into (training, held-out) with `frac` held out. Returns (model, a, b)."""
    import numpy as np

    from simmatch.gail.behavior import SineBehaviour
    from simmatch.gail.dataset import collect
    from simmatch.gail.sim import fell_fn
    from simmatch.registry import load_model
    from simmatch.variants import make_target

    model = load_model("hopper")
    b = make_target(cfg.dst, model)
    data = collect(b, model, SineBehaviour(model), cfg.n_traj, cfg.max_steps, cfg.substeps, 0, fell=fell_fn(model))
    b.close()
    train, held = data.split(frac, np.random.default_rng(0))
    return model, train, held
