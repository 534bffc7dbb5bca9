"""Policy transfer study (the SimGAN paper's stage 2; `simmatch.gail.transfer`): a task policy fine-tuned
in the source under no correction, domain randomisation, the constant sysid fit and the learned hybrid,
each evaluated in the target; mean +- std over seeds.

    python benchmarks/transfer_study.py --policy reports/policy_hopper --targets bullet:emf,bullet:deform-floor \\
        --seeds 0-2 --refine-steps 100000 --episodes 5 --ensemble 3 --out reports/transfer_hopper \\
        [--model hopper] [--src bullet] [--space contact] [--max-steps 500] [--runs DIR] \\
        [--learn-dyn n_traj=100 --learn-dyn pretrain_iters=30 ...] [--quiet]

--learn-dyn KEY=VALUE sets a field of the learn-dyn runs (LearnDynConfig: n_traj, pretrain_iters,
gail_iters, n_steps, ...; the value as its command-line option takes it), besides the model, source,
target, space, seed and the policy (the runs record data with it), which the study sets, and substeps:
the policy's own control step (train-policy --substeps, e.g. 2 for a Laikago trot policy; a --learn-dyn
substeps=K other than it is refused). The policy is fine-tuned and evaluated at its own control step and
gait, under its own training reward. --runs DIR takes the runs from a learn-dyn grid folder
(DIR/<dst>/<space>/seed<k>/, `simmatch learn-dyn --seeds ... --out DIR`) and makes the missing ones there
(a run there recorded at another substeps than the policy's is refused). Writes OUT/transfer.json and
OUT/transfer.md after every finished cell; run it again with the same options to continue. Bad input:
one line, exit 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
from pathlib import Path


def learn_dyn_fields(items: list[str]) -> dict:
    """KEY=VALUE texts -> LearnDynConfig field values (parsed as the command line does); UsageError
    naming the item for an unknown field, a field the study sets, or a value of the wrong kind."""
    from simmatch.errors import UsageError
    from simmatch.fields import cli_of
    from simmatch.gail.config import LearnDynConfig

    fields = {f.name: f for f in dataclasses.fields(LearnDynConfig)}
    hints = typing.get_type_hints(LearnDynConfig)
    reserved = {"model", "src", "dst", "space", "seed", "seeds", "policy", "refine_steps", "refine_ensemble", "run"}
    out = {}
    for item in items:
        key, eq, text = item.partition("=")
        name = key.strip().lstrip("-").replace("-", "_")
        if not eq or name not in fields:
            raise UsageError(f"--learn-dyn {item}: expected FIELD=VALUE with a learn-dyn option as FIELD "
                             "(e.g. n_traj=100)")
        if name in reserved:
            raise UsageError(f"--learn-dyn {item}: {name} is set by the study (its own option)")
        f, hint, c = fields[name], str(hints[name]), cli_of(fields[name])
        try:
            if c is not None and c.parse is not None:
                value = c.parse(text)
            elif "bool" in hint:
                if text.lower() not in ("true", "false", "1", "0"):
                    raise ValueError("not true or false")
                value = text.lower() in ("true", "1")
            elif "None" in hint and text.lower() == "none":
                value = None
            elif "int" in hint:
                value = int(text)
            elif "float" in hint:
                value = float(text)
            else:
                value = text
        except (ValueError, UsageError) as exc:
            raise UsageError(f"--learn-dyn {item}: {exc}") from None
        out[f.name] = value
    return out


def build_config(args):
    """The study's TransferConfig from the parsed options; UsageError (one line) for bad input."""
    from simmatch.cli.learn import policy_path
    from simmatch.cli.options import check_config
    from simmatch.errors import UsageError
    from simmatch.gail.behavior import PPOBehaviour
    from simmatch.gail.config import SPACES, LearnDynConfig
    from simmatch.gail.grid import folder_name, parse_seeds, split_list
    from simmatch.gail.transfer import TransferConfig
    from simmatch.registry import load_model
    from simmatch.variants import parse_target

    policy = policy_path(args.policy).resolve()
    model = load_model(args.model)
    PPOBehaviour(model, str(policy))  # an unreadable zip: UsageError naming it
    try:
        targets = split_list(args.targets)
    except ValueError as exc:
        raise UsageError(f"--targets {args.targets}: {exc}") from None
    names = [folder_name(t) for t in targets]
    if len(set(names)) < len(names):
        raise UsageError(f"--targets {args.targets}: two targets share a folder name")
    for t in (args.src, *targets):
        parse_target(t)
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError as exc:
        raise UsageError(f"--seeds {args.seeds}: {exc}") from None
    if args.space not in SPACES:
        raise UsageError(f"--space {args.space}: choose {' or '.join(SPACES)}")
    for flag, v, lo in (("--refine-steps", args.refine_steps, 1), ("--episodes", args.episodes, 1),
                        ("--ensemble", args.ensemble, 1), ("--max-steps", args.max_steps, 1)):
        if v < lo:
            raise UsageError(f"{flag} {v}: must be at least {lo}")
    if args.dr_bound is not None and not 0 < args.dr_bound <= 10:
        raise UsageError(f"--dr-bound {args.dr_bound}: must be in (0, 10]")
    extra = learn_dyn_fields(args.learn_dyn)
    cfg = TransferConfig(policy=str(policy), model=args.model, src=args.src, targets=targets, seeds=seeds,
                         space=args.space, refine_steps=args.refine_steps, episodes=args.episodes,
                         ensemble=args.ensemble, max_steps=args.max_steps, dr_bound=args.dr_bound, learn_dyn=extra,
                         runs=str(Path(args.runs).resolve()) if args.runs else None)
    try:
        for t in targets:
            check_config(cfg.run_config(t, seeds[0]))  # every learn-dyn field in its range
    except TypeError as exc:  # a value of the wrong type for LearnDynConfig
        raise UsageError(f"--learn-dyn: {exc}") from None
    assert isinstance(cfg.run_config(targets[0], seeds[0]), LearnDynConfig)
    return cfg


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--policy", required=True, help="train-policy folder (policy.zip) or the zip")
    ap.add_argument("--model", default="hopper")
    ap.add_argument("--src", default="bullet", help="source engine (fine-tuning happens here)")
    ap.add_argument("--targets", default="bullet:emf", help="comma list of ENGINE[:VARIANT] targets")
    ap.add_argument("--seeds", default="0", help="seeds: 0-2, 0,3,7")
    ap.add_argument("--space", default="contact", help="correction space: contact | force")
    ap.add_argument("--refine-steps", type=int, default=100_000, help="PPO steps of every fine-tuning")
    ap.add_argument("--episodes", type=int, default=5, help="evaluation episodes per cell")
    ap.add_argument("--ensemble", type=int, default=3, help="hybrid: the last K generator checkpoints")
    ap.add_argument("--max-steps", type=int, default=500, help="control steps per task episode")
    ap.add_argument("--dr-bound", type=float, default=None,
                    help="DR: u uniform in [-B, B] (default: the generator's range, 3)")
    ap.add_argument("--runs", default=None, help="learn-dyn grid folder to take (and make) the runs in "
                                                 "(default OUT/learn-dyn)")
    ap.add_argument("--learn-dyn", action="append", default=[], metavar="KEY=VALUE",
                    help="a learn-dyn setting of the runs (repeat)")
    ap.add_argument("--out", default="reports/transfer", help="output folder")
    ap.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    args = ap.parse_args(argv)

    from simmatch.errors import SimmatchError
    from simmatch.gail import require_learn
    from simmatch.outputs import check_out_dir

    try:
        require_learn()
        cfg = build_config(args)
        from simmatch.gail.transfer import FILES

        check_out_dir(args.out, owned=lambda name: name in (*FILES, "learn-dyn", "policies") or name.startswith("."))
        from simmatch.gail.transfer import run_study

        log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
        doc = run_study(cfg, args.out, log=log, progress=False)
    except SimmatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print((Path(args.out) / "transfer.md").read_text(encoding="utf-8"))
    return 0 if doc["complete"] else 1


if __name__ == "__main__":
    sys.exit(main())
