"""Every command's ``--help`` shows its texts as written: nothing read as markup and dropped
(``[warehouse] engine`` once showed as `` engine``), and each command's summary in its group's
list on one line (a docstring's line breaks once fell mid-line there)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer

from ecfusion.cli import _load_commands, main
from ecfusion.cli.app import app


def _commands() -> Iterator[tuple[list[str], Any]]:
    _load_commands()

    def walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


COMMANDS = list(_commands())


def _help(path: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "1000")  # no wrapping: each text on one line of its panel
    assert main([*path, "--help"]) == 0
    return capsys.readouterr().out


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_command_and_group_has_help() -> None:
    assert len(COMMANDS) > 40
    assert [" ".join(p) for p, c in COMMANDS if not c.help and p] == []


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(p) or "ecfusion" for p, _ in COMMANDS])
def test_help_shows_every_text_as_written(
    path: list[str], command: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _help(path, capsys, monkeypatch)
    shown = _flat(re.sub(r"[│╭╮╰╯─]", " ", out))
    assert _flat(command.help.split("\n\n")[0]) in shown
    for param in command.params:
        if getattr(param, "help", None):
            assert _flat(param.help) in shown, f"--{param.name}"
    rows = out.splitlines()
    for name, sub in getattr(command, "commands", {}).items():
        summary = _flat(sub.help.split("\n\n")[0])
        row = next(r for r in rows if r.startswith(f"│ {name} "))
        assert summary in _flat(row.strip("│ ")), f"{name}'s summary is not on its row"
