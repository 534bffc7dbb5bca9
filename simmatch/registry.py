"""Short model names (`hopper`, `laikago`, ...) and paths to a RobotModel."""

from __future__ import annotations

import difflib
import os
from importlib import resources
from pathlib import Path

from .errors import ModelError, UsageError
from .mjcf import is_mjcf, load_mjcf
from .model import Pose, RobotModel, parse_pose
from .urdf import load_urdf

SHIPPED = {
    "hopper": "hopper.urdf",
    "hopper-box": "hopper_box.urdf",
    "pendulum": "pendulum.urdf",
    "double-pendulum": "double_pendulum.urdf",
}
# Used from the pybullet_data package at run time, never copied into this repository.
PYBULLET_DATA = {
    "laikago": "laikago/laikago_toes_zup.urdf",
}


def model_names() -> list[str]:
    return sorted([*SHIPPED, *PYBULLET_DATA])


def resolve_path(name_or_path: str) -> Path:
    """A short name or a path to a URDF or MJCF file."""
    if name_or_path in SHIPPED:
        return Path(str(resources.files("simmatch.assets").joinpath(SHIPPED[name_or_path])))
    if name_or_path in PYBULLET_DATA:
        try:
            import pybullet_data
        except ImportError:
            raise UsageError(f"model {name_or_path!r} comes from pybullet_data: pip install pybullet") from None
        return Path(pybullet_data.getDataPath()) / PYBULLET_DATA[name_or_path]
    p = Path(name_or_path)
    if p.suffix.lower() not in (".urdf", ".xml") and not p.exists():
        close = difflib.get_close_matches(name_or_path, model_names(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known models: {', '.join(model_names())})"
        raise UsageError(f"{name_or_path}: not a known model name, URDF or MJCF file{hint}")
    return p


def model_arg(model: RobotModel) -> str:
    """What names `model` on the command line: its short name when it was loaded from one (the URDF's own
    robot name can differ: Laikago's is 'plane'), else the file it came from (its robot name without one)."""
    if model.source:
        src = os.path.realpath(model.source)
        for name in model_names():
            try:
                if os.path.realpath(resolve_path(name)) == src:
                    return name
            except UsageError:  # pybullet_data missing: that name cannot be this model's
                continue
        return str(model.source)
    return model.name


def policy_trained_on(path: str | os.PathLike[str]) -> tuple[str, Path] | None:
    """(model, config.json path): the model (as given to train-policy) that the train-policy folder of policy
    `path` (the folder, or a file in it) names in its config.json; None without one, or for one that is
    damaged or names none."""
    import json

    p = Path(path)
    cfg = (p if p.is_dir() else p.parent) / "config.json"
    try:
        trained = json.loads(cfg.read_text(encoding="utf-8")).get("model")
    except (OSError, ValueError, AttributeError):
        return None
    return (trained, cfg) if isinstance(trained, str) else None


def trained_on_hint(path: str | os.PathLike[str], model: RobotModel) -> str:
    """'; it was trained on MODEL (DIR/config.json): pass that model' when the train-policy folder of policy
    `path` names a model other than `model` (the usual slip: a Laikago policy with the default model, the
    hopper), else '' (for the end of a refusal)."""
    trained = policy_trained_on(path)
    if trained is None or trained[0] in (model.name, model_arg(model)):
        return ""
    return f"; it was trained on {trained[0]} ({trained[1]}): pass that model"


def base_pose_of(text: str | Pose | None) -> Pose | None:
    """The `--base-pose` option ('x y z roll pitch yaw', m and rad) as a Pose; None stays None.
    Raises UsageError (one line) for anything else."""
    if text is None or isinstance(text, Pose):
        return text
    try:
        return parse_pose(text)
    except ValueError as e:
        raise UsageError(f"--base-pose: {e}") from None


def load_model(name_or_path: str, base: str = "auto", base_pose: str | Pose | None = None) -> RobotModel:
    """Load a shipped model by short name, or any URDF or MJCF file by path (an MJCF: a file whose
    root element is <mujoco>, read by `simmatch.mjcf.load_mjcf`). `base_pose`: where a fixed
    base is mounted (a Pose or 'x y z roll pitch yaw'); UsageError when the base is floating."""
    pose = base_pose_of(base_pose)
    path = resolve_path(os.fspath(name_or_path))
    if path.suffix.lower() not in (".urdf", ".xml") and path.exists():
        raise ModelError(str(path), "file", "is not a URDF file (expected .urdf)")
    if path.suffix.lower() == ".xml" and is_mjcf(path):  # root element <mujoco>; a .xml may be URDF too
        model = load_mjcf(path, base=base)
    else:
        model = load_urdf(path, base=base)
    if pose is None:
        return model
    try:
        return model.with_base_pose(pose)
    except ValueError:
        hint = "" if "use --base fixed" in model.base_reason else "; use --base fixed"
        raise UsageError(f"--base-pose: a base pose applies to a fixed base, and {model.name}'s is floating "
                         f"({model.base_reason}){hint}") from None
