"""What a trust pins beside `sub`: the repository's id, and the workflows a job may run.

- `repository_id`. Since 2026-01 STS tests GitHub's own claims as trust conditions
  (`token.actions.githubusercontent.com:repository_id`, ...). A name in `sub` changes
  hands when a repository is deleted and re-created, transferred, or its owner's name
  taken over; the id never does. Every source names github.com's issuer alone, and a
  condition on a key STS does not fill refuses every token, so the pin is written for
  exactly `https://token.actions.githubusercontent.com` and for no other issuer (GitHub
  Enterprise Server hosts, GHE.com tenants, enterprise-slug issuers).
- `job_workflow_ref`: `OWNER/REPO/.github/workflows/FILE.yml@refs/...`, the workflow a
  job runs (a reusable workflow's, when it calls one). `--job-workflow` admits only jobs
  running one of those (a platform team's vetted build workflow).

GitHub's token carries both as strings, like every claim a trust can test.
"""

from __future__ import annotations

import re

from ghbootstrap.documents import GITHUB_ISSUER
from ghbootstrap.errors import UsageError
from ghbootstrap.subjects import WILDCARDS, GitHubRepo, Scopes
from ghbootstrap.target import parse_repo

REPOSITORY_ID = "repository_id"
JOB_WORKFLOW_REF = "job_workflow_ref"

_JOB_WORKFLOW = re.compile(
    r"(?P<repo>[^/@]+/[^/@]+)/\.github/workflows/(?P<file>[A-Za-z0-9._-]+\.ya?ml)"
    r"@(?P<ref>refs/[^@]+)"
)
_JOB_WORKFLOW_FORM = "OWNER/REPO/.github/workflows/FILE.yml@refs/heads/BRANCH (or @refs/tags/TAG)"


def pins_repository_id(issuer: str) -> bool:
    """Is STS known to test `repository_id` for tokens of this issuer? github.com's only."""
    return issuer.rstrip("/") == GITHUB_ISSUER


def unpinned_note(issuer: str) -> str:
    """What `oidc` says when it writes a trust without the pin."""
    return (
        f"the trust is not pinned to the repository's id: AWS STS is not known to test "
        f"GitHub's repository_id claim for the issuer {issuer} (only for {GITHUB_ISSUER}), "
        "and a condition on a claim STS does not test would refuse every job"
    )


def check_job_workflow(value: str) -> str:
    """`OWNER/REPO/.github/workflows/FILE.yml@refs/...`, exactly as GitHub writes it."""
    found = _JOB_WORKFLOW.fullmatch(value)
    problem = found is None or bool(WILDCARDS & set(value)) or "$" in value
    if not problem and found is not None:
        ref = found["ref"].removeprefix("refs/")
        try:
            parse_repo(found["repo"])
            Scopes.parse(branches=[ref])  # git's rules for a ref name
        except UsageError:
            problem = True
        problem = problem or "/" not in ref
    if problem:
        shown = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in value)[:200]
        raise UsageError(
            f"--job-workflow '{shown}' is not a workflow as GitHub's job_workflow_ref names it",
            f"give {_JOB_WORKFLOW_FORM}, e.g. "
            "acme/platform/.github/workflows/build.yml@refs/heads/main (no wildcards)",
        )
    return value


def check_job_workflows(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Each checked; a set, kept sorted (like scopes)."""
    return tuple(sorted({check_job_workflow(v) for v in values}))


def repository_claims(repo: GitHubRepo) -> dict[str, str]:
    """The claims GitHub's token carries about the repository a job runs in."""
    return {
        "repository": repo.full_name,
        REPOSITORY_ID: str(repo.repo_id),
        "repository_owner": repo.owner,
        "repository_owner_id": str(repo.owner_id),
    }


def job_workflow_ref(repo: GitHubRepo, path: str, ref: str) -> str:
    """The job_workflow_ref of a job running the workflow at `path` in the repository."""
    return f"{repo.full_name}/{path}@{ref}"


def uses_line(job_workflow: str) -> str:
    """How a workflow calls a reusable workflow: `uses: OWNER/REPO/PATH@main`."""
    path, _, ref = job_workflow.partition("@")
    for kind in ("refs/heads/", "refs/tags/"):
        ref = ref.removeprefix(kind)
    return f"uses: {path}@{ref}"


def other_repository(pinned: list[str], actual: str | None) -> str:
    """Why a token of another repository id is refused (explain's reason)."""
    ids = ", ".join(pinned)
    if actual is None:
        return (
            f"the token carries no repository_id claim, and the trust admits repository id "
            f"{ids} alone (GitHub's tokens carry it: give all of the token's claims)"
        )
    return (
        f"the token's repository_id is {actual}, and the trust admits repository id {ids} "
        f"alone: {ANOTHER_REPOSITORY}; {CHECK_OWNER}"
    )


ANOTHER_REPOSITORY = (
    "this is another repository with the same name (the one the role was made for was "
    "deleted and re-created, or transferred)"
)
CHECK_OWNER = (
    "no command re-admits it: check who owns the repository now, and only if the role is "
    "meant for it, run its setup again with --force"
)


def job_workflow_reason(actual: str | None, admitted: list[str]) -> str:
    """Why a job running another workflow is refused."""
    runs = f"this job runs {actual}" if actual else "the token names no job_workflow_ref"
    return f"{runs}; the role admits only jobs running {', '.join(admitted)}"


def job_workflow_fix(admitted: list[str]) -> str:
    return (
        "have the job call an admitted workflow as a reusable workflow "
        f"(`{uses_line(admitted[0])}`)"
    )
