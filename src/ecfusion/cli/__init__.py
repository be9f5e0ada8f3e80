"""The ``ecfusion`` command: a thin layer over the library (ARCHITECTURE principle 6).

``main`` imports every command module in this package (each registers its commands on
``ecfusion.cli.app.app``) and turns an ``EcfusionError``, or a DuckDB error that says a warehouse
file is damaged or cannot be written (``warehouse.snapshot.io_errors``) or that memory ran out
(``engine.duck.memory_errors``), into one clear line and a non-zero exit; so is a usage error of
click's (an unknown option or command, a missing argument, a value an option does not take), in
place of click's usage block.

Help texts are prose, shown as written (``plain_help``): Typer reads them as Rich markup, where
"[warehouse] engine" would lose its "[warehouse]", and keeps a docstring's line breaks in a group's
list of commands, where they fall mid-line.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.markup import escape

# Typer 0.29 bundles its own click: its usage errors are these, not the click package's
from typer._click.exceptions import NoArgsIsHelpError
from typer._click.exceptions import UsageError as ClickUsageError

from ecfusion.errors import EcfusionError, PathError, UsageError
from ecfusion.interrupt import ctrl_c_stops_queries


def _load_commands() -> None:
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name != "app":
            importlib.import_module(f"{__name__}.{mod.name}")


@contextmanager
def _duckdb_errors() -> Iterator[None]:
    """Inside the block, a DuckDB error that says a warehouse file is damaged or cannot be written
    (``warehouse.snapshot.io_errors``), or that memory ran out (``engine.duck.memory_errors``), is
    raised as ecfusion's error. Their modules load only when DuckDB raised: a command that never
    opens a database starts without DuckDB."""
    try:
        yield
    except Exception as e:
        duckdb = sys.modules.get("duckdb")
        if duckdb is None or not isinstance(e, duckdb.Error):
            raise
        from ecfusion.engine.duck import memory_errors
        from ecfusion.warehouse.snapshot import io_errors

        with io_errors(), memory_errors():
            raise


def plain_help(command: Any) -> Any:
    """``command`` (a click command or group built by Typer) with every help text of it, of its
    options and of its subcommands escaped from Rich markup, and each command's summary in its
    group's list (its help's first paragraph) on one line, wrapped to the terminal there."""
    first = (command.help or "").split("\n\n")[0]
    if command.help:
        command.help = escape(command.help)
    if first and not command.short_help:
        command.short_help = escape(" ".join(first.split()))
    for param in command.params:
        if getattr(param, "help", None):
            param.help = escape(param.help)
    for sub in getattr(command, "commands", {}).values():
        plain_help(sub)
    return command


def main(argv: list[str] | None = None) -> int:
    import typer

    from ecfusion.cli.app import app

    # Splink narrates its training at WARNING level; a command's own summary says what matters.
    logging.getLogger("splink").setLevel(logging.ERROR)
    _load_commands()
    command = plain_help(typer.main.get_command(app))
    try:
        # typer.Exit(n) from a command (a run that does not balance, a failed check) comes back as n
        # a damaged or unwritable warehouse file is the disk's doing, and memory running out the
        # machine's (or the memory_limit's), not a bug: said like any error; Ctrl-C stops the DuckDB
        # query in progress, not only the Python around it (ecfusion.interrupt)
        with ctrl_c_stops_queries(), _duckdb_errors():
            # named as installed, whatever started it (python -m, a test): said so in usage errors
            code = command(args=argv, prog_name="ecfusion", standalone_mode=False)
    except EcfusionError as e:
        print(e.one_line(), file=sys.stderr)  # one line, never wrapped
        return e.exit_code
    except KeyboardInterrupt:
        return _interrupted()
    except OSError as e:  # the file system said no (read-only, a file where a folder belongs, …)
        error = PathError.of(e)
        print(error.one_line(), file=sys.stderr)
        return error.exit_code
    except NoArgsIsHelpError as e:  # `ecfusion` or a group alone: its help, as click shows it
        e.show()
        return int(e.exit_code)
    except ClickUsageError as e:
        usage = usage_error(e, command, sys.argv[1:] if argv is None else argv)
        print(usage.one_line(), file=sys.stderr)
        return usage.exit_code
    except Exception as e:
        if _an_interrupt(e):
            return _interrupted()
        # Aborts and other errors of the click that typer bundles: shown as click shows them.
        if type(e).__name__ == "Abort":
            return 1
        if hasattr(e, "show") and hasattr(e, "exit_code"):
            e.show()
            return int(e.exit_code)
        raise
    if code == 130:  # Typer turns Ctrl-C outside a query into Exit(130), which comes back as 130
        return _interrupted()
    return code if isinstance(code, int) else 0


def usage_error(e: ClickUsageError, root: Any, argv: list[str]) -> UsageError:
    """Click's usage error (its usage block, a "Try … --help" line and "Error: …") as one line: the
    command it was given to, what is wrong, and where its usage is."""
    said = " ".join(e.format_message().split()).removesuffix(".")  # several lines said on one
    said = said[:1].lower() + said[1:]  # "Missing argument 'x'" follows "error[ECF010]: command: "
    # the parser's own errors (an option without its value) come before a context exists
    path = e.ctx.command_path if e.ctx is not None else _command_path(root, argv)
    return UsageError(f"{path}: {said}", hint=f"see `{path} --help`")


def _command_path(root: Any, argv: list[str]) -> str:
    """``ecfusion`` and the (sub)command names that lead ``argv``, e.g. ``ecfusion ingest files``."""
    words, command = ["ecfusion"], root
    for arg in argv:
        command = getattr(command, "commands", {}).get(arg)
        if command is None:
            break
        words.append(arg)
    return " ".join(words)


def _an_interrupt(e: BaseException) -> bool:
    """Ctrl-C inside a DuckDB query: DuckDB stops it with RuntimeError('Query interrupted') when it
    sees the signal itself, with its InterruptException when ``ecfusion.interrupt`` stopped it (the
    KeyboardInterrupt that follows at once comes first, in practice)."""
    if isinstance(e, RuntimeError) and str(e) == "Query interrupted":
        return True
    duckdb = sys.modules.get("duckdb")
    return duckdb is not None and isinstance(e, duckdb.InterruptException)


def _interrupted() -> int:
    print("interrupted; what was landed is durable and will not be landed twice", file=sys.stderr)
    return 130


def run() -> None:
    sys.exit(main())
