"""`explain`'s pure half: a job's claims, the scopes a trust admits, the fix, the answer.

The claims come from a context (branch, tag, pull request, environment: derived the way
GitHub derives `sub`) or from the user (a JSON object, or a token whose payload alone is
decoded: never verified, kept or shown). The verdict is `verdict.py`'s; the fix is the one
`ghbootstrap oidc` command that admits the job while keeping every scope the role has,
read back from the subjects the trust admits (subjects.read_subjects).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ghbootstrap.defaults import GITHUB_ISSUER, WORKFLOW_PATH
from ghbootstrap.errors import UsageError, one_line
from ghbootstrap.footprint import OidcGiven
from ghbootstrap.identity import (
    JOB_WORKFLOW_REF,
    check_job_workflow,
    job_workflow_ref,
    repository_claims,
)
from ghbootstrap.repairs import oidc_command
from ghbootstrap.subjects import WILDCARDS, GitHubRepo, Scopes, encode_environment
from ghbootstrap.target import Names, parse_repo
from ghbootstrap.trusteval import like_regex

_CLAIMS_HINT = "give a JSON object of the token's claims, or the token itself (header.payload.sig)"
# Python's JSON reader recurses once per level: a token's claims are a flat object.
_TOO_DEEP = "--claims: the input nests arrays or objects too deeply to be a token's claims"


# -- the context, and the claims GitHub would put in its token ---------------------------------


@dataclass(frozen=True)
class JobContext:
    """One job as the options describe it. All empty: a push to the default branch."""

    branch: str | None = None
    tag: str | None = None
    pull_request: bool = False
    environment: str | None = None
    job_workflow: str | None = None  # the workflow it runs; None: the repository's build workflow

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
        if self.job_workflow is not None:
            check_job_workflow(self.job_workflow)

    def scope(self) -> Scopes:
        """The scope `oidc` admits this job by (none: the default branch's push)."""
        if self.environment is not None:
            return Scopes.parse(environments=[self.environment])
        if self.pull_request:
            return Scopes(pull_requests=True)
        return Scopes.parse([self.branch] if self.branch else [], [self.tag] if self.tag else [])

    def ref(self, default_branch: str) -> str | None:
        """The `ref` claim: the branch or tag pushed (an environment's job runs on one, the
        default branch unless --branch or --tag says); None for a pull request, whose ref
        names its number."""
        if self.pull_request:
            return None
        if self.tag is not None:
            return f"refs/tags/{self.tag}"
        return f"refs/heads/{self.branch or default_branch}"

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
    repo: GitHubRepo,
    prefix: str,
    job: JobContext,
    issuer: str,
    workflow_path: str = WORKFLOW_PATH,
) -> dict[str, str]:
    """The claims GitHub's token carries for this job that a trust may test: `sub`, `aud`,
    `iss`, the repository's name and id, and, when the job's ref is known, `ref` and the
    workflow it runs (`job_workflow_ref`: the one given, else the repository's own at
    `workflow_path`). GitHub writes every claim as a string."""
    claims = {
        "sub": f"{prefix}:{job.context(repo.default_branch)}",
        "aud": "sts.amazonaws.com",
        "iss": issuer,
        **repository_claims(repo),
    }
    if job.environment is not None:
        claims["environment"] = job.environment
    ref = job.ref(repo.default_branch)
    if ref is not None:
        claims["ref"] = ref
    if job.job_workflow is not None:
        claims[JOB_WORKFLOW_REF] = job.job_workflow
    elif ref is not None:
        claims[JOB_WORKFLOW_REF] = job_workflow_ref(repo, workflow_path, ref)
    return claims


@dataclass(frozen=True)
class Token:
    """Claims as a token carries them: its string claims, and `aud` as one value or, as
    the JWT spec allows, several. Each audience is judged on its own."""

    claims: dict[str, str]
    audiences: tuple[str, ...] = ()

    def per_audience(self) -> list[dict[str, str]]:
        if not self.audiences:
            return [dict(self.claims)]
        return [{**self.claims, "aud": aud} for aud in self.audiences]


def read_claims(text: str) -> Token:
    """A JSON object of claims, or a JWT whose payload is decoded (never verified).

    Errors never quote the input: it may be a live token. A byte-order mark before it
    (an editor's, or PowerShell's) is not part of it.
    """
    text = text.removeprefix("\ufeff").strip()
    if text.startswith("{"):
        try:
            found = json.loads(text)
        except ValueError:
            raise UsageError("--claims: the input is not valid JSON", _CLAIMS_HINT) from None
        except RecursionError:
            raise UsageError(_TOO_DEEP, _CLAIMS_HINT) from None
    else:
        found = _jwt_payload(text)
    if not isinstance(found, dict):
        raise UsageError("--claims: the input is not a JSON object", _CLAIMS_HINT)
    if not isinstance(found.get("sub"), str) or not found["sub"]:
        raise UsageError("--claims: the claims have no sub", _CLAIMS_HINT)
    aud = found.get("aud")
    audiences = tuple(a for a in aud if isinstance(a, str)) if isinstance(aud, list) else ()
    if isinstance(aud, list) and not audiences:
        raise UsageError("--claims: the claims' aud is an array with no string in it", _CLAIMS_HINT)
    texts = {str(k): _claim_text(v) for k, v in found.items()}
    return Token({k: v for k, v in texts.items() if v is not None}, audiences)


def _claim_text(value: Any) -> str | None:
    """A claim as a trust condition tests it. GitHub writes its ids as strings
    (`"repository_id": "74"`); a hand-written number means the same id, so it is read as
    its decimal text rather than dropped (which would look like a missing claim)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _jwt_payload(text: str) -> Any:
    """The payload of header.payload.signature, base64url with or without `=` padding."""
    parts = text.split(".")
    if len(parts) != 3 or not all(re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", p) for p in parts[:2]):
        raise UsageError("--claims: the input is neither JSON nor a JWT", _CLAIMS_HINT)
    payload = parts[1].rstrip("=")
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError):
        raise UsageError("--claims: the token's payload is not JSON", _CLAIMS_HINT) from None
    except RecursionError:
        raise UsageError(_TOO_DEEP, _CLAIMS_HINT) from None


# -- patterns -----------------------------------------------------------------------------------


def admits(pattern: str, value: str) -> bool:
    """Does a StringLike pattern, as `admitted_subjects` shows it, match the value?"""
    return like_regex(pattern.replace("$", "${$}")).fullmatch(value) is not None


# -- the fix: one `ghbootstrap oidc` command -------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """How the role was set up: everything `oidc` needs to rebuild it as it is."""

    repository: str
    region: str
    role: str | None = None  # None: the default for `repository`
    policy: str | None = None
    ecr_repository: str | None = None
    ecr_named: bool = False  # `--ecr-repo` was given, even as the default name
    mutable_tags: bool = False
    issuer: str | None = None  # None: github.com's
    profile: str | None = None
    github_api_url: str | None = None
    job_workflows: tuple[str, ...] = ()  # the only workflows the role admits jobs of


def oidc_fix_command(setting: Setting, scopes: Scopes) -> str:
    """`ghbootstrap oidc ... --no-workflow`, shell-quoted, that rebuilds the role with
    exactly these scopes and names. It runs from any folder."""
    ref = parse_repo(setting.repository)
    defaults = Names.resolve(ref)
    setup = OidcGiven(
        region=setting.region,
        ecr_repository=setting.ecr_repository or defaults.ecr_repository,
        policy=setting.policy or defaults.policy,
        role=setting.role or defaults.role,
        scopes=scopes,
        mutable_tags=setting.mutable_tags,
        issuer=setting.issuer or GITHUB_ISSUER,
        job_workflows=setting.job_workflows,
        ecr_named=setting.ecr_named,
    )
    return oidc_command(ref, setup, profile=setting.profile, github_api_url=setting.github_api_url)


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
    pinned: list[str] = field(default_factory=list)  # repository ids the trust requires
    job_workflows: list[str] = field(default_factory=list)  # the only workflows it admits

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
            "pinned_repository_id": self.pinned,
            "job_workflows": self.job_workflows,
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
        if self.pinned:
            lines.append(f"  {'pinned':<7} repository id {', '.join(self.pinned)}")
        for index, workflow in enumerate(self.job_workflows):
            lines.append(f"  {'jobs of' if index == 0 else '':<7} {workflow}")
        lines.append(("admitted: " if self.admitted else "denied: ") + self.reason)
        if self.fix:
            lines.append(f"fix: {self.fix}")
        if self.workflow_fix:
            lines.append(f"fix in the workflow: {self.workflow_fix}")
        # a pasted token's claims are anyone's text: a line break would forge a line, an
        # escape sequence would drive the terminal (--json escapes them itself)
        return "\n".join(one_line(line) for line in lines)
