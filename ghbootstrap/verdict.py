"""Why a trust admits a job's claims or not, the way STS would decide, in the order it
would refuse: the issuer's provider, its audiences, an explicit Deny, then the trust's
conditions. A refusal names the nearest admitted subject and how the job's differs, and
what fixes it: a scope to add, the role rewritten as it is, or a change to the workflow."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ghbootstrap.documents import STS_AUDIENCE, issuer_host, statements
from ghbootstrap.explain import admits
from ghbootstrap.subjects import (
    WILDCARDS,
    Scopes,
    context_scope,
    decode_environment,
    encode_environment,
    split_subject,
)
from ghbootstrap.trusteval import (
    admitted_subjects,
    github_issuer,
    github_providers,
    may_assume,
    split_operator,
    statement_applies,
)

# -- why not: the nearest admitted subject, and how the job's differs --------------------------


@dataclass(frozen=True)
class Miss:
    """Why a `sub` is not admitted. `scope`: what to add to the role (None: rewrite it as
    it is, from the repository's current names). `workflow`: a change on the job's side.
    `rewrite` False: no `oidc` run admits it (no scope writes the job's context)."""

    nearest: str
    reason: str
    scope: Scopes | None = None
    workflow: str | None = None
    rewrite: bool = True


def _prefix_difference(token: str, trust: str) -> str:
    if token.lower() == trust.lower():
        return (
            f"the repository is named {token} now, and the trust names {trust}: "
            "GitHub's subjects are case-sensitive (an owner or repository renamed in case)"
        )
    plain = re.sub(r"@\d+", "", token)
    if "@" in token and plain.lower() == trust.lower():
        return (
            f"the repository uses immutable subjects ({token}), and the trust names the "
            f"mutable form {trust}"
        )
    if "@" in trust and re.sub(r"@\d+", "", trust).lower() == token.lower():
        return (
            f"the trust names the immutable form {trust}, and the repository's subjects "
            f"are in the mutable form {token}"
        )
    return (
        f"the token names {token}, and the trust {trust}: the repository was renamed or "
        "moved, or its OIDC subject template changed"
    )


def _context_difference(context: str, admitted: Sequence[str]) -> tuple[str, str, Scopes | None]:
    """(nearest, reason, workflow change or None). Admitted are contexts, same prefix."""
    kinds = {c.split(":", 1)[0] if c != "pull_request" else c for c in admitted}
    environments = [c.removeprefix("environment:") for c in admitted if c.startswith("env")]
    if context.startswith("environment:"):
        name = context.removeprefix("environment:")
        same = [c for c in environments if encode_environment(c) == name]
        if same:
            return (
                f"environment:{same[0]}",
                f"GitHub writes ':' in environment names as %3A, so the job's sub ends in "
                f"{context}, and the trust names environment:{same[0]}",
                None,
            )
        nearest = _closest(context, admitted)
        if "environment" not in kinds:
            return (
                nearest,
                f"the job runs in environment {decode_environment(name)}, so its sub names the "
                f"environment ({context}), not its branch or tag: an environment takes "
                "precedence, and the trust admits no environment",
                None,
            )
        return nearest, f"the trust does not admit environment {decode_environment(name)}", None
    if environments and kinds == {"environment"}:
        names = ", ".join(decode_environment(e) for e in environments)
        return (
            _closest(context, admitted),
            f"the job runs in no environment, so its sub names {context}; the trust "
            f"admits environments ({names}) and not this",
            Scopes(environments=(environments[0],)),
        )
    if context == "pull_request":
        return (
            _closest(context, admitted),
            "a pull request job's sub ends in pull_request, not in its branch, and the "
            "trust admits no pull requests",
            None,
        )
    kind, _, name = context.removeprefix("ref:refs/").partition("/")
    other = "tags" if kind == "heads" else "heads"
    if f"ref:refs/{other}/{name}" in admitted or any(
        admits(c, f"ref:refs/{other}/{name}") for c in admitted if WILDCARDS & set(c)
    ):
        what, not_what = ("branch", "tag") if kind == "heads" else ("tag", "branch")
        return (
            f"ref:refs/{other}/{name}",
            f"the job runs for {what} {name} ({context}); the trust admits {not_what} "
            f"{name}, not {what} {name}",
            None,
        )
    what = "branch" if kind == "heads" else "tag"
    return _closest(context, admitted), f"the trust admits no {what} {name}", None


def _closest(value: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0)
    return close[0] if close else ""


def why_not(sub: str, admitted: Sequence[str]) -> Miss:
    """The nearest admitted subject, and how `sub` differs from it."""
    prefix, context = split_subject(sub)
    scope = context_scope(context)
    if scope is None:
        return Miss(
            _closest(sub, admitted),
            f"no `ghbootstrap oidc` scope admits {sub} (a scope names a branch, tag, "
            "environment or pull requests): change the trust by hand if this job may assume "
            "the role",
            rewrite=False,
        )
    if not admitted:
        return Miss("", "the trust admits no GitHub subject at all", scope)
    split = [split_subject(a) for a in admitted]
    same_context = [
        p for p, c in split if c == context or (WILDCARDS & set(c) and admits(c, context))
    ]
    if same_context and prefix not in same_context:
        nearest_prefix = _closest(prefix, same_context)
        return Miss(f"{nearest_prefix}:{context}", _prefix_difference(prefix, nearest_prefix), None)
    same_prefix = [c for p, c in split if p == prefix]
    if not same_prefix:
        nearest = _closest(sub, admitted)
        return Miss(
            nearest,
            f"{_prefix_difference(prefix, split_subject(nearest)[0])}; and the trust admits "
            f"no {context} under any name",
            scope,
        )
    nearest, reason, workflow_scope = _context_difference(context, same_prefix)
    nearest_sub = f"{prefix}:{nearest}" if nearest else ""
    if workflow_scope is not None:
        env = decode_environment(workflow_scope.environments[0])
        return Miss(
            nearest_sub,
            reason,
            workflow=f"run the job in environment {env}: add `environment: "
            f"{json.dumps(env)}` to the job in the workflow",
        )
    return Miss(nearest_sub, reason, scope)


# -- the verdict ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    """The IAM OIDC provider for the token's issuer, as the account has it."""

    arn: str
    exists: bool
    audiences: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    admitted: bool
    reason: str
    scope: Scopes | None = None  # the scope to add; None with `rewrite`: rebuild as it is
    rewrite: bool = False  # an `oidc` run fixes it
    workflow: str | None = None


def _audience_fix(aud: str, wanted: str) -> str:
    return (
        f"the job asks for a token with audience '{aud}': ask for {wanted} instead "
        "(aws-actions/configure-aws-credentials' default: remove its `audience:` input)"
    )


def _trusted_audiences(trust: Mapping[str, Any], host: str) -> list[str]:
    key = f"{host}:aud".lower()
    found: list[str] = []
    for statement in statements(trust):
        if statement.get("Effect") != "Allow":
            continue
        for operator, block in (statement.get("Condition") or {}).items():
            if split_operator(operator)[1] in ("StringEquals", "StringLike"):
                for name, values in block.items():
                    if name.lower() == key:
                        found += [
                            str(v) for v in (values if isinstance(values, list) else [values])
                        ]
    return found


def judge(
    trust: Mapping[str, Any], provider: Provider, issuer: str, claims: Mapping[str, str]
) -> Verdict:
    """Would STS admit these claims? If not, the first reason it would refuse, and what
    fixes it: a scope to add, a rewrite of the role as it is, or a change to the job."""
    host = issuer_host(issuer)
    trusted = sorted(github_providers(trust))
    sub, aud = claims.get("sub", ""), claims.get("aud", "")
    if provider.arn not in trusted:
        # Claims are evidence, never configuration: a token from an issuer the role does
        # not trust is refused, and no command moves the role to the token's issuer.
        trusts = [f"https://{github_issuer(arn)}" for arn in trusted]
        return Verdict(
            False,
            f"the token comes from {issuer}; the role trusts "
            f"{', '.join(trusts) or 'no GitHub OIDC provider'}",
        )
    if not provider.exists:
        return Verdict(
            False,
            f"the role trusts OIDC provider {provider.arn}, which does not exist in the account",
            rewrite=True,
        )
    if aud not in provider.audiences:
        if aud == STS_AUDIENCE:
            return Verdict(
                False, f"the OIDC provider for {host} lacks the audience {aud}", rewrite=True
            )
        return Verdict(
            False,
            f"the OIDC provider for {host} does not accept the audience '{aud}'",
            workflow=_audience_fix(aud, STS_AUDIENCE),
        )
    for index, statement in enumerate(statements(trust)):
        if statement.get("Effect") == "Deny" and statement_applies(
            statement, provider.arn, host, claims
        ):
            label = statement.get("Sid") or f"number {index + 1}"
            return Verdict(False, f"statement {label} of the trust denies it explicitly")
    for index, statement in enumerate(statements(trust)):
        if statement.get("Effect") == "Allow" and statement_applies(
            statement, provider.arn, host, claims
        ):
            label = statement.get("Sid") or f"number {index + 1}"
            return Verdict(True, f"statement {label} of the trust admits it")
    audiences = _trusted_audiences(trust, host)
    wrong_aud = bool(audiences) and aud not in audiences
    fixed_aud = {**claims, "aud": audiences[0]} if wrong_aud else dict(claims)
    if may_assume(trust, provider.arn, host, fixed_aud):
        return Verdict(
            False,
            f"the trust admits the audience {', '.join(audiences)}, not '{aud}'",
            workflow=_audience_fix(aud, audiences[0]),
        )
    miss = why_not(sub, admitted_subjects(trust, host))
    also = f"; and the audience '{aud}' is wrong too" if wrong_aud else ""
    workflow = miss.workflow
    if wrong_aud:
        workflow = "; ".join(filter(None, [workflow, _audience_fix(aud, audiences[0])]))
    reason = f"{miss.reason}{also}"
    if miss.nearest:
        reason = f"nearest admitted subject {miss.nearest}: {reason}"
    return Verdict(
        False,
        reason,
        scope=miss.scope,
        rewrite=miss.rewrite and miss.workflow is None,
        workflow=workflow,
    )
