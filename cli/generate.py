"""Typer commands generated from config dataclasses (`simmatch.fields`).

Why not tyro: tyro builds the parser from the dataclass directly, but its errors are multi-line
panels and its grammar (`--field.subfield`, its own bool flags) is not the one the commands already
have; the house rule for bad input is one line, exit 2, no traceback. So the fields carry their help,
flags and ranges as metadata, and this module turns them into a typer signature: the command keeps
click's parsing and `app.main`'s one-line errors, and the dataclass stays the single place where an
option is declared.

`command(Config, body, run=(...))` returns a function for `app.command(name)`: its parameters are
Config's CLI fields (MODEL positional where the field says so) plus the named run options (where
the output goes and how it is printed: `--out`, `--json`, `--quiet`, ...; not recorded, they change
no number). When called it parses the values that need it, builds the config, range-checks it
(`options.check_config`) and calls `body(config, run_options)`.
"""

from __future__ import annotations

import contextvars
import dataclasses
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import typer

from simmatch.errors import UsageError
from simmatch.fields import Cli, cli_of, flag_of, option


@dataclass(frozen=True)
class RunOptions:
    """Where a command writes and how it talks; never recorded (they change no number)."""

    out: Path | None = option(None, short="-o", help="Output folder (created; files of this command in "
                                                         "it are replaced, a folder holding others is refused).")
    json: bool = option(False, help="Print one JSON object on stdout and nothing else.")
    quiet: bool = option(False, short="-q", help="No progress bar or progress lines.")
    no_report: bool = option(False, help="Do not write the report folder.")
    no_plots: bool = option(False, help="Report without PNG plots.")
    no_limit: bool = option(False, help="Lift the caps that keep a run bounded.")
    fail_on: str = option("error", help="Exit 1 when a finding of this severity or worse exists: error or "
                                        "warning; LOAD:SEVERITY counts one load mode only (matched:error: do "
                                        "the matched builds agree?).")
    resume: bool = option(False, help="Continue the run folder from its latest checkpoint.")
    workers: int | None = option(None, short="-j", minimum=1, maximum=4096,
                                 help="Runs at a time on this machine (default: all cores); with --ray local, "
                                      "the CPUs of the Ray instance.")
    ray: str | None = option(None, help="Run as Ray tasks: a cluster address (ray://host:10001), 'auto' (the "
                                        "cluster this machine is part of) or 'local' (start one here). Needs pip "
                                        "install 'simmatch\\[ray]'.")


_RUN_FIELDS = {f.name: f for f in dataclasses.fields(RunOptions)}
_ALIAS = "__alias_"
_CONTEXT = "__typer_context"
_GIVEN: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("given_options", default=frozenset())


def given_options() -> frozenset[str]:
    """Names of the config fields and run options the user wrote on the command line of the
    command now running (not left at their defaults); empty outside a command."""
    return _GIVEN.get()


class _Command(Protocol):
    """The generated command: a function whose signature typer reads from `__signature__`
    (`inspect.signature` honours it), with the config class it builds."""

    __signature__: inspect.Signature
    __wrapped_config__: type

    def __call__(self, **kw: Any) -> Any: ...


def _cli(f: dataclasses.Field[Any]) -> Cli:
    """The command-line metadata of a field declared with `fields.option()` (every field this module
    turns into a parameter: the config's CLI fields and RunOptions')."""
    c = cli_of(f)
    assert c is not None, f"{f.name}: not declared with simmatch.fields.option()"
    return c


def _default(f: dataclasses.Field[Any]) -> Any:
    """The field's default value (called where click gave nothing, i.e. for an option with a default:
    a field without one is a required argument, always given)."""
    if f.default is not dataclasses.MISSING:
        return f.default
    assert f.default_factory is not dataclasses.MISSING, f"{f.name}: no default, yet not given"
    return f.default_factory()


def _unwrap_optional(t: Any) -> tuple[Any, bool]:
    if typing.get_origin(t) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in typing.get_args(t) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return t, False


def _param(f: dataclasses.Field[Any], hint: Any,
           help_text: str | None = None) -> tuple[inspect.Parameter, list[inspect.Parameter]]:
    """The typer parameter of one field, and hidden alias parameters."""
    c = _cli(f)
    base, optional = _unwrap_optional(hint)
    default = f.default if f.default is not dataclasses.MISSING else (
        f.default_factory() if f.default_factory is not dataclasses.MISSING else ...)
    help_text = help_text or c.help
    shown = None
    if c.parse is not None:  # spelled as text on the command line
        annotation: Any = str | None if (optional or default is None) else str
        shown_default = None if default is None else (c.text(default) if c.text else str(default))
        cli_default: Any = shown_default if default is not ... else ...
    elif typing.get_origin(base) is tuple:  # repeatable option
        annotation = list[str] | None
        cli_default = None
        shown = " ".join(map(str, default)) if default not in (None, ...) and default else False
    else:
        annotation = (base | None) if optional else base
        cli_default = default
    if c.positional:
        info = typer.Argument(cli_default, metavar=f.name.upper(), help=help_text, show_default=True)
    else:
        decls = [flag_of(f)] + ([c.short] if c.short else [])
        info = typer.Option(cli_default, *decls, help=help_text,
                            show_default=shown if shown is not None else True)
    params = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=annotation)]
    if c.hidden_aliases:
        params.append(inspect.Parameter(_ALIAS + f.name, inspect.Parameter.KEYWORD_ONLY,
                                        default=typer.Option(None, *c.hidden_aliases, hidden=True),
                                        annotation=str | None))
    return params[0], params[1:]


def _value(f: dataclasses.Field[Any], hint: Any, raw: Any) -> Any:
    """The field's value from what click parsed (None: the field's default)."""
    c = _cli(f)
    if c.parse is not None:
        if raw is None:
            return _default(f)
        try:
            return c.parse(raw)
        except UsageError:
            raise
        except (ValueError, TypeError) as exc:
            raise UsageError(f"{flag_of(f)} {raw!r}: {exc}") from None
    base, _ = _unwrap_optional(hint)
    if typing.get_origin(base) is tuple:
        if not raw:
            return _default(f)
        return tuple(raw)
    return raw


def command(config_cls: type[Any], body: Callable[..., Any], *, run: tuple[str, ...] = (), doc: str | None = None,
            help: dict[str, str] | None = None) -> Callable[..., Any]:
    """A typer command function built from `config_cls`'s fields and the run options named in `run`.
    `help` overrides the help text of a field or run option for this command."""
    help = help or {}
    hints = typing.get_type_hints(config_cls)
    run_hints = typing.get_type_hints(RunOptions)
    fields = [f for f in dataclasses.fields(config_cls) if (c := cli_of(f)) is not None and c.cli]
    positional: list[inspect.Parameter] = []
    keyword: list[inspect.Parameter] = []
    aliases: list[inspect.Parameter] = []
    for f in fields:
        p, extra = _param(f, hints[f.name], help.get(f.name))
        (positional if _cli(f).positional else keyword).append(p)
        aliases.extend(extra)
    for name in run:
        p, _ = _param(_RUN_FIELDS[name], run_hints[name], help.get(name))
        keyword.append(p)
    # typer passes the click context to a parameter annotated typer.Context (its public way): it says
    # which options the user wrote, as opposed to defaults (`given_options`)
    params = [*positional, *keyword, *aliases,
              inspect.Parameter(_CONTEXT, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)]

    def cmd(**kw: Any) -> Any:
        from . import options

        ctx = kw.pop(_CONTEXT, None)
        _GIVEN.set(frozenset() if ctx is None else frozenset(
            name.removeprefix(_ALIAS) for name in ctx.params
            if getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"))

        values = {}
        for f in fields:
            raw = kw.get(f.name)
            alias = kw.get(_ALIAS + f.name)
            if alias is not None:  # the deprecated spelling (e.g. --model): same meaning
                default = f.default
                if raw not in (None, default) and raw != alias:
                    raise UsageError(f"{flag_of(f)} given twice: {raw!r} and {_cli(f).hidden_aliases[0]} "
                                     f"{alias!r}")
                raw = alias
            values[f.name] = _value(f, hints[f.name], raw)
        cfg = config_cls(**values)
        options.check_config(cfg)
        run_opts = RunOptions(**{n: kw[n] for n in run})
        return body(cfg, run_opts)

    generated = cast(_Command, cmd)
    generated.__signature__ = inspect.Signature(params)
    cmd.__annotations__ = {p.name: p.annotation for p in params}
    cmd.__doc__ = doc or body.__doc__
    cmd.__name__ = getattr(body, "__name__", "command")
    generated.__wrapped_config__ = config_cls
    return generated
