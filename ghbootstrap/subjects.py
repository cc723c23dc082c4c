"""GitHub OIDC `sub` claims: which contexts of one repository a role admits.

GitHub builds `sub` as a prefix naming the repository, then the context:
`repo:OWNER/REPO:ref:refs/heads/main`, `...:environment:prod`, `...:pull_request`,
`...:ref:refs/tags/v1`. Repositories on the immutable format use
`repo:OWNER@OWNER_ID/REPO@REPO_ID`, and a custom template changes the prefix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ghbootstrap.errors import ConflictError, UsageError, shown

WILDCARDS = frozenset("*?")
# git check-ref-format, minus '*' and '?', which we accept as wildcards.
_BAD_REF = re.compile(r"(^[-/.])|([/.]$)|(\.\.)|(//)|(@\{)|(\.lock$)|(/\.)|[\x00-\x20~^:\\\[\x7f]")
_ENV_NAME_MAX = 255


@dataclass(frozen=True)
class Scopes:
    """The contexts a role admits. Empty means: the repository's default branch.
    Each kind is a set, kept sorted."""

    branches: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    pull_requests: bool = False

    @classmethod
    def parse(
        cls,
        branches: Sequence[str] = (),
        tags: Sequence[str] = (),
        environments: Sequence[str] = (),
        pull_requests: bool = False,
    ) -> Scopes:
        for kind, values in (("--branch", branches), ("--tag", tags)):
            for value in values:
                check_ref_name(kind, value)
        for env in environments:
            check_environment(env)
        return cls(
            branches=_unique(branches),
            tags=_unique(tags),
            environments=_unique(environments),
            pull_requests=pull_requests,
        )

    def is_empty(self) -> bool:
        return not (self.branches or self.tags or self.environments or self.pull_requests)


_FULL_REF_KINDS = {"refs/heads/": "--branch", "refs/tags/": "--tag"}


def check_ref_name(option: str, value: str) -> str:
    """A branch or tag name as `--branch`/`--tag` take it: the short name, which the
    subject puts after refs/heads/ or refs/tags/. A full ref name is refused, not
    shortened: 'refs/heads/main' is also a legal branch name of its own."""
    if not value or _BAD_REF.search(value):
        raise UsageError(
            f"{option} '{shown(value)}' is not a valid git ref name",
            "use a name such as main or release/1.x ('*' and '?' are wildcards)",
        )
    if value.startswith("refs/"):
        prefix = next((p for p in _FULL_REF_KINDS if value.startswith(p)), "")
        short = value.removeprefix(prefix)
        fix = (
            f"give the short name: {_FULL_REF_KINDS[prefix]} {shown(short)}"
            if prefix and short
            else "give the branch or tag name without refs/"
        )
        raise UsageError(
            f"{option} '{shown(value)}' is a full ref name, and ghbootstrap adds "
            "refs/heads/ or refs/tags/ itself",
            fix,
        )
    return value


def check_environment(name: str) -> str:
    if not name.strip() or len(name) > _ENV_NAME_MAX or any(ord(ch) < 32 for ch in name):
        raise UsageError(
            f"--environment '{shown(name)}' is not a valid environment name",
            f"use 1-{_ENV_NAME_MAX} printable characters",
        )
    return name


def _unique(values: Sequence[str]) -> tuple[str, ...]:
    """Scopes are sets: any order, and repeats, give the same scopes (and so the same
    trust, tags and workflow)."""
    return tuple(sorted(set(values)))


@dataclass(frozen=True)
class GitHubRepo:
    """What GitHub says about a repository: canonical names, ids, default branch."""

    owner: str
    name: str
    owner_id: int
    repo_id: int
    default_branch: str
    can_push: bool = True  # the caller's role allows writing secrets and variables
    is_admin: bool = True  # ... and creating environments

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class SubjectTemplate:
    """A repository's OIDC subject settings, as GitHub's customization endpoint returns them."""

    use_default: bool = True
    include_claim_keys: tuple[str, ...] = ()
    use_immutable_subject: bool = False
    sub_claim_prefix: str | None = None


def subject_prefix(repo: GitHubRepo, template: SubjectTemplate) -> str:
    """The part of `sub` before the context, refusing templates that do not pin the repo."""
    if template.sub_claim_prefix:
        prefix = template.sub_claim_prefix
    elif template.use_default or not template.include_claim_keys:
        prefix = _repo_claim(repo, template.use_immutable_subject)
    else:
        prefix = _prefix_from_keys(repo, template)
    if not pins_repository(prefix, repo):
        raise ConflictError(
            f"{repo.full_name}'s OIDC subject template makes subjects like '{prefix}:...', "
            "which do not name the repository, so a trust built on them would admit other "
            "repositories",
            "include 'repo' (or 'repository_id') in the template, or reset it: "
            f"gh api -X PUT repos/{repo.full_name}/actions/oidc/customization/sub "
            "-F use_default=true",
        )
    if WILDCARDS & set(prefix):
        raise ConflictError(f"the OIDC subject prefix '{prefix}' contains a wildcard character")
    return prefix


def _repo_claim(repo: GitHubRepo, immutable: bool) -> str:
    if immutable:
        return f"repo:{repo.owner}@{repo.owner_id}/{repo.name}@{repo.repo_id}"
    return f"repo:{repo.full_name}"


def _prefix_from_keys(repo: GitHubRepo, template: SubjectTemplate) -> str:
    """Rebuild the prefix of a custom template from the keys we can predict."""
    keys = template.include_claim_keys
    if keys[-1] != "context":
        raise ConflictError(
            f"{repo.full_name}'s OIDC subject template ({', '.join(keys)}) does not end "
            "with 'context', so branch, tag and environment scopes cannot be expressed",
            "put 'context' last in the template, or reset it to the default",
        )
    values = {
        "repo": _repo_claim(repo, template.use_immutable_subject).removeprefix("repo:"),
        "repository": repo.full_name,
        "repository_owner": repo.owner,
        "repository_id": str(repo.repo_id),
        "repository_owner_id": str(repo.owner_id),
    }
    parts = []
    for key in keys[:-1]:
        if key not in values:
            raise ConflictError(
                f"{repo.full_name}'s OIDC subject template includes '{key}', whose value "
                "ghbootstrap cannot predict",
                "limit the template to repo, repository, repository_id, repository_owner, "
                "repository_owner_id and context",
            )
        parts.append(f"{key}:{values[key]}")
    return ":".join(parts)


def pins_repository(prefix: str, repo: GitHubRepo) -> bool:
    """Does a subject prefix name exactly this repository (by name or by id)?"""
    names = [
        f"repo:{repo.full_name}",
        f"repo:{repo.owner}@{repo.owner_id}/{repo.name}@{repo.repo_id}",
        f"repository:{repo.full_name}",
        f"repository_id:{repo.repo_id}",
    ]
    return any(re.search(rf"(^|:){re.escape(name)}(:|$)", prefix) for name in names)


def encode_environment(name: str) -> str:
    """GitHub writes ':' in environment names as %3A inside `sub`."""
    return name.replace(":", "%3A")


@dataclass(frozen=True)
class Subjects:
    exact: tuple[str, ...]
    patterns: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return self.exact + self.patterns


def build_subjects(prefix: str, scopes: Scopes, default_branch: str) -> Subjects:
    """Every admitted `sub`, split into exact values and wildcard patterns.

    Only branch and tag names may be patterns, and they come after the pinned prefix,
    so no pattern can match another repository.
    """
    refs = [f"ref:refs/heads/{b}" for b in scopes.branches]
    refs += [f"ref:refs/tags/{t}" for t in scopes.tags]
    exact = [f"{prefix}:{ref}" for ref in refs if not WILDCARDS & set(ref)]
    patterns = [f"{prefix}:{ref}" for ref in refs if WILDCARDS & set(ref)]
    exact += [f"{prefix}:environment:{encode_environment(e)}" for e in scopes.environments]
    if scopes.pull_requests:
        exact.append(f"{prefix}:pull_request")
    if scopes.is_empty():
        exact.append(f"{prefix}:ref:refs/heads/{default_branch}")
    return Subjects(tuple(exact), tuple(patterns))
