"""The text every command prints: names and values from AWS, GitHub or a pasted token
never reach the terminal as control characters."""

from __future__ import annotations

from ghbootstrap.plan import Action, Change
from ghbootstrap.render import FORMATTERS, Format
from ghbootstrap.report import Check, Report, State


def test_control_characters_in_any_name_or_value_are_shown_escaped() -> None:
    report = Report(
        "status",
        "acme/web",
        dry_run=False,
        changes=[Change("workflow file", ".github/workflows/\x1b[2Jci.yml", Action.KEEP)],
        checks=[Check("workflow", "build\x07.yml (main)", State.OK, "current\rforged")],
        notes=["read .github/workflows/\x1b]0;title\x07x.yml"],
    )
    text = FORMATTERS[Format.TEXT](report)
    assert not any(ch in text for ch in "\x1b\x07\r")
    assert "\\x1b[2Jci.yml" in text
    assert "build\\x07.yml (main)" in text
    assert "current\\rforged" in text
    assert "note: read .github/workflows/\\x1b]0;title\\x07x.yml" in text
    plain = Report("oidc", "acme/web", False)  # nothing to escape: the text as it is
    assert FORMATTERS[Format.TEXT](plain) == (
        "ghbootstrap oidc acme/web\nNo changes: everything already matches."
    )
