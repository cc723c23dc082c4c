"""The jobs of a workflow file, read as far as `migrate --finish` needs them: the environment
each job runs in, and which secrets and variables its expressions read.

Line by line, without a YAML library at run time: block-style YAML as GitHub's editor and
ghbootstrap write it. Only `${{ }}` expressions count as reads (not comments, not prose),
matched the way GitHub matches context properties, without regard to case. Whatever this
cannot place errs towards "reads it": text outside every job belongs to every job, and an
environment given by an expression may be any environment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

_JOBS = re.compile(r"^jobs\s*:\s*(#.*)?$")
# `key:` or `key: value` on one line of a block mapping; the key plain or quoted.
_KEY = re.compile(
    r"^ *(?P<key>[^\s#:'\"-][^:#]*?|\"[^\"]*\"|'[^']*')\s*:(?:\s+(?P<value>.*?))?\s*$"
)
_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_WHOLE_CONTEXT = re.compile(r"(?<![\w.])toJSON\s*\(\s*secrets\s*\)", re.IGNORECASE)
ALL_SECRETS = "every secret, through toJSON(secrets)"
# a job calling a reusable workflow hands it every secret it can see, without naming any
_INHERIT = re.compile(r"^ *secrets\s*:\s*(['\"]?)inherit\1\s*(#.*)?$", re.MULTILINE)
INHERITED = "every secret, through secrets: inherit"
_LITERAL_OPEN = "${{ '${{' }}"  # how ghbootstrap writes a literal `${{` in a value


@dataclass(frozen=True)
class Job:
    """One job: its id, its environment (None: none), and its lines. `known` is False when
    the environment is an expression, so the job may run in any environment."""

    name: str
    environment: str | None
    known: bool
    text: str

    def in_environment(self, environment: str | None) -> bool:
        """Does the job (maybe) run in this environment? GitHub's names ignore case."""
        if not self.known:
            return True
        if environment is None or self.environment is None:
            return environment == self.environment
        return environment.casefold() == self.environment.casefold()


def _key(line: str) -> tuple[str, str] | None:
    """(key, value) of a mapping line; the value '' when it is only a comment or absent."""
    found = _KEY.match(line)
    if found is None:
        return None
    value = found["value"] or ""
    return _unquote(found["key"]), "" if value.startswith("#") else value


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _meaningful(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def jobs(text: str) -> list[Job]:
    """Each job under `jobs:`, then the rest of the file as a job named '' that runs in any
    environment (workflow-level `env:`, or a layout this reader does not know)."""
    lines = text.replace("\r\n", "\n").split("\n")
    start = next((i for i, line in enumerate(lines) if _JOBS.match(line)), None)
    if start is None:
        return [Job("", None, False, text)]
    outside = lines[:start]
    found: list[tuple[str, list[str]]] = []
    job_indent = None
    index = start + 1
    while index < len(lines):
        line = lines[index]
        if _meaningful(line) and _indent(line) == 0:
            break
        if _meaningful(line) and job_indent is None:
            job_indent = _indent(line)
        header = _key(line) if _meaningful(line) else None
        if header and _indent(line) == job_indent and not header[1]:
            found.append((header[0], []))
        elif found:
            found[-1][1].append(line)
        else:
            outside.append(line)
        index += 1
    outside += lines[index:]
    result = [Job(name, *_environment(body), "\n".join(body)) for name, body in found]
    rest = "\n".join(outside)
    return [*result, Job("", None, False, rest)] if _EXPRESSION.search(rest) else result


def _environment(body: Sequence[str]) -> tuple[str | None, bool]:
    """(name, known) of a job's `environment:`, a name or a mapping with `name:`."""
    lines = [line for line in body if _meaningful(line)]
    if not lines:
        return None, True
    level = _indent(lines[0])
    for index, line in enumerate(lines):
        key = _key(line)
        if not key or _indent(line) != level or key[0] != "environment":
            continue
        value = key[1]
        if value.startswith("{"):
            inline = re.search(r"(?:^|[{,])\s*name\s*:\s*([^,}]+)", value)
            return _name(inline.group(1) if inline else "")
        if value:
            return _name(value)
        for inner in lines[index + 1 :]:
            if _indent(inner) <= level:
                break
            entry = _key(inner)
            if entry and entry[0] == "name":
                return _name(entry[1])
        return None, False
    return None, True


def _name(value: str) -> tuple[str | None, bool]:
    """A scalar: double-quoted (JSON's escapes), single-quoted, or plain (a trailing comment
    dropped). An expression left in it: any environment."""
    value = value.strip()
    if value.startswith('"'):
        end = re.match(r'"((?:[^"\\]|\\.)*)"', value)
        try:
            name = json.loads(f'"{end.group(1)}"') if end else ""
        except ValueError:
            return None, False
    elif value.startswith("'"):
        end = re.match(r"'((?:[^']|'')*)'", value)
        name = end.group(1).replace("''", "'") if end else ""
    else:
        name = re.split(r"\s+#", value, maxsplit=1)[0].strip()
    if not name or "${{" in name.replace(_LITERAL_OPEN, ""):
        return None, False
    return name.replace(_LITERAL_OPEN, "${{"), True


def _unquote(key: str) -> str:
    key = key.strip()
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'" else key


def _expressions(text: str) -> list[str]:
    code = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("#"))
    return _EXPRESSION.findall(code)


def _reads(expressions: Sequence[str], context: str, name: str) -> bool:
    pattern = re.compile(
        rf"(?<![\w.-]){context}\s*(?:\.\s*{re.escape(name)}(?![\w-])"
        rf"|\[\s*(?P<q>['\"]){re.escape(name)}(?P=q)\s*\])",
        re.IGNORECASE,
    )
    return any(pattern.search(e) for e in expressions)


def secrets_read(job: Job, names: Sequence[str]) -> list[str]:
    """Which of these secrets the job's expressions read; ALL_SECRETS for the whole context,
    INHERITED when it hands them all to a reusable workflow (which may read any)."""
    expressions = _expressions(job.text)
    if any(_WHOLE_CONTEXT.search(e) for e in expressions):
        return [ALL_SECRETS]
    if _INHERIT.search(job.text):
        return [INHERITED]
    return [name for name in names if _reads(expressions, "secrets", name)]


def reads_variable(job: Job, name: str) -> bool:
    return _reads(_expressions(job.text), "vars", name)
