from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
SHIPPED_MODELS = ["hopper", "hopper-box", "pendulum", "double-pendulum", "laikago"]
ENGINES = ["bullet", "dart", "mujoco"]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA
