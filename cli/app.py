"""The `simmatch` command. Each subcommand lives in its own module of this package; this file
assembles them and, in `main`, turns every outcome into an exit code scripts can trust: 0 clean,
1 findings reached --fail-on, 2 bad input or usage, 70 a bug (traceback saved to a file), 130 Ctrl-C."""

from __future__ import annotations

import sys
from types import FrameType
from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table

from simmatch import __version__
from simmatch.errors import SimmatchError

app = typer.Typer(
    name="simmatch",
    help="Where and why a robot model behaves differently in PyBullet, DART and MuJoCo.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


PIP_LEARN = "not installed: pip install 'simmatch[learn]'"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"simmatch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """simmatch: check, gap, learn-dyn."""


@app.command()
def info() -> None:
    """Which engines are importable here, and their versions."""
    from simmatch.backends import engine_versions
    from simmatch.registry import model_names

    console = Console()
    table = Table(title=f"simmatch {__version__}")
    table.add_column("engine")
    table.add_column("version")
    table.add_column("status")
    for name, ver in engine_versions().items():
        table.add_row(name, ver or "-", "[green]available[/]" if ver else "[red]not installed[/]")
    try:
        import torch

        table.add_row("torch (learn-dyn)", torch.__version__, "[green]available[/]")
    except ImportError:
        from rich.markup import escape

        # escaped: rich would read '[learn]' as a markup tag and drop it
        table.add_row("torch (learn-dyn)", "-", f"[yellow]{escape(PIP_LEARN)}[/]")
    console.print(table)
    console.print(f"models: {', '.join(model_names())}")


@app.command()
def causes(
    engine: str | None = typer.Option(None, "--engine", "-e", help="Only this engine's entries ('model' or '*': "
                                      "the model-level ones, about the URDF itself)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout and nothing else."),
) -> None:
    """The catalogue of known engine behaviours that findings point to: id, engine, what happens, the fix."""
    from rich.markup import escape

    from simmatch.backends import engine_names
    from simmatch.causes import CATALOGUE
    from simmatch.errors import UsageError
    from simmatch.outputs import dumps_json

    known = ["*", *engine_names()]
    if engine == "model":  # findings about the model itself carry engine 'model'; their causes are '*'
        engine = "*"
    if engine is not None and engine not in known:
        raise UsageError(f"--engine {engine!r}: choose one of model ('*'), {', '.join(engine_names())}")
    entries = [c for c in CATALOGUE.values() if engine is None or c.engine == engine]
    if json_out:
        typer.echo(dumps_json({"causes": [{"id": c.id, "engine": c.engine, "explanation": c.explanation,
                                           "fix": c.fix} for c in entries]}))
        return
    console = Console()
    for c in entries:
        console.print(f"[bold]{escape(c.id)}[/] ({escape(c.engine)})")
        console.print(f"  {escape(c.explanation)}", soft_wrap=False)
        console.print(f"  fix: {escape(c.fix)}")
    console.print(f"{len(entries)} causes")


def _register() -> None:
    """Attach the subcommands that live in their own modules."""
    import importlib

    for module, attr, name in [
        ("simmatch.cli.show", "show", "show"),
        ("simmatch.cli.check", "check", "check"),
        ("simmatch.cli.gap", "gap", "gap"),
        ("simmatch.cli.learn", "learn_dyn", "learn-dyn"),
        ("simmatch.cli.learn", "train_policy", "train-policy"),
        ("simmatch.cli.view", "view_cmd", "view"),
        ("simmatch.cli.export", "export", "export"),
        ("simmatch.cli.sweep", "sweep", "sweep"),
    ]:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                continue  # that subcommand is not built yet
            raise
        app.command(name)(getattr(mod, attr))


_register()


EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_SOFTWARE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 70, 130, 143


class Interrupted(BaseException):
    """SIGINT / SIGTERM, raised as an exception of our own (typer would turn KeyboardInterrupt into a
    silent exit code) so that temporary files are removed on the way out."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _say(line: str) -> None:
    from rich.markup import escape

    Console(stderr=True).print(escape(line), highlight=False, soft_wrap=True)


def _crash_report(exc: BaseException) -> int:
    """A bug: one line naming a file in the temp folder that holds the full traceback; exit 70."""
    import datetime
    import os
    import tempfile
    import traceback

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if isinstance(exc, _ChildBug):
        text = exc.detail
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = os.path.join(tempfile.gettempdir(), f"simmatch-crash-{stamp}-{os.getpid()}.txt")
    first = (str(exc).strip().splitlines() or [""])[0]
    what = first if isinstance(exc, _ChildBug) else f"{type(exc).__name__}: {first}".rstrip(": ")
    try:
        with open(path, "w") as f:
            f.write(f"simmatch {__version__}\nargv: {sys.argv!r}\n\n{text}")
        where = f"full traceback in {path}"
    except OSError:
        sys.stderr.write(text)
        where = "traceback above"
    _say(f"internal error (a bug in simmatch, please report it): {what}; {where}")
    return EXIT_SOFTWARE


class _ChildBug(Exception):
    """An unexpected exception inside an isolated engine process (its traceback is in `detail`)."""

    def __init__(self, message: str, detail: str):
        super().__init__(message)
        self.detail = detail


def internal_error(message: str, detail: str) -> Exception:
    """For a command whose work ran in a child process: a bug there, with the child's traceback."""
    return _ChildBug(message, detail)


def _interrupted(code: int, how: str) -> int:
    from simmatch.outputs import interrupted_line

    _say(f"{how}: {interrupted_line()}")
    return code


# options that a newer grammar removed -> what to write instead (said with the usage error)
REMOVED_OPTIONS = {"--run": "--run is gone: --out DIR is the run folder itself"}


def _usage_line(exc: Exception) -> str:
    """click's usage error (unknown option, wrong type, missing argument) as one line: the command,
    the message, where to read more, and the replacement of a removed option."""
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command_path", "simmatch") if ctx is not None else "simmatch"
    fmt = getattr(exc, "format_message", None)
    message = " ".join((fmt() if callable(fmt) else str(exc)).split())
    hints = [text for flag, text in REMOVED_OPTIONS.items() if f"No such option: {flag}" in message]
    return f"{command}: {message}" + "".join(f"; {h}" for h in hints) + f" (see {command} --help)"


def _print_error(text: str) -> None:
    """The one line of a refused command on stderr: 'error: TEXT' (TEXT printed as it is, no markup)."""
    from rich.markup import escape

    Console(stderr=True).print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """Console entry point, the one place where outcomes become exit codes:
    0 clean, 1 findings reached --fail-on, 2 bad input or usage (one line, nothing written),
    70 internal error (one line naming the file that holds the traceback), 130 Ctrl-C and 143 SIGTERM
    (one line saying what is on disk: never a half-written file)."""
    import contextlib
    import signal

    def _raise(signum: int, frame: FrameType | None) -> NoReturn:
        for sig in old:  # a second Ctrl-C must not interrupt the clean-up of the first
            signal.signal(sig, signal.SIG_IGN)
        raise Interrupted(signum)

    old = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread
            old[sig] = signal.signal(sig, _raise)
    try:
        rv = app(args=argv, prog_name="simmatch", standalone_mode=False)
    except SimmatchError as exc:
        _print_error(str(exc))
        return EXIT_USAGE
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort as exc:  # click turns KeyboardInterrupt, and EOFError, into Abort
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, EOFError):  # an EOFError from our code (a truncated file read) is a bug
            return _crash_report(cause)
        return _interrupted(EXIT_INTERRUPTED, "interrupted")
    except KeyboardInterrupt:
        return _interrupted(EXIT_INTERRUPTED, "interrupted")
    except Interrupted as exc:
        if exc.signum == signal.SIGTERM:
            return _interrupted(EXIT_TERMINATED, "terminated (SIGTERM)")
        return _interrupted(EXIT_INTERRUPTED, "interrupted (Ctrl-C)")
    except Exception as exc:
        if isinstance(exc, typer.BadParameter.__mro__[1]):  # click's UsageError (typer vendors click)
            _print_error(_usage_line(exc))
            return EXIT_USAGE
        return _crash_report(exc)
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    if rv == EXIT_INTERRUPTED:  # typer turned a KeyboardInterrupt raised by code into exit code 130
        return _interrupted(EXIT_INTERRUPTED, "interrupted")
    return rv if isinstance(rv, int) else 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
