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
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ghbootstrap.defaults import GITHUB_ISSUER
from ghbootstrap.documents import (
    TRUST_POLICY_QUOTA,
    Document,
    issuer_host,
    pins_repository_id,
    trust_policy,
    trust_size,
)
from ghbootstrap.errors import ConflictError, UsageError, shown
from ghbootstrap.subjects import (
    WILDCARDS,
    Form,
    GitHubRepo,
    Scopes,
    Subjects,
    SubjectTemplate,
    form_of,
    split_subject,
    subject_prefix,
    subjects_for,
    trust_prefixes,
)
from ghbootstrap.target import parse_repo
from ghbootstrap.trusteval import claim_values, github_hosts

REPOSITORY_ID = "repository_id"
JOB_WORKFLOW_REF = "job_workflow_ref"

_JOB_WORKFLOW = re.compile(
    r"(?P<repo>[^/@]+/[^/@]+)/\.github/workflows/(?P<file>[A-Za-z0-9._-]+\.ya?ml)"
    r"@(?P<ref>refs/[^@]+)"
)
_JOB_WORKFLOW_FORM = "OWNER/REPO/.github/workflows/FILE.yml@refs/heads/BRANCH (or @refs/tags/TAG)"


@dataclass(frozen=True)
class Written:
    """The trust ghbootstrap writes for a setup, and what it rests on."""

    document: Document
    prefixes: tuple[str, ...]  # of the subjects it admits: one form, or both
    subjects: Subjects
    pinned: bool  # to the repository's id


def trust_for(
    provider_arn: str,
    issuer: str,
    repo: GitHubRepo,
    template: SubjectTemplate,
    scopes: Scopes,
    job_workflows: Sequence[str] = (),
) -> Written:
    """The trust for the repository as GitHub describes it now: pinned to its id (github.com's
    issuer), each scope in both subject forms until the repository has switched, and only
    jobs running one of `job_workflows` when there are any."""
    prefix = subject_prefix(repo, template)
    return trust_for_prefix(provider_arn, issuer, repo, prefix, scopes, job_workflows)


def trust_for_prefix(
    provider_arn: str,
    issuer: str,
    repo: GitHubRepo,
    prefix: str,
    scopes: Scopes,
    job_workflows: Sequence[str] = (),
) -> Written:
    """`trust_for`, given the prefix of the repository's subjects now."""
    pinned = pins_repository_id(issuer)
    prefixes = trust_prefixes(repo, prefix, both_forms=pinned)
    subjects = subjects_for(prefixes, scopes, repo.default_branch)
    document = trust_policy(
        provider_arn,
        issuer,
        subjects,
        repository_id=repo.repo_id if pinned else None,
        job_workflows=job_workflows,
    )
    return Written(document, prefixes, subjects, pinned)


def check_size(written: Written, scopes: Scopes, repository: str) -> None:
    """IAM refuses a trust policy over its quota; say so before anything is written."""
    size = trust_size(written.document)
    if size <= TRUST_POLICY_QUOTA:
        return
    both = len(written.prefixes) > 1
    forms = (
        ", each in both subject forms (name and immutable) until GitHub moves the "
        "repository to immutable subjects"
        if both
        else ""
    )
    fix = "admit fewer scopes (one pattern such as 'release/*' covers many branches)"
    if both:
        fix += (
            ", or move the repository to immutable subjects first (its OIDC settings' "
            "use_immutable_subject): then one form is enough"
        )
    raise UsageError(
        f"the trust policy for {repository} would be {size:,} characters, over IAM's quota "
        f"on a role's trust policy ({TRUST_POLICY_QUOTA:,} characters by default; "
        f"ghbootstrap keeps within it): it admits {scope_options(scopes)}{forms}",
        fix,
    )


def scope_options(scopes: Scopes) -> str:
    """The scopes as the options that give them: `--branch main, --tag 'v*'`."""
    parts = [f"--branch {shlex.quote(b)}" for b in scopes.branches]
    parts += [f"--tag {shlex.quote(t)}" for t in scopes.tags]
    parts += [f"--environment {shlex.quote(e)}" for e in scopes.environments]
    parts += ["--pull-requests"] if scopes.pull_requests else []
    return ", ".join(parts) or "the default branch"


def unpinned_note(issuer: str) -> str:
    """What `oidc` says when it writes a trust without the pin."""
    return (
        f"the trust is not pinned to the repository's id: AWS STS is not known to test "
        f"GitHub's repository_id claim for the issuer {issuer} (only for {GITHUB_ISSUER}), "
        "and a condition on a claim STS does not test would refuse every job"
    )


def check_job_workflow(value: str, option: str = "--job-workflow") -> str:
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
        raise UsageError(
            f"{option} '{shown(value)}' is not a workflow as GitHub's job_workflow_ref names it",
            f"give {_JOB_WORKFLOW_FORM}, e.g. "
            "acme/platform/.github/workflows/build.yml@refs/heads/main (no wildcards)",
        )
    return value


def check_job_workflows(values: Sequence[str], option: str = "--job-workflow") -> tuple[str, ...]:
    """Each checked; a set, kept sorted (like scopes)."""
    return tuple(sorted({check_job_workflow(v, option) for v in values}))


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


def identity_outputs(
    written: Written, repo: GitHubRepo, job_workflows: Sequence[str]
) -> dict[str, object]:
    """What `oidc` reports beside the subjects: the pin, and the job workflows."""
    outputs: dict[str, object] = {}
    if written.pinned:
        outputs["pinned_to"] = f"repository id {repo.repo_id} ({repo.full_name})"
    if job_workflows:
        outputs["job_workflows"] = list(job_workflows)
    return outputs


def refuse_another_repository(
    trust: Mapping[str, Any], repo: GitHubRepo, issuer: str, role: str
) -> None:
    """A role whose trust is pinned to another repository id was made for another
    repository of this name: rewriting it would hand the role to whoever holds the name
    now. Only --force does that."""
    pinned = claim_values(trust, issuer_host(issuer), REPOSITORY_ID)
    if pinned and str(repo.repo_id) not in pinned:
        raise ConflictError(
            f"IAM role {role} trusts repository id {', '.join(pinned)}, and "
            f"{repo.full_name} is repository id {repo.repo_id}: {ANOTHER_REPOSITORY}",
            f"check who owns {repo.full_name} now; only if the role is meant for it, run "
            "this command again with --force",
        )


def trust_change(found: Mapping[str, Any], wanted: Mapping[str, Any], host: str) -> str:
    """Why an `oidc` run rewrites a trust, in words."""
    before = github_hosts(found)
    if before and host not in before:  # the rest is the same setup on another provider
        was = ", ".join(f"https://{h}" for h in before)
        return f"trust policy differs: moves it from the issuer {was} to https://{host}"
    changes = []
    pins = claim_values(wanted, host, REPOSITORY_ID)
    if pins and not claim_values(found, host, REPOSITORY_ID):
        changes.append(f"pins it to repository id {pins[0]}")
    had = {split_subject(s)[0] for s in claim_values(found, host, "sub")}
    has = {split_subject(s)[0] for s in claim_values(wanted, host, "sub")}
    if any(form_of(p) is Form.IMMUTABLE for p in has - had) and had & has:
        changes.append("admits the immutable subject form too, until the repository switches")
    elif any(form_of(p) is Form.IMMUTABLE for p in has) and any(
        form_of(p) is Form.NAME for p in had - has
    ):
        changes.append("drops the name form: the repository uses immutable subjects now")
    workflows = claim_values(wanted, host, JOB_WORKFLOW_REF)
    if workflows != claim_values(found, host, JOB_WORKFLOW_REF):
        changes.append(
            f"admits only jobs running {', '.join(workflows)}"
            if workflows
            else "no longer limits the workflows jobs run"
        )
    return "trust policy differs: " + "; ".join(changes) if changes else "trust policy differs"
