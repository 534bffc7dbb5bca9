"""simmatch: where and why a robot model behaves differently in PyBullet, DART and MuJoCo."""

import os as _os

# simmatch's matrices have at most a few hundred rows: a multi-threaded BLAS gains nothing there and,
# with engines running two at a time, its spinning threads made a 250x250 solve take 0.3 s instead
# of 0.5 ms (measured on 2 cores). Only a default: a value the user set is kept. Must precede numpy.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

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
