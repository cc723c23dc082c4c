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
from typing import Any

from ghbootstrap.documents import statements

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


def admitted_subjects(trust: Mapping[str, Any], issuer_host: str) -> list[str]:
    """The `sub` values and patterns the Allow statements name, as written."""
    key = f"{issuer_host}:sub".lower()
    found: list[str] = []
    for statement in statements(trust):
        if statement.get("Effect") != "Allow":
            continue
        for operator, block in (statement.get("Condition") or {}).items():
            _, base, _ = split_operator(operator)
            if base not in ("StringEquals", "StringLike"):
                continue
            for name, values in block.items():
                if name.lower() == key:
                    found += [_display(str(v)) for v in _as_list(values)]
    return sorted(dict.fromkeys(found))


def _display(value: str) -> str:
    return value.replace("${$}", "$")
