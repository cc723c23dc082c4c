"""A command the tool prints, read back by the real command line without running it.

`parse_as_printed` splits the text as a shell would, hands it to `ghbootstrap.cli.main`
(Typer's parser, the empty-value rule, the option combinations, and the command's own
`parse`: names, scopes, environments, cron, paths) and stops where the command would
connect to AWS and GitHub. What comes back is what the command would run with: Click's
parsed options and the flow's request. A usage error fails the test with its one line.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ghbootstrap import cli


@dataclass(frozen=True)
class Parsed:
    command: str  # oidc, keys, ...
    options: dict[str, Any]  # Click's parameters, by name
    request: Any  # what the command's `parse` built for its flow


def parse_as_printed(command: str, monkeypatch: pytest.MonkeyPatch) -> Parsed:
    words = shlex.split(command)
    assert words[0] == "ghbootstrap", command
    seen: list[Parsed] = []

    def stop_before_running(
        context: Any, parse: Callable[[], Any], run: Callable[[Any], Any], **_: Any
    ) -> None:
        cli._check_combinations(context)
        seen.append(Parsed(context.info_name, dict(context.params), parse()))

    monkeypatch.setattr(cli, "_run", stop_before_running)
    with pytest.raises(SystemExit) as done:
        cli.main(words[1:])
    assert done.value.code in (None, 0), f"usage error for {command}"
    [parsed] = seen
    return parsed
