"""simmatch: where and why a robot model behaves differently in PyBullet, DART and MuJoCo."""

from .config import ContactConfig, SimConfig
from .errors import EngineFailure, ModelError, SimmatchError, UsageError
from .model import RobotModel, State
from .registry import load_model
from .urdf import load_urdf

__version__ = "0.1.0"

__all__ = [
           "ContactConfig",
           "EngineFailure",
           "ModelError",
           "RobotModel",
           "SimConfig",
           "SimmatchError",
           "State",
           "UsageError",
           "__version__",
           "load_model",
           "load_urdf",
]
