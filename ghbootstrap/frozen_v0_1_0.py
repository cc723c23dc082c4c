"""What earlier releases wrote, so their untouched files can be recognised and upgraded.

0.1.0 wrote workflows without a digest line. Its templates are kept, unchanged, in
templates/v0.1.0/, and its rendering code is frozen here: a file equal to what 0.1.0
renders for the same inputs is ghbootstrap's own and may be replaced. Never edit the
rendering or those templates; a later release that changes rendering adds nothing here,
because from 0.2 on every file carries the digest of its own body.

Callers pass what 0.1.0 passed, never today's inputs: `rotation_arguments` is what its
`keys` gave the rotation workflow. Two inputs nothing recorded, the order of the scope
options and so the environment its job ran in (the first given), are covered by
`sorted_triggers` and by rendering each environment first (workflow.build_file).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from importlib.resources import files

from ghbootstrap.subjects import Scopes

V010 = "v0.1.0"

# 0.1.0's `keys` and `rotate` wrote a new key's secrets once the key authenticated, which
# they polled for at most --propagation-timeout seconds: 120 unless raised (keyswap.py's
# _wait_until_it_works, poll.until). Nothing else stood between CreateAccessKey and the
# writes but one TagUser call.
PROPAGATION_TIMEOUT = 120


def _template(name: str) -> str:
    return files("ghbootstrap").joinpath("templates", V010, name).read_text(encoding="utf-8")


def _fill(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace(f"<<{name}>>", value)
    return text


def _flow_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


_TRIGGER_LIST = re.compile(r"^(    (?:branches|tags): )(\[.*\])$", re.MULTILINE)


def sorted_triggers(text: str) -> str:
    """`text` with the branch and tag lists 0.1.0 writes in sorted order. 0.1.0 listed them
    in the order the options came in, which it recorded nowhere; compared this way, a file
    it wrote is recognised whatever that order was. Lists not in 0.1.0's exact form are
    left as they are."""

    def in_order(found: re.Match[str]) -> str:
        try:
            values = json.loads(found.group(2))
        except ValueError:
            return found.group(0)
        if not (isinstance(values, list) and all(isinstance(v, str) for v in values)):
            return found.group(0)
        if _flow_list(values) != found.group(2):
            return found.group(0)
        return found.group(1) + _flow_list(sorted(values))

    return _TRIGGER_LIST.sub(in_order, text)


def _triggers(scopes: Scopes, default_branch: str) -> str:
    branches = list(scopes.branches)
    if not branches and not scopes.tags:
        branches = [default_branch]
    lines = ["  push:"]
    if branches:
        lines.append(f"    branches: {_flow_list(branches)}")
    if scopes.tags:
        lines.append(f"    tags: {_flow_list(scopes.tags)}")
    if scopes.pull_requests:
        lines.append("  pull_request:")
    lines.append("  workflow_dispatch:")
    return "\n".join(lines)


def _environment_line(environment: str | None) -> str:
    return f"\n    environment: {json.dumps(environment)}" if environment else ""


def build_workflows(
    template_name: str, repository: str, scopes: Scopes, default_branch: str
) -> tuple[str, ...]:
    """The build workflow each earlier release wrote for these inputs."""
    environment = scopes.environments[0] if scopes.environments else None
    return (
        _fill(
            _template(template_name),
            {
                "repository": repository,
                "triggers": _triggers(scopes, default_branch),
                "environment": _environment_line(environment),
            },
        ),
    )


def rotation_arguments(user: str, environment: str | None) -> list[str]:
    """What 0.1.0's `keys` put after `ghbootstrap rotate OWNER/REPO` (it read no region)."""
    arguments = ["--user-name", user]
    if environment:
        arguments += ["--environment", environment]
    return arguments


def rotation_workflows(
    repository: str, cron: str, arguments: Sequence[str], environment: str | None
) -> tuple[str, ...]:
    """The rotation workflow each earlier release wrote for these inputs."""
    return (
        _fill(
            _template("rotate-aws-keys.yml"),
            {
                "repository": repository,
                "cron": json.dumps(cron),
                "environment": _environment_line(environment),
                "install": shlex.quote("ghbootstrap==0.1.0"),
                "arguments": " ".join(shlex.quote(a) for a in [repository, *arguments]),
            },
        ),
    )
