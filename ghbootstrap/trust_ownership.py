"""Whether the trust a role holds is the one ghbootstrap wrote, and if not, what differs.

A trust is shared ground, like workflow files and variables: ghbootstrap rewrites only a
trust it can show it wrote.
- Every release records the fingerprint of the trust it last applied (`ghbootstrap:trust`,
  footprint.py); a trust whose canonical fingerprint equals it is ours.
- A role without that fingerprint is recognised by what ghbootstrap renders for the setup
  the role records (its `ghbootstrap:scopes` record; a role 0.1.0 made has none, and its
  scopes are read back from its subjects), as this release renders it (pinned to the
  repository's id, both subject forms until the switch) or as 0.1.0 and 0.2.0 rendered it:
  the repository's one subject form, no pin (the same `trust_policy` with neither: compare
  `git show a315f2f:ghbootstrap/documents.py`), so no frozen copy of their rendering is kept.
Any other trust was changed by hand: `oidc` replaces it only with --force, `explain` prints
no command that would drop the edit, and `status` reports it with no repair.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ghbootstrap.defaults import GITHUB_ISSUER
from ghbootstrap.documents import (
    Document,
    canonical,
    fingerprint,
    oidc_provider_arn,
    same_document,
    statements,
    trust_policy,
)
from ghbootstrap.errors import TrustChangedByHand
from ghbootstrap.footprint import TAG_TRUST, OidcGiven
from ghbootstrap.identity import REPOSITORY_ID, trust_for_prefix
from ghbootstrap.subjects import (
    GitHubRepo,
    Scopes,
    build_subjects,
    pins_repository,
    read_subjects,
    split_subject,
)
from ghbootstrap.trusteval import claim_values, github_hosts, github_subjects, split_operator

CHANGED_BY_HAND = "changed by hand"


@dataclass(frozen=True)
class RecordedSetup:
    """What a role says it was set up with: enough to render its trust again."""

    scopes: Scopes
    issuer: str
    job_workflows: tuple[str, ...] = ()


def recorded_setup(
    trust: Mapping[str, Any], tags: Mapping[str, str], role: str
) -> RecordedSetup | None:
    """The role's record; for a role 0.1.0 made (no record), the scopes its trust's
    subjects read back as. None when neither says."""
    record = OidcGiven.from_tags(tags, role)
    if record is not None:
        return RecordedSetup(record.scopes, record.issuer, record.job_workflows)
    hosts = github_hosts(trust)
    admitted = read_subjects(github_subjects(trust))
    if len(hosts) != 1 or admitted.unmapped:
        return None
    return RecordedSetup(admitted.scopes(), f"https://{hosts[0]}")


@dataclass(frozen=True)
class Where:
    """The repository, as GitHub names it now, and the account a trust is judged in."""

    repo: GitHubRepo
    prefix: str  # of the repository's `sub` claims (subjects.subject_prefix)
    partition: str
    account: str

    def rendering(self, setup: RecordedSetup) -> Document:
        """The trust ghbootstrap writes for that setup, for the repository as it is now."""
        arn = oidc_provider_arn(self.partition, self.account, setup.issuer)
        return trust_for_prefix(
            arn, setup.issuer, self.repo, self.prefix, setup.scopes, setup.job_workflows
        ).document

    def earlier_rendering(self, setup: RecordedSetup) -> Document:
        """What 0.1.0 and 0.2.0 wrote for it: the repository's one subject form, no pin."""
        arn = oidc_provider_arn(self.partition, self.account, setup.issuer)
        subjects = build_subjects(self.prefix, setup.scopes, self.repo.default_branch)
        return trust_policy(arn, setup.issuer, subjects)

    def renderings(self, setup: RecordedSetup | None) -> list[Document]:
        """Every trust a release of ghbootstrap wrote for that setup."""
        return [] if setup is None else [self.rendering(setup), self.earlier_rendering(setup)]


def hand_edits(
    trust: Mapping[str, Any], tags: Mapping[str, str], role: str, where: Where
) -> list[str]:
    """Nothing when ghbootstrap wrote the role's trust; else what a hand changed, in words
    (compared with ghbootstrap's rendering for the setup the role records)."""
    setup = recorded_setup(trust, tags, role)
    if written_by_ghbootstrap(trust, tags, lambda: where.renderings(setup)):
        return []
    given = setup or RecordedSetup(Scopes(), GITHUB_ISSUER)
    pinned = any(claim_values(trust, host, REPOSITORY_ID) for host in github_hosts(trust))
    # compared with the release's rendering it most likely started from
    reference = where.rendering(given) if pinned else where.earlier_rendering(given)
    return differences(trust, reference, where.repo, where.prefix)


def changed_by_hand(role: str, parts: Sequence[str], to_add: Sequence[str]) -> TrustChangedByHand:
    """`oidc`'s refusal: what differs, and the two choices."""
    add = f" (add {', '.join(to_add)})" if to_add else ""
    return TrustChangedByHand(
        f"the trust policy of IAM role {role} was {CHANGED_BY_HAND}: {'; '.join(parts)}",
        "pass --force to replace it with the trust this command writes (dropping those "
        f"changes), or change the trust by hand{add}",
    )


def written_by_ghbootstrap(
    trust: Mapping[str, Any],
    tags: Mapping[str, str],
    rendered: Callable[[], Sequence[Document]],
) -> bool:
    """Its recorded fingerprint, or (none recorded) one of the trusts ghbootstrap's
    releases render for the setup the role records. `rendered` is called only when no
    fingerprint is recorded."""
    recorded = tags.get(TAG_TRUST)
    if recorded:
        return recorded == fingerprint(trust)
    return any(same_document(trust, wanted) for wanted in rendered())


# -- what a hand edit changed, in words ----------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _statement_key(statement: Mapping[str, Any]) -> str:
    return canonical({"Statement": [statement]})


def _principals(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if not isinstance(principal, Mapping):
        return [str(principal)]
    return [f"{kind} {value}" for kind, values in principal.items() for value in _as_list(values)]


def _conditions(statement: Mapping[str, Any]) -> Iterable[tuple[str, str, list[str]]]:
    """(operator, key as written, values), in a stable order (IAM keeps none)."""
    found = [
        (operator, key, [str(v) for v in _as_list(values)])
        for operator, block in (statement.get("Condition") or {}).items()
        for key, values in (block or {}).items()
    ]
    return sorted(found, key=lambda c: (c[0], c[1].lower()))


def _is_subject(operator: str, key: str) -> bool:
    qualifier, base, if_exists = split_operator(operator)
    plain = not qualifier and not if_exists and base in ("StringEquals", "StringLike")
    return plain and key.lower().endswith(":sub")


def _shown(values: Sequence[str]) -> str:
    return ", ".join(v.replace("${$}", "$") for v in values)


@dataclass
class _Seen:
    parts: list[str]
    subjects: list[str]


def _statement_differences(
    statement: Mapping[str, Any], label: str, written: Sequence[Mapping[str, Any]], seen: _Seen
) -> None:
    principals = {p for s in written for p in _principals(s)}
    conditions: dict[tuple[str, str], set[str]] = {}
    for s in written:
        for operator, key, values in _conditions(s):
            conditions.setdefault((operator, key.lower()), set()).update(values)
    effect = statement.get("Effect")
    if effect != "Allow":
        seen.parts.append(f"a {effect} statement ({label})")
        return
    other = [p for p in _principals(statement) if p not in principals]
    if other:
        seen.parts.append(f"statement {label} admits another principal ({', '.join(other)})")
    added, changed = [], []
    for operator, key, values in _conditions(statement):
        if _is_subject(operator, key):
            seen.subjects += values
        elif (operator, key.lower()) not in conditions:
            added.append(f"{operator} {key}")
        elif set(values) != conditions[(operator, key.lower())]:
            changed.append(f"{key} = {_shown(values)}")
    if added:
        seen.parts.append(f"statement {label} has conditions of its own ({', '.join(added)})")
    if changed:
        seen.parts.append(f"statement {label} sets {', '.join(changed)}")
    if _actions(statement) not in [_actions(s) for s in written]:
        seen.parts.append(f"statement {label} allows other actions")


def _actions(statement: Mapping[str, Any]) -> list[str]:
    return sorted(str(a) for a in _as_list(statement.get("Action", [])))


def differences(
    found: Mapping[str, Any], written: Document, repo: GitHubRepo, prefix: str
) -> list[str]:
    """What `found` holds that `written` (ghbootstrap's rendering for the recorded setup)
    does not, and what it lacks: statements, conditions, principals, subjects of other
    repositories, of this one in another form, or of scopes the setup does not record."""
    ours = list(statements(written))
    keys = {_statement_key(s) for s in ours}
    seen = _Seen([], [])
    for index, statement in enumerate(statements(found)):
        if _statement_key(statement) in keys:
            seen.subjects += [
                v
                for op, key, values in _conditions(statement)
                if _is_subject(op, key)
                for v in values
            ]
            continue
        label = str(statement.get("Sid") or f"number {index + 1}")
        _statement_differences(statement, label, ours, seen)
    wanted = [
        v
        for s in ours
        for op, key, values in _conditions(s)
        if _is_subject(op, key)
        for v in values
    ]
    extra = [v for v in dict.fromkeys(seen.subjects) if v not in wanted]
    folded = replace(repo, owner=repo.owner.lower(), name=repo.name.lower())
    kinds: dict[str, list[str]] = {}
    for value in extra:
        found_prefix = split_subject(value.replace("${$}", "$"))[0]
        if found_prefix == prefix:
            kind = "subjects the setup does not record"
        elif pins_repository(found_prefix.lower(), folded):
            kind = "subjects of this repository in a form ghbootstrap does not write"
        else:
            kind = "subjects of other repositories"
        kinds.setdefault(kind, []).append(value)
    parts = seen.parts + [f"{kind} ({_shown(values)})" for kind, values in kinds.items()]
    missing = [v for v in wanted if v not in seen.subjects]
    if missing:
        parts.append(f"no longer the subjects the setup records ({_shown(missing)})")
    return parts or ["its statements differ from the ones ghbootstrap writes"]
