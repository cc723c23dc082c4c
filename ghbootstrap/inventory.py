"""What `scan` looks for in a repository, and what it concludes. Pure: no I/O.

- AWS key secrets: the `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` pair, also with a
  prefix or suffix (`PROD_AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY_CI`), and any secret a
  workflow passes as an AWS key (configure-aws-credentials' `aws-access-key-id` or
  `aws-secret-access-key`, or an `env:` entry named like one).
- Workflow files, read as text (no YAML parser ships with the tool): which secrets they
  read as AWS keys, and whether they assume a role (`role-to-assume`, or `id-token:
  write` with configure-aws-credentials or assume-role-with-web-identity).
- The verdict: a ghbootstrap key setup (matched by its records only), keys of another
  tool, a role, nothing, or unreadable (the token may not read what the verdict needs).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ghbootstrap.footprint import (
    SECRET_ID,
    SECRET_KEY,
    UNKNOWN,
    KeyRecord,
    KeysGiven,
    secrets_environment,
)

OIDC, KEYS, KEYS_OTHER, NONE, UNREADABLE = "oidc", "keys", "keys-other", "none", "unreadable"
VERDICTS = (KEYS, KEYS_OTHER, OIDC, NONE, UNREADABLE)
LABELS = {
    KEYS: "keys (ghbootstrap)",
    KEYS_OTHER: "keys (other tool)",
    OIDC: "oidc",
    NONE: "none",
    UNREADABLE: "unreadable",
}

REPOSITORY, ORGANIZATION = "repository", "organization"

_KEY_NAME = re.compile(r"(?:^|_)AWS_(?:ACCESS_KEY_ID|SECRET_ACCESS_KEY)(?:_|$)", re.IGNORECASE)
_KEY_INPUTS = frozenset({"aws-access-key-id", "aws-secret-access-key"})
_REFERENCE = re.compile(
    r"""secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*'([^']+)'\s*\]|\[\s*"([^"]+)"\s*\])"""
)
_PAIR = re.compile(r"""['"]?([A-Za-z0-9_.-]+)['"]?\s*:\s*['"]?\$\{\{(.*?)\}\}""")
_ROLE_INPUT = re.compile(r"""^\s*(?:-\s+)?['"]?role-to-assume['"]?\s*:""", re.MULTILINE)
_ID_TOKEN = re.compile(r"""\bid-token['"]?\s*:\s*['"]?write\b""")
_AWS_WEB_IDENTITY = ("configure-aws-credentials", "assume-role-with-web-identity")


def is_key_name(name: str) -> bool:
    """A secret (or variable) named like an AWS access key id or secret access key."""
    return _KEY_NAME.search(name) is not None


def environment_scope(name: str) -> str:
    return f"environment {name}"


@dataclass(frozen=True)
class FoundSecret:
    """A secret's name where GitHub holds it (`repository`, `environment NAME`,
    `organization`); GitHub never returns a value."""

    name: str
    scope: str
    updated_at: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} ({self.scope})"

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "scope": self.scope}


@dataclass(frozen=True)
class WorkflowUse:
    """What one workflow file reads: AWS key secrets by name, and whether it assumes a role."""

    path: str
    key_secrets: frozenset[str] = frozenset()  # upper-cased, as GitHub lists secrets
    assumes_role: bool = False


def _code(text: str) -> str:
    """The text without YAML comments (a `#` at a line's start or after a blank)."""
    return "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in text.splitlines())


def _references(expression: str) -> set[str]:
    """The secret names an expression reads, upper-cased: GitHub's secret names do not
    depend on case (`secrets.deploy_id` reads DEPLOY_ID), and it lists them upper-cased."""
    return {next(g for g in m.groups() if g).upper() for m in _REFERENCE.finditer(expression)}


def reads_as_key(name: str, read: frozenset[str] | set[str]) -> bool:
    """A secret named like an AWS key, or one a workflow reads as one (`read`: the names
    `WorkflowUse.key_secrets` holds)."""
    return is_key_name(name) or name.upper() in read


def read_workflow(path: str, text: str) -> WorkflowUse:
    code = _code(text)
    keys = {name for name in _references(code) if is_key_name(name)}
    for match in _PAIR.finditer(code):
        key, expression = match.group(1), match.group(2)
        if key.lower() in _KEY_INPUTS or is_key_name(key):
            keys |= _references(expression)
    role = _ROLE_INPUT.search(code) is not None or (
        _ID_TOKEN.search(code) is not None and any(w in code for w in _AWS_WEB_IDENTITY)
    )
    return WorkflowUse(path, frozenset(keys), role)


# -- the AWS side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessKeyFacts:
    """An IAM access key: its id may be shown (as `status` shows it), never its secret."""

    user: str
    id: str
    status: str
    age_days: int
    last_used: datetime | None
    repository: str = ""  # the OWNER/REPO a ghbootstrap record names ('' for any other)

    def text(self) -> str:
        used = self.last_used.date().isoformat() if self.last_used else "never"
        return (
            f"{self.id} of IAM user {self.user} "
            f"({self.status}, {self.age_days} days old, last used {used})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "status": self.status,
            "age_days": self.age_days,
            "last_used": self.last_used.isoformat() if self.last_used else None,
        }


@dataclass(frozen=True)
class KeySetupFacts:
    """An access-key setup ghbootstrap made: the IAM user whose tags name the repository
    and hold a key record. Nothing else is ever matched to a repository."""

    repository: str  # lower-case OWNER/REPO, as the tag holds it
    user: str
    record: KeyRecord
    keys: tuple[AccessKeyFacts, ...]
    given: KeysGiven | None = None  # the region and names `keys` was given (its record)


@dataclass(frozen=True)
class Migration:
    """What moving a ghbootstrap key setup to OIDC takes: the single command, and where
    its secrets live (an environment its record names only by a hash must be given)."""

    command: str
    region: str
    region_recorded: bool  # False: a user made before the record; the scan's region
    user: str
    environment: str | None  # where its secrets live (None: the repository)
    environment_given: bool  # the record holds a hash: migrate needs the name


@dataclass(frozen=True)
class RepoFacts:
    """What GitHub showed of one repository."""

    name: str
    secrets: tuple[FoundSecret, ...] = ()
    environments: tuple[str, ...] = ()
    workflows: tuple[WorkflowUse, ...] = ()
    missing: tuple[str, ...] = ()  # what the token may not read, and the permission it needs
    error: str = ""  # a failure other than a permission: the repository was not read


@dataclass(frozen=True)
class Judged:
    verdict: str
    secrets: tuple[FoundSecret, ...]  # the AWS key secrets found
    workflows: tuple[str, ...]  # the files reading AWS key secrets
    reason: str
    other_secrets: tuple[FoundSecret, ...] = ()  # beside a ghbootstrap setup: not its own


def key_secrets(facts: RepoFacts) -> tuple[FoundSecret, ...]:
    read = {name for use in facts.workflows for name in use.key_secrets}
    return tuple(s for s in facts.secrets if reads_as_key(s.name, read))


def secrets_scope(setup: KeySetupFacts, environments: Sequence[str]) -> str | None:
    """Where the record says its secrets live, as a FoundSecret scope (None: unknown)."""
    environment = secrets_environment(setup.record, environments)
    if environment is UNKNOWN:
        return None
    return REPOSITORY if environment is None else environment_scope(environment)


def written_by(setup: KeySetupFacts, secret: FoundSecret, scope: str | None) -> bool:
    """GitHub still shows the `updated_at` it reported right after ghbootstrap's write."""
    record = setup.record
    written = {SECRET_ID: record.id_written, SECRET_KEY: record.secret_written}
    return (
        bool(record.held)
        and secret.scope == scope
        and secret.name in written
        and secret.updated_at == written[secret.name]
    )


def judge(
    facts: RepoFacts,
    setup: KeySetupFacts | None,
    migration: Migration | None,
    also: Sequence[KeySetupFacts] = (),
) -> Judged:
    """`setup`: the repository's ghbootstrap key setup (its `migration`); `also`: any
    other setup ghbootstrap made for it (another user, another scope)."""
    found = key_secrets(facts)
    readers = tuple(sorted(u.path for u in facts.workflows if u.key_secrets))
    role = sorted(u.path for u in facts.workflows if u.assumes_role)
    unread = "; ".join(facts.missing) if not facts.error else facts.error
    if setup is not None:
        made = [setup, *also]
        scopes = [(s, secrets_scope(s, facts.environments)) for s in made]
        others = [f for f in found if not any(written_by(s, f, at) for s, at in scopes)]
        reason = f"made by ghbootstrap (IAM user {setup.user})"
        if migration is not None:
            reason += f": move it to OIDC with `{migration.command}`"
        else:
            reason += (
                ": its record names the environment holding its secrets only by a hash, "
                "and no environment the scan could list matches it (migrate needs its name)"
            )
        for extra in also:
            reason += (
                f"; also made by ghbootstrap (IAM user {extra.user}): scan again once that "
                "one is moved"
            )
        if others:
            reason += "; also AWS key secrets ghbootstrap did not write: " + _names(others)
        if unread:
            reason += f"; not read: {unread}"
        return Judged(KEYS, found, readers, reason, tuple(others))
    if found:
        where = ", ".join(readers) if readers else "no workflow on the default branch"
        reason = f"AWS key secrets {_names(found)}, read by {where}"
        if unread:
            reason += f"; not read: {unread}"
        return Judged(KEYS_OTHER, found, readers, reason)
    if unread:
        return Judged(UNREADABLE, found, readers, unread)
    if role:
        return Judged(OIDC, found, readers, "assumes a role: " + ", ".join(role))
    reason = ""
    if readers:
        reason = f"{', '.join(readers)} read AWS key secrets that are not set"
    return Judged(NONE, found, readers, reason)


def _names(secrets: Sequence[FoundSecret]) -> str:
    return ", ".join(s.label for s in secrets)
