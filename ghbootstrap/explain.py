"""`explain`'s pure half: a job's claims, why a trust admits them or not, and the fix.

The claims come from a context (branch, tag, pull request, environment: derived the way
GitHub derives `sub`) or from the user (a JSON object, or a token whose payload alone is
decoded: never verified, kept or shown). The verdict is `trusteval`'s; the reason names
the nearest subject the trust admits and how the job's differs; the fix is the one
`ghbootstrap oidc` command that admits the job while keeping every scope the role has.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ghbootstrap.documents import STS_AUDIENCE, issuer_host, statements
from ghbootstrap.errors import UsageError
from ghbootstrap.subjects import WILDCARDS, Scopes, encode_environment
from ghbootstrap.trusteval import (
    admitted_subjects,
    github_providers,
    like_regex,
    may_assume,
    split_operator,
    statement_applies,
)

_CONTEXT = re.compile(r"^(?P<prefix>.*?):(?P<context>ref:refs/.+|environment:.+|pull_request)$")
_CLAIMS_HINT = "give a JSON object of the token's claims, or the token itself (header.payload.sig)"


# -- the context, and the claims GitHub would put in its token ---------------------------------


@dataclass(frozen=True)
class JobContext:
    """One job as the options describe it. All empty: a push to the default branch."""

    branch: str | None = None
    tag: str | None = None
    pull_request: bool = False
    environment: str | None = None

    def __post_init__(self) -> None:
        if self.branch is not None and self.tag is not None:
            raise UsageError("--branch and --tag describe two different jobs", "give one of them")
        if self.pull_request and (self.branch is not None or self.tag is not None):
            raise UsageError(
                "--pull-request describes a pull request job, not a branch or tag push",
                "drop --branch / --tag, or drop --pull-request",
            )
        for flag, value in (("--branch", self.branch), ("--tag", self.tag)):
            if value is not None and (not value or WILDCARDS & set(value)):
                raise UsageError(f"{flag} '{value}' is not one ref name", "give the exact name")
        if self.branch is not None or self.tag is not None:
            Scopes.parse([self.branch] if self.branch else [], [self.tag] if self.tag else [])
        if self.environment is not None:
            Scopes.parse(environments=[self.environment])

    def context(self, default_branch: str) -> str:
        """The part of `sub` after the repository. An environment takes precedence."""
        if self.environment is not None:
            return f"environment:{encode_environment(self.environment)}"
        if self.pull_request:
            return "pull_request"
        if self.tag is not None:
            return f"ref:refs/tags/{self.tag}"
        return f"ref:refs/heads/{self.branch or default_branch}"


def context_claims(
    prefix: str, job: JobContext, default_branch: str, issuer: str
) -> dict[str, str]:
    """The claims GitHub's token carries for this job that a trust may test."""
    return {
        "sub": f"{prefix}:{job.context(default_branch)}",
        "aud": "sts.amazonaws.com",
        "iss": issuer,
    }


def read_claims(text: str) -> dict[str, str]:
    """A JSON object of claims, or a JWT whose payload is decoded (never verified).

    Errors never quote the input: it may be a live token.
    """
    text = text.strip()
    if text.startswith("{"):
        try:
            found = json.loads(text)
        except ValueError:
            raise UsageError("--claims: the input is not valid JSON", _CLAIMS_HINT) from None
    else:
        found = _jwt_payload(text)
    if not isinstance(found, dict):
        raise UsageError("--claims: the input is not a JSON object", _CLAIMS_HINT)
    if not isinstance(found.get("sub"), str) or not found["sub"]:
        raise UsageError("--claims: the claims have no sub", _CLAIMS_HINT)
    return {str(k): v for k, v in found.items() if isinstance(v, str)}


def _jwt_payload(text: str) -> Any:
    parts = text.split(".")
    if len(parts) != 3 or not all(re.fullmatch(r"[A-Za-z0-9_-]+", p) for p in parts[:2]):
        raise UsageError("--claims: the input is neither JSON nor a JWT", _CLAIMS_HINT)
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError):
        raise UsageError("--claims: the token's payload is not JSON", _CLAIMS_HINT) from None


# -- subjects: split into the repository part and the context ----------------------------------


def split_subject(sub: str) -> tuple[str, str]:
    """`repo:O/R:ref:refs/heads/main` -> (`repo:O/R`, `ref:refs/heads/main`)."""
    found = _CONTEXT.match(sub)
    return (found["prefix"], found["context"]) if found else (sub, "")


def scopes_of(admitted: Sequence[str]) -> Scopes | None:
    """Invert what `build_subjects` wrote: the scopes a trust admits, or None if some
    subject is not one ghbootstrap can write (a hand edit), so no command keeps it."""
    branches, tags, environments, pull_requests = [], [], [], False
    for sub in admitted:
        context = split_subject(sub)[1]
        if context.startswith("ref:refs/heads/"):
            branches.append(context.removeprefix("ref:refs/heads/"))
        elif context.startswith("ref:refs/tags/"):
            tags.append(context.removeprefix("ref:refs/tags/"))
        elif context.startswith("environment:") and not WILDCARDS & set(context):
            environments.append(context.removeprefix("environment:").replace("%3A", ":"))
        elif context == "pull_request":
            pull_requests = True
        else:
            return None
    return Scopes(tuple(branches), tuple(tags), tuple(environments), pull_requests)


def scope_for(context: str) -> Scopes:
    """The scope a job's context needs."""
    if context.startswith("environment:"):
        return Scopes(environments=(context.removeprefix("environment:").replace("%3A", ":"),))
    if context == "pull_request":
        return Scopes(pull_requests=True)
    if context.startswith("ref:refs/tags/"):
        return Scopes(tags=(context.removeprefix("ref:refs/tags/"),))
    return Scopes(branches=(context.removeprefix("ref:refs/heads/"),))


def merge(a: Scopes, b: Scopes) -> Scopes:
    return Scopes.parse(
        [*a.branches, *b.branches],
        [*a.tags, *b.tags],
        [*a.environments, *b.environments],
        a.pull_requests or b.pull_requests,
    )


def _admits(pattern: str, value: str) -> bool:
    return like_regex(pattern.replace("$", "${$}")).fullmatch(value) is not None


# -- why not: the nearest admitted subject, and how the job's differs --------------------------


@dataclass(frozen=True)
class Miss:
    """Why a `sub` is not admitted. `scope`: what to add to the role (None: rewrite it as
    it is, from the repository's current names). `workflow`: a change on the job's side."""

    nearest: str
    reason: str
    scope: Scopes | None = None
    workflow: str | None = None


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
        same = [c for c in environments if c.replace(":", "%3A") == name]
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
                f"the job runs in environment {_decode(name)}, so its sub names the "
                f"environment ({context}), not its branch or tag: an environment takes "
                "precedence, and the trust admits no environment",
                None,
            )
        return nearest, f"the trust does not admit environment {_decode(name)}", None
    if environments and kinds == {"environment"}:
        return (
            _closest(context, admitted),
            f"the job runs in no environment, so its sub names {context}; the trust "
            f"admits environments ({', '.join(_decode(e) for e in environments)}) and not this",
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
        _admits(c, f"ref:refs/{other}/{name}") for c in admitted if WILDCARDS & set(c)
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


def _decode(environment: str) -> str:
    return environment.replace("%3A", ":")


def _closest(value: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0)
    return close[0] if close else ""


def why_not(sub: str, admitted: Sequence[str]) -> Miss:
    """The nearest admitted subject, and how `sub` differs from it."""
    if not admitted:
        return Miss(
            "", "the trust admits no GitHub subject at all", scope_for(split_subject(sub)[1])
        )
    prefix, context = split_subject(sub)
    split = [split_subject(a) for a in admitted]
    same_context = [
        p for p, c in split if c == context or (WILDCARDS & set(c) and _admits(c, context))
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
            scope_for(context),
        )
    nearest, reason, workflow_scope = _context_difference(context, same_prefix)
    nearest_sub = f"{prefix}:{nearest}" if nearest else ""
    if workflow_scope is not None:
        env = workflow_scope.environments[0]
        return Miss(
            nearest_sub,
            reason,
            workflow=f"run the job in environment {_decode(env)}: add `environment: "
            f"{json.dumps(_decode(env))}` to the job in the workflow",
        )
    return Miss(nearest_sub, reason, scope_for(context))


# -- the fix: one `ghbootstrap oidc` command -------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """How the role was set up: everything `oidc` needs to rebuild it as it is."""

    repository: str
    region: str
    role: str | None = None  # None: the default for `repository`
    policy: str | None = None
    ecr_repository: str | None = None
    mutable_tags: bool = False
    issuer: str | None = None  # None: github.com's
    profile: str | None = None
    github_api_url: str | None = None


def oidc_fix_command(setting: Setting, scopes: Scopes) -> str:
    """`ghbootstrap oidc ... --no-workflow`, shell-quoted, that rebuilds the role with
    exactly these scopes and names. It runs from any folder."""
    words = ["ghbootstrap", "oidc", setting.repository, "--region", setting.region]
    for flag, value in (
        ("--profile", setting.profile),
        ("--role-name", setting.role),
        ("--policy-name", setting.policy),
        ("--ecr-repo", setting.ecr_repository),
        ("--issuer-url", setting.issuer),
        ("--github-api-url", setting.github_api_url),
    ):
        if value is not None:
            words += [flag, value]
    for flag, values in (
        ("--branch", scopes.branches),
        ("--tag", scopes.tags),
        ("--environment", scopes.environments),
    ):
        for value in values:
            words += [flag, value]
    if scopes.pull_requests:
        words.append("--pull-requests")
    if setting.mutable_tags:
        words.append("--mutable-tags")
    words.append("--no-workflow")
    return shlex.join(words)


# -- the answer --------------------------------------------------------------------------------


@dataclass
class Explanation:
    """What `explain` says. Denied is a finding: the CLI exits 3."""

    repository: str
    role: str
    sub: str
    aud: str
    issuer: str
    admitted: bool
    reason: str
    admits: list[str] = field(default_factory=list)
    fix: str | None = None
    workflow_fix: str | None = None

    @property
    def problems(self) -> list[str]:
        return [] if self.admitted else [self.reason]

    def to_json(self) -> dict[str, Any]:
        return {
            "admitted": self.admitted,
            "role": self.role,
            "sub": self.sub,
            "aud": self.aud,
            "issuer": self.issuer,
            "admits": self.admits,
            "reason": self.reason,
            "fix": self.fix,
            "workflow_fix": self.workflow_fix,
        }

    def text(self) -> str:
        lines = [f"ghbootstrap explain {self.repository}"]
        for label, value in (
            ("role", self.role),
            ("sub", self.sub),
            ("aud", self.aud),
            ("issuer", self.issuer),
        ):
            lines.append(f"  {label:<7} {value}")
        for index, sub in enumerate(self.admits or ["(nothing)"]):
            lines.append(f"  {'admits' if index == 0 else '':<7} {sub}")
        lines.append(("admitted: " if self.admitted else "denied: ") + self.reason)
        if self.fix:
            lines.append(f"fix: {self.fix}")
        if self.workflow_fix:
            lines.append(f"fix in the workflow: {self.workflow_fix}")
        return "\n".join(lines)


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
    issuer: str | None = None  # ... with this issuer instead of the role's
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
        return Verdict(
            False,
            f"the token comes from issuer {issuer}, and the role trusts "
            f"{', '.join(trusted) or 'no GitHub OIDC provider'}"
            + ("" if provider.exists else f"; the account has no OIDC provider for {host}"),
            rewrite=True,
            issuer=issuer,
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
        rewrite=miss.workflow is None,
        workflow=workflow,
    )
