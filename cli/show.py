"""`simmatch show MODEL`: the canonical model as simmatch reads it (before any engine sees it)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.markup import escape
from rich.table import Table

from simmatch.fields import BASE_HELP, BASE_POSE_HELP, MODEL_HELP, option
from simmatch.registry import load_model

from .generate import RunOptions, command


@dataclass(frozen=True)
class ShowConfig:
    """`simmatch show`'s options (it writes no report)."""

    model: str = option(help=MODEL_HELP, positional=True)
    base: str = option("auto", choices=("fixed", "floating", "auto"), help=BASE_HELP)
    base_pose: str | None = option(None, help=BASE_POSE_HELP)


def run(cfg: ShowConfig, ro: RunOptions) -> None:
    """Print the canonical model: links, masses, joints in canonical order, base."""
    from . import options

    options.model_arg(cfg.model)
    m = load_model(cfg.model, base=cfg.base, base_pose=cfg.base_pose)
    # names and paths come from the file: escaped (a '[/x]' is not markup) and never highlighted (rich's
    # highlighter regexes are slow on long names)
    from .gap import stdout_console

    console = stdout_console(highlight=False)
    console.print(f"[bold]{escape(m.name)}[/]  {escape(m.source)}")
    console.print(f"base: [bold]{escape(m.base_text)}[/] ({escape(m.base_reason)}); {m.dof} DoF; total mass {m.total_mass:.6g} kg")
    links = Table(title="links")
    for col in ("link", "mass (kg)", "COM (link frame)", "collision"):
        links.add_column(col)
    for name in m.link_order:
        link = m.link(name)
        com = "-" if link.inertial is None else " ".join(f"{v:.4g}" for v in link.inertial.com)
        links.add_row(escape(name), f"{link.mass:.6g}", com,
                      escape(", ".join(g.describe() for g in link.collisions)) or "-")
    console.print(links)
    joints = Table(title="joints (canonical order)")
    for col in ("#", "joint", "type", "parent -> child", "axis", "limits", "effort", "damping", "friction"):
        joints.add_column(col)
    for i, j in enumerate(m.dof_joints):
        lim = "-"
        if j.limited:
            assert j.limit is not None, "a limited joint has a <limit> (Joint.limited)"
            lim = f"[{j.limit.lower:.4g}, {j.limit.upper:.4g}]"
        kind = j.type
        if j.group:
            kind += f" ({j.group_type} {j.group})"
        if j.mimic is not None:
            kind += f" (mimics {j.mimic.joint} x{j.mimic.multiplier:g} {j.mimic.offset:+g})"
        joints.add_row(str(i), escape(j.name), escape(kind), escape(f"{j.parent} -> {j.child}"), " ".join(f"{a:g}" for a in j.axis),
                       lim, f"{j.limit.effort:g}" if j.limit and j.limit.effort else "-", f"{j.damping:g}",
                       f"{j.friction:g}")
    console.print(joints)
    for j in m.locked_joints:
        assert j.limit is not None, "a locked joint is one whose <limit> has lower = upper (Joint.locked_type)"
        console.print(f"locked: {escape(j.name)} ({j.locked_type}, lower = upper = {j.limit.lower:g}) is fixed")
    for u in m.unsupported:
        console.print(f"[yellow]unsupported:[/] {escape(u)}")


show = command(ShowConfig, run)
