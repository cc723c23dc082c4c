"""Render the workflow templates in ghbootstrap/templates/, and tell our own files from
others.

Templates hold `<<name>>` placeholders (GitHub's own `${{ }}` expressions pass through
untouched). Values are rendered as YAML double-quoted strings; values GitHub evaluates
(`run:`, `environment:`) keep a `${{` in a value literal, and commands are quoted for the
shell too, so every legal value reaches the runner exactly as given.
Actions come from `pins.py`. Every rendering ends with a digest line, the SHA-256 of the
lines above it: a file whose digest still matches is ghbootstrap's own, unmodified, and
is upgraded on the next run. Files 0.1.0 wrote carry no digest; `frozen_v0_1_0.py` renders them.
"""

from __future__ import annotations

import enum
import hashlib
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path

from ghbootstrap import __version__, frozen_v0_1_0
from ghbootstrap.errors import GhbError, UsageError, shown
from ghbootstrap.pins import placeholders
from ghbootstrap.subjects import Scopes

OIDC_TEMPLATE = "ecr-build-push-oidc.yml"
KEYS_TEMPLATE = "ecr-build-push-keys.yml"
ROTATE_TEMPLATE = "rotate-aws-keys.yml"
ROTATE_FILENAME = "rotate-aws-keys.yml"

_PLACEHOLDER = re.compile(r"<<([a-z_]+)>>")
_DIGEST = re.compile(r"# ghbootstrap-digest: sha256:([0-9a-f]{64}) .*\n\Z")
_DIGEST_NOTE = "ghbootstrap upgrades this file while the lines above are unchanged"


def template(name: str) -> str:
    return files("ghbootstrap").joinpath("templates", name).read_text(encoding="utf-8")


def fill(text: str, values: Mapping[str, str]) -> str:
    """Placeholders filled, actions pinned (`<<uses_NAME>>`), and the digest line added."""
    values = {**placeholders(), **values}
    missing = set(_PLACEHOLDER.findall(text)) - set(values)
    if missing:
        raise GhbError(f"workflow template needs values for {sorted(missing)}")
    return sealed(_PLACEHOLDER.sub(lambda m: values[m.group(1)], text))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sealed(body: str) -> str:
    """The body, then a line holding its digest."""
    return f"{body}# ghbootstrap-digest: sha256:{_sha256(body)} ({_DIGEST_NOTE})\n"


def intact(text: str) -> bool:
    """Whether `text` ends with a digest line that matches the lines above it."""
    text = _lf(text)
    found = _DIGEST.search(text)
    return found is not None and _sha256(text[: found.start()]) == found.group(1)


def _lf(text: str) -> str:
    """Line endings as we write them: a checkout with autocrlf turns them into CRLF."""
    return text.replace("\r\n", "\n")


@dataclass(frozen=True)
class WorkflowFile:
    """A file to deliver: its path in the repository (or on disk), what we write, and what
    earlier releases wrote for the same inputs."""

    path: str
    content: str
    earlier: tuple[str, ...] = ()


class Origin(enum.StrEnum):
    CURRENT = "current"
    EARLIER = "an earlier ghbootstrap rendering"
    CHANGED = "changed by hand, or not written by ghbootstrap"


def origin(found: str, wanted: WorkflowFile) -> Origin:
    """Is a file we found what we write now, our own older rendering, or someone's?"""
    text = _lf(found)
    if text == wanted.content:
        return Origin.CURRENT
    earlier = {frozen_v0_1_0.sorted_triggers(e) for e in wanted.earlier}
    if intact(text) or frozen_v0_1_0.sorted_triggers(text) in earlier:
        return Origin.EARLIER
    return Origin.CHANGED


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
                f"{option} '{shown(pattern)}' has no exact workflow trigger: GitHub's filter "
                "syntax has no 'any one character', so the workflow would not run for the refs "
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


def triggers_of(scopes: Scopes, default_branch: str) -> str:
    """All of the build workflow that depends on the scopes: its events, and the job's
    environment. Two scopes with the same text run the same jobs."""
    environment = scopes.environments[0] if scopes.environments else None
    return triggers(scopes, default_branch) + _environment_line(environment)


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


_LIST = re.compile(r"^    (branches|tags): \[(.*)\]$", re.MULTILINE)
_ENVIRONMENT = re.compile(r"^    environment: (\".*\")$", re.MULTILINE)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")


def _unquoted(body: str) -> str:
    """The value of a double-quoted scalar as `_quoted` (or 0.1.0's json.dumps) wrote it."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        return chr(int(code[1:], 16)) if len(code) > 1 else code

    text = _ESCAPE.sub(one, body)
    return text.encode("utf-16", "surrogatepass").decode("utf-16")  # json's surrogate pairs


def scopes_in(text: str) -> Scopes | None:
    """The scopes one of our build workflows was rendered for, read back from its triggers
    and environment (None if it does not look like ours). Lets `status` render the same
    inputs again without knowing how the setup was made."""
    text = _lf(text)
    triggers_block = text.partition("\non:\n")[2].partition("\n\n")[0]
    if not triggers_block:
        return None
    try:
        lists = {
            key: [_unfiltered(_unquoted(v)) for v in _QUOTED.findall(values)]
            for key, values in _LIST.findall(triggers_block)
        }
        environment = _ENVIRONMENT.search(text)
        environments = []
        if environment:
            value = _unquoted(environment.group(1)[1:-1])
            environments = [value.replace("${{ '${{' }}", "${{")]
        return Scopes.parse(
            branches=lists.get("branches", []),
            tags=lists.get("tags", []),
            environments=environments,
            pull_requests="\n  pull_request:" in f"\n{triggers_block}",
        )
    except (ValueError, UnicodeError, GhbError):
        return None


def _unfiltered(pattern: str) -> str:
    """The IAM pattern `filter_pattern` made this GitHub filter from (0.1.0 wrote names
    as they are: the same for names without `*` or GitHub's special characters)."""
    out, chars = [], iter(pattern)
    for ch in chars:
        if ch == "\\":
            out.append(next(chars, ""))
        elif ch == "*":
            if out[-1:] != ["*"]:
                out.append("*")
        else:
            out.append(ch)
    return "".join(out)


def origin_of(text: str, repository: str, default_branch: str) -> Origin:
    """What a build workflow found in a repository is, when the inputs it was made for are
    not known: the best origin over both templates, for the scopes it names."""
    scopes = scopes_in(text)
    if scopes is None:
        return Origin.EARLIER if intact(text) else Origin.CHANGED
    seen = {
        origin(text, build_file("", name, repository, scopes, default_branch))
        for name in (OIDC_TEMPLATE, KEYS_TEMPLATE)
    }
    return min(seen, key=list(Origin).index)


def build_file(
    path: str, template_name: str, repository: str, scopes: Scopes, default_branch: str
) -> WorkflowFile:
    return WorkflowFile(
        path,
        build_workflow(template_name, repository, scopes, default_branch),
        v0_1_0_builds(template_name, repository, scopes, default_branch),
    )


def v0_1_0_builds(
    template_name: str, repository: str, scopes: Scopes, default_branch: str
) -> tuple[str, ...]:
    """What 0.1.0 wrote for these scopes, given in any order: it ran the job in the first
    environment it was given (so each is tried first), and listed branches and tags in
    the order given (`origin` compares them sorted)."""
    return tuple(
        rendering
        for first in scopes.environments or (None,)
        for rendering in frozen_v0_1_0.build_workflows(
            template_name,
            repository,
            replace(scopes, environments=_first(scopes.environments, first)),
            default_branch,
        )
    )


def _first(environments: tuple[str, ...], first: str | None) -> tuple[str, ...]:
    return environments if first is None else (first, *(e for e in environments if e != first))


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


def _cron_values(field: str, index: int) -> set[int]:
    """The values one field names (its lists, ranges and steps spelled out)."""
    low, high = _CRON_LIMITS[index]
    values: set[int] = set()
    for item in field.split(","):
        span, _, step = item.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            raise ValueError(item)
        first, _, last = span.partition("-")
        start = low if span == "*" else _cron_value(first, index)
        end = _cron_value(last, index) if last else high if span == "*" or step else start
        if start > end:
            raise ValueError(item)
        values.update(range(start, end + 1, int(step or 1)))
    return values


# The most days each month has (February: in leap years).
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def check_cron(expression: str) -> str:
    """Five fields of numbers, names, ranges, lists and steps (GitHub's POSIX cron), on a
    day that comes: with any weekday (`*`) the schedule runs only on the days of the month
    it names, so '0 0 31 2 *' (February 31st) would never run. When the weekday is given
    too, cron runs on either, so the schedule comes."""
    fields = expression.split()
    try:
        if len(fields) != 5:
            raise ValueError(expression)
        values = [_cron_values(field, index) for index, field in enumerate(fields)]
    except ValueError:
        raise UsageError(
            f"'{shown(expression)}' is not a valid five-field cron expression",
            "use MINUTE HOUR DAY MONTH WEEKDAY, for example '17 4 * * 1' (Mondays 04:17 UTC)",
        ) from None
    days, months = values[2], values[3]
    if fields[4] == "*" and not any(day <= _MONTH_DAYS[m - 1] for day in days for m in months):
        raise UsageError(
            f"'{shown(expression)}' never runs: day {fields[2]} of month {fields[3]} never "
            "comes, so the key would never rotate",
            "give a day of the month that comes, for example '17 4 1 * *' (the 1st, 04:17 UTC)",
        )
    return " ".join(fields)


def _command(words: Sequence[str]) -> str:
    """A `run:` value: the words quoted for bash, then for GitHub and YAML."""
    return _literal(shlex.join(words))


def rotation_arguments(user: str, region: str, environment: str | None) -> list[str]:
    """What the rotation workflow passes after `ghbootstrap rotate OWNER/REPO`: the user,
    region and scope the setup used."""
    arguments = ["--user-name", user, "--region", region]
    if environment:
        arguments += ["--environment", environment]
    return arguments


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


def rotation_file(
    path: str,
    repository: str,
    cron: str,
    user: str,
    region: str,
    environment: str | None,
    job_environment: str | None = None,
) -> WorkflowFile:
    """The rotation workflow for this setup (`environment` as given to the command, the
    job's as GitHub spells it, if that differs), and what 0.1.0 wrote for it, from 0.1.0's
    arguments: it passed no --region."""
    job = job_environment or environment
    return WorkflowFile(
        path,
        build_rotation_workflow(
            repository, cron, rotation_arguments(user, region, environment), job
        ),
        frozen_v0_1_0.rotation_workflows(
            repository, cron, frozen_v0_1_0.rotation_arguments(user, environment), job
        ),
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
