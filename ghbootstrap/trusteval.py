"""Evaluate an IAM trust policy against a GitHub OIDC token, the way AWS STS would.

moto never evaluates trust policies, so this is how ghbootstrap (and its tests) know
which GitHub contexts a role admits. It implements the part of IAM's policy language a
web-identity trust uses: Allow/Deny, Principal/Action, condition operators on strings
(with `IfExists`, `ForAllValues:` and `ForAnyValue:`), `Null`, policy-variable escapes,
and case-insensitive condition keys.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ghbootstrap.documents import statements
from ghbootstrap.subjects import WILDCARDS, Subjects

ASSUME_WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
_ESCAPES = {"${$}": "$", "${*}": "*", "${?}": "?"}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _unescape(value: str) -> str:
    for escaped, literal in _ESCAPES.items():
        value = value.replace(escaped, literal)
    return value


def like_regex(pattern: str) -> re.Pattern[str]:
    """StringLike: `*` is any run of characters (':' and '/' included), `?` is one."""
    out = []
    for part in re.split(r"(\$\{[$*?]\}|\*|\?)", pattern):
        if part in _ESCAPES:
            out.append(re.escape(_ESCAPES[part]))
        elif part == "*":
            out.append(".*")
        elif part == "?":
            out.append(".")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out), re.DOTALL)


def _matches(base: str, policy_value: str, actual: str) -> bool:
    if base in ("StringEquals", "StringNotEquals"):
        return _unescape(policy_value) == actual
    if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return _unescape(policy_value).lower() == actual.lower()
    if base in ("StringLike", "StringNotLike"):
        return like_regex(policy_value).fullmatch(actual) is not None
    raise ValueError(base)


_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike"}
_STRING_OPERATORS = {
    "StringEquals",
    "StringEqualsIgnoreCase",
    "StringLike",
    *_NEGATED,
}


def split_operator(operator: str) -> tuple[str, str, bool]:
    """`ForAllValues:StringLikeIfExists` -> ("ForAllValues", "StringLike", True)."""
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    return qualifier, base.removesuffix("IfExists"), if_exists


def _value_holds(base: str, wanted: list[str], actual: str) -> bool:
    hit = any(_matches(base, w, actual) for w in wanted)
    return not hit if base in _NEGATED else hit


def _condition_holds(
    operator: str, key_values: Mapping[str, Any], context: Mapping[str, list[str]]
) -> bool:
    qualifier, base, if_exists = split_operator(operator)
    for key, policy_values in key_values.items():
        actual = context.get(key.lower())
        wanted = [str(v) for v in _as_list(policy_values)]
        if base == "Null":
            if (actual is None) != (wanted[0].lower() == "true"):
                return False
            continue
        if base not in _STRING_OPERATORS:
            return False  # an operator we do not model never grants anything
        if actual is None:
            holds = if_exists or base in _NEGATED or qualifier == "ForAllValues"
        else:
            results = [_value_holds(base, wanted, v) for v in actual]
            holds = all(results) if qualifier == "ForAllValues" else any(results)
        if not holds:
            return False
    return True


def _principal_matches(statement: Mapping[str, Any], provider_arn: str) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    federated = _as_list(principal.get("Federated", []))
    return provider_arn in federated or "*" in _as_list(principal.get("AWS", []))


def _action_matches(statement: Mapping[str, Any]) -> bool:
    if "Action" not in statement:
        return False
    return any(
        fnmatch.fnmatchcase(ASSUME_WEB_IDENTITY.lower(), str(a).lower())
        for a in _as_list(statement["Action"])
    )


def _context(issuer_host: str, claims: Mapping[str, str]) -> dict[str, list[str]]:
    return {f"{issuer_host}:{name}".lower(): [value] for name, value in claims.items()}


def statement_applies(
    statement: Mapping[str, Any], provider_arn: str, issuer_host: str, claims: Mapping[str, str]
) -> bool:
    if not (_principal_matches(statement, provider_arn) and _action_matches(statement)):
        return False
    context = _context(issuer_host, claims)
    conditions = statement.get("Condition", {}) or {}
    return all(_condition_holds(op, kv, context) for op, kv in conditions.items())


def may_assume(
    trust: Mapping[str, Any], provider_arn: str, issuer_host: str, claims: Mapping[str, str]
) -> bool:
    """Would STS let a token with these claims (`sub`, `aud`, ...) assume the role?"""
    allowed = False
    for statement in statements(trust):
        if not statement_applies(statement, provider_arn, issuer_host, claims):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def trust_subjects(trust: Mapping[str, Any], issuer_host: str) -> Subjects:
    """The `sub` values (StringEquals) and patterns (StringLike) the Allow statements
    name, as written."""
    key = f"{issuer_host}:sub".lower()
    found: dict[str, list[str]] = {"StringEquals": [], "StringLike": []}
    for statement in statements(trust):
        if statement.get("Effect") != "Allow":
            continue
        for operator, block in (statement.get("Condition") or {}).items():
            _, base, _ = split_operator(operator)
            if base not in found:
                continue
            for name, values in block.items():
                if name.lower() == key:
                    found[base] += [_display(str(v)) for v in _as_list(values)]
    return Subjects(
        tuple(dict.fromkeys(found["StringEquals"])), tuple(dict.fromkeys(found["StringLike"]))
    )


def admitted_subjects(trust: Mapping[str, Any], issuer_host: str) -> list[str]:
    """The `sub` values and patterns the Allow statements name, as written."""
    return sorted(set(trust_subjects(trust, issuer_host).all))


def github_hosts(trust: Mapping[str, Any]) -> list[str]:
    """The issuer hosts of the GitHub OIDC providers a trust names."""
    return sorted({github_issuer(arn) or "" for arn in github_providers(trust)})


def github_subjects(trust: Mapping[str, Any]) -> Subjects:
    """`trust_subjects` for every GitHub issuer the trust names."""
    each = [trust_subjects(trust, host) for host in github_hosts(trust)]
    return Subjects(
        tuple(s for found in each for s in found.exact),
        tuple(s for found in each for s in found.patterns),
    )


def _display(value: str) -> str:
    return value.replace("${$}", "$")


# -- audit: which trusts let the wrong repositories in -----------------------------------------

CRITICAL, HIGH, MEDIUM = "critical", "high", "medium"
# github.com (and its enterprise-slug issuers), GHE.com tenants, and GHES servers.
_GITHUB_ISSUER = re.compile(
    r"^(token\.actions\.githubusercontent\.com(/[^/]+)?"
    r"|token\.actions\.[a-z0-9-]+\.ghe\.com"
    r"|[^/]+/_services/token)$",
    re.IGNORECASE,
)
_PROBE_SUB = "repo:ghbootstrap-audit-probe/any-repository:ref:refs/heads/main"
_ONE_REPO_FIX = (
    "require a StringEquals condition on {host}:sub naming one repository's contexts, "
    "e.g. repo:OWNER/REPO:ref:refs/heads/main (`ghbootstrap oidc OWNER/REPO` writes one)"
)


@dataclass(frozen=True)
class TrustFinding:
    severity: str
    problem: str
    fix: str


def github_issuer(principal_arn: str) -> str | None:
    """The issuer host of a GitHub OIDC provider ARN, or None for any other principal."""
    _, _, path = principal_arn.partition(":oidc-provider/")
    return path if path and _GITHUB_ISSUER.match(path) else None


# Claims whose values GitHub sets from the repository itself: no workflow, environment or
# branch name can put text there. Any other claim (environment, workflow, ref, context...)
# is chosen by whoever runs the workflow.
_REPOSITORY_CLAIMS = {"repo", "repository", "repository_id"}
_OWNER_CLAIMS = {"repository_owner", "repository_owner_id"}


def classify_subject(value: str, *, wildcards: bool) -> str:
    """What a `sub` value or pattern can match: `repository` (one), `organisation` (other
    repositories of one owner), `owner-wildcard`, `any`, or `no-repository`: it names no
    repository, and GitHub issues such a sub (`environment:prod`, `workflow:Deploy`) to
    any repository whose owner picks a custom subject template without one."""

    def is_wild(text: str) -> bool:
        return wildcards and bool(WILDCARDS & set(text))

    if value.startswith("repo:"):
        repo_part = value[len("repo:") :].split(":", 1)[0]
        owner, _, name = repo_part.partition("/")
        if not owner or (is_wild(owner) and owner.startswith(("*", "?"))):
            return "any"
        if is_wild(owner):
            return "owner-wildcard"
        if not name or is_wild(name):
            return "organisation"
        return "repository"
    # Read the leading claims GitHub fills from the repository; stop at the first other.
    pinned = ""
    rest = value
    while True:
        key, found, tail = rest.partition(":")
        if not found or key not in _REPOSITORY_CLAIMS | _OWNER_CLAIMS:
            break
        claim, _, rest = tail.partition(":")
        if not claim or is_wild(claim):
            return "organisation" if pinned else "any"
        if key in _REPOSITORY_CLAIMS:
            return "repository"
        pinned = "organisation"
    if pinned:
        return pinned
    if is_wild(value[:1]):
        return "any"
    return "no-repository"


def _claim_conditions(statement: Mapping[str, Any], host: str, claim: str) -> list[tuple[str, Any]]:
    key = f"{host}:{claim}".lower()
    return [
        (operator, values)
        for operator, block in (statement.get("Condition") or {}).items()
        for name, values in block.items()
        if name.lower() == key
    ]


_SUBJECT_FINDINGS = {
    "any": (CRITICAL, "its sub pattern {value} matches any repository on GitHub"),
    "owner-wildcard": (
        CRITICAL,
        "its sub pattern {value} has a wildcard in the owner, so look-alike owners match",
    ),
    "organisation": (HIGH, "its sub {value} admits other repositories of the same owner"),
    "no-repository": (
        CRITICAL,
        "its sub {value} names no repository: GitHub issues that sub to any repository "
        "whose owner sets a custom OIDC subject template without one, so any repository "
        "on GitHub can assume the role",
    ),
}


def _statement_findings(
    statement: Mapping[str, Any], provider_arn: str, host: str
) -> list[TrustFinding]:
    fix = _ONE_REPO_FIX.format(host=host)
    if not statement.get("Condition"):
        return [TrustFinding(CRITICAL, f"it trusts {host} with no conditions: any repository", fix)]
    found: list[TrustFinding] = []
    subs = _claim_conditions(statement, host, "sub")
    auds = _claim_conditions(statement, host, "aud")
    for operator, _ in subs + auds:
        qualifier = split_operator(operator)[0]
        if qualifier:
            found.append(
                TrustFinding(
                    HIGH,
                    f"it uses {operator} on a single-valued claim; ForAllValues holds when "
                    "the claim is missing",
                    f"use StringEquals / StringLike without {qualifier}:",
                )
            )
    if not auds:
        found.append(
            TrustFinding(
                MEDIUM,
                "it has no aud condition, so tokens minted for any audience work",
                f"require StringEquals {host}:aud = sts.amazonaws.com",
            )
        )
    if not subs:
        found.append(TrustFinding(CRITICAL, "it has no sub condition: any repository", fix))
        return found
    for operator, values in subs:
        base = split_operator(operator)[1]
        if base not in ("StringEquals", "StringLike", "StringEqualsIgnoreCase"):
            continue
        for value in _as_list(values):
            kind = classify_subject(_unescape(str(value)), wildcards=base == "StringLike")
            if kind in _SUBJECT_FINDINGS:
                severity, problem = _SUBJECT_FINDINGS[kind]
                found.append(TrustFinding(severity, problem.format(value=value), fix))
    probe = {"sub": _PROBE_SUB, "aud": "sts.amazonaws.com"}
    if not any(f.severity == CRITICAL for f in found) and statement_applies(
        statement, provider_arn, host, probe
    ):
        found.append(TrustFinding(CRITICAL, "its sub condition lets any repository in", fix))
    return found


def audit_trust(trust: Mapping[str, Any]) -> list[TrustFinding]:
    """Every way a trust policy lets the wrong GitHub repositories assume the role."""
    found: list[TrustFinding] = []
    for statement in statements(trust):
        if statement.get("Effect") != "Allow" or not _action_matches(statement):
            continue
        principal = statement.get("Principal")
        federated = (
            _as_list(principal.get("Federated", [])) if isinstance(principal, Mapping) else []
        )
        for arn in federated:
            host = github_issuer(str(arn))
            if host is not None:
                found += _statement_findings(statement, str(arn), host)
    return found


def github_providers(trust: Mapping[str, Any]) -> set[str]:
    """The ARNs of the GitHub OIDC providers a trust policy names as principals."""
    found = set()
    for statement in statements(trust):
        principal = statement.get("Principal")
        if isinstance(principal, Mapping):
            found |= {str(a) for a in _as_list(principal.get("Federated", []))}
    return {arn for arn in found if github_issuer(arn)}
