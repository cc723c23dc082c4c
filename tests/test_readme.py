"""README keeps up with the command line: every command and option is documented."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from ghbootstrap.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
COMMAND = typer.main.get_command(app)
COMMANDS = sorted(COMMAND.commands)  # type: ignore[attr-defined]


def test_the_two_newcomer_commands_come_first() -> None:
    head = README.splitlines()[:5]
    assert any("make demo" in line for line in head)
    assert any("make test" in line for line in head)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_and_option_is_in_the_readme(name: str) -> None:
    assert f"ghbootstrap {name}" in README
    command = COMMAND.commands[name]  # type: ignore[attr-defined]
    options = [o for p in command.params for o in p.opts if o.startswith("--")]
    missing = [o for o in options if o not in README and o != "--help"]
    assert missing == []


def test_exit_codes_are_documented() -> None:
    for line in ("| 0 |", "| 1 |", "| 2 |", "| 3 |"):
        assert line in README
