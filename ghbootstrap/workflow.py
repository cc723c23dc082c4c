"""Render the workflow templates in ghbootstrap/templates/ and write them as a planned resource.

Templates hold `<<name>>` placeholders (GitHub's own `${{ }}` expressions pass through
untouched). Values are rendered as YAML double-quoted strings; values GitHub evaluates
(`run:`, `environment:`) keep a `${{` in a value literal, and commands are quoted for the
shell too, so every legal value reaches the runner exactly as given.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path

from ghbootstrap import __version__
from ghbootstrap.errors import GhbError, UsageError
from ghbootstrap.plan import Step, reconcile
from ghbootstrap.subjects import Scopes

OIDC_TEMPLATE = "ecr-build-push-oidc.yml"
KEYS_TEMPLATE = "ecr-build-push-keys.yml"
ROTATE_TEMPLATE = "rotate-aws-keys.yml"
DEFAULT_PATH = Path(".github/workflows/ecr-build-push.yml")
ROTATE_FILENAME = "rotate-aws-keys.yml"

_PLACEHOLDER = re.compile(r"<<([a-z_]+)>>")


def template(name: str) -> str:
    return files("ghbootstrap").joinpath("templates", name).read_text(encoding="utf-8")


def fill(text: str, values: Mapping[str, str]) -> str:
    missing = set(_PLACEHOLDER.findall(text)) - set(values)
    if missing:
        raise GhbError(f"workflow template needs values for {sorted(missing)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def _quoted(value: str) -> str:
    """A YAML double-quoted scalar: printable ASCII as is, everything else escaped."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _literal(value: str) -> str:
    """`_quoted`, for a field GitHub evaluates: `${{` in the value stays text."""
    return _quoted(value.replace("${{", "${{ '${{' }}"))


def _flow_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_quoted(v) for v in values) + "]"


# GitHub's filter syntax (the "filter pattern cheat sheet"): `*` is a run of characters
# without `/`, `**` any run, `?` and `+` make the PRECEDING character optional or
# repeatable, `[...]` a class, a leading `!` negates, `\` makes the next character literal.
_FILTER_SPECIAL = frozenset("*?+[]!\\")


def filter_pattern(pattern: str, option: str) -> str:
    """The GitHub filter that matches exactly the ref names an IAM StringLike pattern does.

    IAM's `*` (any run, `/` included) is `**`; every other character is literal, escaped
    where GitHub would read it as syntax. A `/` right after `**` is escaped too, because
    `**/` also matches no folder at all (`a**/b` would match `ab` and miss `a/b`). IAM's
    `?` (exactly one character) has no GitHub equivalent: refused, naming the option.
    """
    out: list[str] = []
    for ch in pattern:
        if ch == "?":
            raise UsageError(
                f"{option} '{pattern}' has no exact workflow trigger: GitHub's filter syntax "
                "has no 'any one character', so the workflow would not run for the refs "
                "the role admits",
                "use '*' instead of '?', list the names, or pass --no-workflow",
            )
        if ch == "*":
            if out[-1:] != ["**"]:
                out.append("**")
        elif ch in _FILTER_SPECIAL or (ch == "/" and out[-1:] == ["**"]):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def check_triggers(scopes: Scopes) -> None:
    """Every branch and tag scope has an exact trigger (before any call: exit 2)."""
    for branch in scopes.branches:
        filter_pattern(branch, "--branch")
    for tag in scopes.tags:
        filter_pattern(tag, "--tag")


def triggers(scopes: Scopes, default_branch: str) -> str:
    """`on:` events that fire for exactly the contexts the trust admits."""
    branches = [filter_pattern(b, "--branch") for b in scopes.branches]
    tags = [filter_pattern(t, "--tag") for t in scopes.tags]
    if not branches and not tags:
        branches = [filter_pattern(default_branch, "the default branch")]
    lines = ["  push:"]
    if branches:
        lines.append(f"    branches: {_flow_list(branches)}")
    if tags:
        lines.append(f"    tags: {_flow_list(tags)}")
    if scopes.pull_requests:
        lines.append("  pull_request:")
    lines.append("  workflow_dispatch:")
    return "\n".join(lines)


def _environment_line(environment: str | None) -> str:
    return f"\n    environment: {_literal(environment)}" if environment else ""


def build_workflow(template_name: str, repository: str, scopes: Scopes, default_branch: str) -> str:
    """The build-and-push workflow. A job in an environment gets that environment's `sub`."""
    environment = scopes.environments[0] if scopes.environments else None
    return fill(
        template(template_name),
        {
            "repository": repository,
            "triggers": triggers(scopes, default_branch),
            "environment": _environment_line(environment),
        },
    )


_CRON_LIMITS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_CRON_NAMES: tuple[dict[str, int], ...] = (
    {},
    {},
    {},
    {m: i + 1 for i, m in enumerate(_MONTHS)},
    {d: i for i, d in enumerate(_DAYS)},
)


def _cron_value(text: str, index: int) -> int:
    names = _CRON_NAMES[index]
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ValueError(text)
    low, high = _CRON_LIMITS[index]
    if not low <= int(text) <= high:
        raise ValueError(text)
    return int(text)


def _check_cron_field(field: str, index: int) -> None:
    for item in field.split(","):
        span, _, step = item.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            raise ValueError(item)
        if span == "*":
            continue
        first, _, last = span.partition("-")
        start = _cron_value(first, index)
        if last and start > _cron_value(last, index):
            raise ValueError(item)


def check_cron(expression: str) -> str:
    """Five fields of numbers, names, ranges, lists and steps (GitHub's POSIX cron)."""
    fields = expression.split()
    try:
        if len(fields) != 5:
            raise ValueError(expression)
        for index, field in enumerate(fields):
            _check_cron_field(field, index)
    except ValueError:
        raise UsageError(
            f"'{expression}' is not a valid five-field cron expression",
            "use MINUTE HOUR DAY MONTH WEEKDAY, for example '17 4 * * 1' (Mondays 04:17 UTC)",
        ) from None
    return " ".join(fields)


def _command(words: Sequence[str]) -> str:
    """A `run:` value: the words quoted for bash, then for GitHub and YAML."""
    return _literal(shlex.join(words))


def build_rotation_workflow(
    repository: str, cron: str, arguments: Sequence[str], environment: str | None
) -> str:
    """`arguments` follow `ghbootstrap rotate OWNER/REPO`, any value allowed."""
    return fill(
        template(ROTATE_TEMPLATE),
        {
            "repository": repository,
            "cron": _quoted(cron),
            "environment": _environment_line(environment),
            "install": _command(["python", "-m", "pip", "install", f"ghbootstrap=={__version__}"]),
            "command": _command(["ghbootstrap", "rotate", repository, *arguments]),
        },
    )


def check_file_path(path: Path, option: str) -> Path:
    """A path a workflow file can be written to: not a folder, not under a file."""
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder", "give the path of a file")
    if path.exists() and not path.is_file():
        raise UsageError(f"{option} {path} is not a regular file", "give the path of a file")
    parent = next((p for p in path.parents if p.exists()), Path("."))
    if not parent.is_dir():
        raise UsageError(
            f"{option} {path} cannot be written: {parent} is not a folder",
            "give the path of a file in a folder",
        )
    writable = os.access(path, os.W_OK) if path.exists() else os.access(parent, os.W_OK | os.X_OK)
    if not writable:
        raise UsageError(
            f"{option} {path} cannot be written: permission denied",
            "give a path you may write, or --no-workflow",
        )
    return path


def file_step(path: Path, content: str, *, force: bool) -> Step:
    """Write a workflow file: create it, leave it if identical, refuse to clobber it."""
    check_file_path(path, "workflow path")
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if current is not None and current != content and not force:
        raise UsageError(
            f"refusing to overwrite {path}: it differs from the workflow ghbootstrap writes",
            "pass --force to replace it, --workflow-path to write elsewhere, or --no-workflow",
        )

    def write() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")

    return reconcile(
        "workflow file", str(path), current, content, create=write, update=write, document=content
    )
