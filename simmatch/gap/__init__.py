"""`simmatch gap`: dynamic agreement of two engines under identical torques.

One module per concern, imported one way (no cycles):
scenarios (initial states and torque sequences) -> rollout (one engine, one episode, recorded) ->
pair (src free, dst free, dst one-step; the errors) -> explain (--explain: re-run the pair with one
mismatch removed at a time) -> run (the command: options, every scenario, summaries) -> report
(terminal, gap.json, gap.md, .npz, plots).
"""

from .pair import EpisodeResult, ScenarioResult, run_pair
from .run import GapOptions, GapResult, run_gap, summarize

__all__ = ["EpisodeResult", "GapOptions", "GapResult", "ScenarioResult", "run_gap", "run_pair", "summarize"]
