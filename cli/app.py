"""The `simmatch` command. Each subcommand lives in its own module of this package; this file only
assembles them and turns simmatch's own errors into one line on stderr and exit code 2."""

from __future__ import annotations

import sys

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


def _version(value: bool):
    if value:
        typer.echo(f"simmatch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")):
    """simmatch: check, gap, learn-dyn."""


@app.command()
def info():
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
        table.add_row("torch (learn-dyn)", "-", "[yellow]not installed: pip install 'simmatch[learn]'[/]")
    console.print(table)
    console.print(f"models: {', '.join(model_names())}")


def _register() -> None:
    """Attach the subcommands that live in their own modules."""
    import importlib

    for module, attr, name in [
        ("simmatch.cli.show", "show", "show"),
        ("simmatch.cli.check", "check", "check"),
        ("simmatch.cli.gap", "gap", "gap"),
        ("simmatch.cli.learn", "learn_dyn", "learn-dyn"),
        ("simmatch.cli.learn", "train_policy", "train-policy"),
    ]:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                continue  # that subcommand is not built yet
            raise
        app.command(name)(getattr(mod, attr))


_register()


def main(argv: list[str] | None = None) -> int:
    """Console entry point: simmatch's own errors become one line and exit code 2."""
    try:
        rv = app(args=argv, standalone_mode=False)
    except SimmatchError as exc:
        from rich.markup import escape

        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return 1
    except Exception as exc:  # click's usage errors (typer vendors click, so match by shape)
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            return 2
        raise
    return rv if isinstance(rv, int) else 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
