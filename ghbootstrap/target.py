"""The target of a command: OWNER/REPO and every name derived from it, validated once.

Everything here is checked before the first network call; bad input is a UsageError.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from ghbootstrap.errors import UsageError, shown

_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
# AWS's own patterns (botocore's service models), anchored.
_ECR_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_ECR_NAME = re.compile(rf"{_ECR_COMPONENT}(?:/{_ECR_COMPONENT})*")
_IAM_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]+")
IAM_ROLE_MAX = 64
IAM_USER_MAX = 64
IAM_POLICY_MAX = 128
ECR_MIN, ECR_MAX = 2, 256


@dataclass(frozen=True)
class RepoRef:
    """A GitHub repository as the user typed it. GitHub names are case-insensitive."""

    owner: str
    name: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def tag_value(self) -> str:
        """Lower-case OWNER/REPO: the value of the tag that marks what the tool made."""
        return self.full_name.lower()


def parse_repo(text: str) -> RepoRef:
    """Parse OWNER/REPO strictly: one slash, GitHub's character rules, no URLs."""
    hint = "give the repository as OWNER/REPO, for example octo-org/hello-world"
    parts = text.split("/")
    if len(parts) != 2 or not all(parts):
        raise UsageError(f"'{shown(text)}' is not OWNER/REPO", hint)
    owner, name = parse_owner(parts[0]), parts[1]
    if not _REPO.fullmatch(name) or name in (".", ".."):
        raise UsageError(
            f"'{shown(name)}' is not a GitHub repository name",
            "repository names are 1-100 letters, digits, '.', '-' or '_', and not '.' or '..'",
        )
    if name.lower().endswith(".git"):
        raise UsageError(f"'{shown(text)}' ends in .git", hint)
    return RepoRef(owner, name)


def parse_owner(text: str) -> str:
    """A GitHub organisation or user name, by GitHub's character rules."""
    if not _OWNER.fullmatch(text):
        raise UsageError(
            f"'{shown(text)}' is not a GitHub owner name",
            "owners are 1-39 letters, digits or hyphens, starting with a letter or digit",
        )
    return text


def _shorten(name: str, limit: int, seed: str) -> str:
    """Fit a derived name into an AWS limit, keeping it unique with a short hash."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(seed.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-._')}-{digest}"


def default_ecr_name(repo: RepoRef) -> str:
    """owner/repo, lower-cased and fitted to ECR's rules (runs of separators folded)."""
    components = []
    for part in (repo.owner, repo.name):
        part = re.sub(r"[^a-z0-9._-]", "-", part.lower())
        part = re.sub(r"[._-]{2,}", "-", part).strip("._-")
        if part:
            components.append(part)
    return "/".join(components)


def default_iam_name(repo: RepoRef, prefix: str, limit: int) -> str:
    return _shorten(f"{prefix}-{repo.owner}-{repo.name}".lower(), limit, repo.tag_value)


def check_ecr_name(name: str) -> str:
    if not (ECR_MIN <= len(name) <= ECR_MAX) or not _ECR_NAME.fullmatch(name):
        raise UsageError(
            f"'{shown(name)}' is not a valid ECR repository name",
            "use 2-256 lower-case letters and digits, separated by '.', '_', '-' or '/'",
        )
    return name


def check_iam_name(name: str, kind: str, limit: int) -> str:
    if not (1 <= len(name) <= limit) or not _IAM_NAME.fullmatch(name):
        raise UsageError(
            f"'{shown(name)}' is not a valid IAM {kind} name",
            f"use 1-{limit} letters, digits or + = , . @ _ -",
        )
    return name


@dataclass(frozen=True)
class Names:
    """The AWS names for one repository's setup; defaults derive from OWNER/REPO."""

    ecr_repository: str
    policy: str
    role: str
    user: str
    ecr_named: bool = False  # given with --ecr-repo: may be shared on purpose

    @classmethod
    def resolve(
        cls,
        repo: RepoRef,
        *,
        ecr_repository: str | None = None,
        policy: str | None = None,
        role: str | None = None,
        user: str | None = None,
    ) -> Names:
        ecr = ecr_repository if ecr_repository is not None else default_ecr_name(repo)
        if ecr_repository is None and len(ecr) < ECR_MIN:
            raise UsageError(
                f"cannot derive an ECR repository name from '{repo.full_name}'",
                "pass --ecr-repo NAME",
            )
        return cls(
            ecr_repository=check_ecr_name(ecr),
            policy=check_iam_name(
                _given_or(policy, default_iam_name(repo, "ghbootstrap-ecr-push", IAM_POLICY_MAX)),
                "policy",
                IAM_POLICY_MAX,
            ),
            role=check_iam_name(
                _given_or(role, default_iam_name(repo, "ghbootstrap", IAM_ROLE_MAX)),
                "role",
                IAM_ROLE_MAX,
            ),
            user=check_iam_name(
                _given_or(user, default_iam_name(repo, "ghbootstrap", IAM_USER_MAX)),
                "user",
                IAM_USER_MAX,
            ),
            ecr_named=ecr_repository is not None,
        )


def _given_or(given: str | None, default: str) -> str:
    """An option given as '' is a bad name, not a request for the default."""
    return default if given is None else given


def check_region(region: str | None, known: frozenset[str]) -> str:
    """A region AWS knows (from botocore's endpoint data), given or from the profile."""
    if not region:
        raise UsageError(
            "no AWS region given", "pass --region, or set one in your AWS profile or AWS_REGION"
        )
    if region not in known:
        raise UsageError(
            f"'{shown(region)}' is not an AWS region this tool knows",
            "pass --region with a region such as us-east-1 (a new region may need a newer boto3)",
        )
    return region
