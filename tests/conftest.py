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


def corpus_sweep_module():
    """benchmarks/corpus_sweep.py (the corpus's file discovery and the --base a user passes),
    imported by path once and shared by the tests that use it."""
    name = "simmatch_corpus_sweep"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "benchmarks" / "corpus_sweep.py"
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]
