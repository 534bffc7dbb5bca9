"""`simmatch gap`: dynamic agreement of two engines under identical torques.

One module per concern, imported one way (no cycles):
scenarios (initial states and torque sequences) -> rollout (one engine, one episode, recorded) ->
pair (src free, dst free, dst one-step; the errors) -> explain (--explain: re-run the pair with one
mismatch removed at a time) -> config (the options, recorded in gap.json) -> run (the command, every scenario, summaries) -> report
(terminal, gap.json, gap.md, .npz, plots).
"""

from .config import GapConfig, GapOptions
from .pair import EpisodeResult, ScenarioResult, run_pair
from .run import GapResult, run_gap, summarize

__all__ = ["EpisodeResult", "GapConfig", "GapOptions", "GapResult", "ScenarioResult", "run_gap", "run_pair", "summarize"]
