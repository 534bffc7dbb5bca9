"""`simmatch sweep`: `check` over a collection of robot models, each in its own process, on this
machine or on a Ray cluster, into one table (terminal, sweep.json, sweep.csv, sweep.html) with a
report folder per model; resumable.

- `inputs`: which models (folders searched for URDF/MJCF, list files with per-model options);
- `pool`: runs any picklable job in its own process group, locally or as Ray tasks, results
  streamed back as they finish (the layer learn-dyn grids use too);
- `job`: the check of one model and its row;
- `report`: summary, JSON, CSV, HTML;
- `run`: the driver (model folders, resume, tables).
"""

from __future__ import annotations

from .inputs import ModelSpec, Skipped, discover, read_list
from .job import check_model, make_row, with_fail_on
from .pool import Task, TaskResult, default_workers, run_in_process, run_local, run_ray, run_tasks
from .run import SweepResult, run_sweep

__all__ = ["ModelSpec", "Skipped", "SweepResult", "Task", "TaskResult", "check_model", "default_workers", "discover",
           "make_row", "read_list", "run_in_process", "run_local", "run_ray", "run_sweep", "run_tasks",
           "with_fail_on"]
