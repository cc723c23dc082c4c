"""What `migrate --finish` must see before it removes a key: its replacement works.

Read-only, and on the default branch, as GitHub would run it:

- the role exists, and the push policy is attached to it;
- the build workflow (the path `keys` recorded, or the one given) asks for `id-token: write`
  and reads vars.AWS_ROLE_ARN; for each job that reads it, AWS_ROLE_ARN where that job
  reads it (its environment's, else the repository's) names the role, and the trust admits
  the claims GitHub would issue to that job: `explain`'s engine on its branch, its
  environment, the repository's subject format, and the issuer the GitHub host's tokens
  come from (`hosts.presented_issuer`);
- no workflow file in .github/workflows/ reads the key's secrets where they live (in an
  environment: a job in that environment; in the repository: any job).

Every check that holds is said; every one that does not is a problem, and any problem
means nothing is removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ghbootstrap import footprint, jobs
from ghbootstrap.aws import oidc_provider, role
from ghbootstrap.defaults import GITHUB_ISSUER
from ghbootstrap.documents import oidc_provider_arn
from ghbootstrap.explain import JobContext, context_claims
from ghbootstrap.flows.shared_steps import Start
from ghbootstrap.github.api import WORKFLOWS_DIR, Holder
from ghbootstrap.subjects import subject_prefix
from ghbootstrap.verdict import Provider, judge

KEY_SECRETS = (footprint.SECRET_ID, footprint.SECRET_KEY)
_ID_TOKEN = re.compile(r"^\s*id-token:\s*write\s*(#.*)?$", re.MULTILINE)


@dataclass
class Proof:
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Replacement:
    """What should replace the key: the role and policy, the build workflow's path, and
    where the key's secrets live (None: the repository)."""

    role: str
    policy: str
    workflow_path: str
    environment: str | None
    issuer: str = GITHUB_ISSUER  # of the tokens the default branch's jobs present


def prove(setup: Start, wanted: Replacement) -> Proof:
    proof = Proof()
    found = role.get_role(setup.aws.iam, wanted.role)
    if found is None:
        proof.problems.append(f"IAM role {wanted.role} does not exist")
    else:
        policy_arn = setup.caller.iam_arn("policy", wanted.policy)
        if policy_arn in role.attached_policies(setup.aws.iam, wanted.role):
            proof.checked.append(
                f"IAM role {wanted.role} exists, with policy {wanted.policy} attached"
            )
        else:
            proof.problems.append(
                f"policy {wanted.policy} is not attached to IAM role {wanted.role}"
            )
    for job in _assuming_jobs(setup, wanted.workflow_path, proof):
        _check_variable(setup, wanted, found, job, proof)
        if found is not None:
            _check_trust(setup, wanted, found, job, proof)
    _check_secrets(setup, wanted.environment, proof)
    return proof


def _assuming_jobs(setup: Start, path: str, proof: Proof) -> list[jobs.Job]:
    """The build workflow's jobs that assume the role (all of them when only text outside
    the jobs reads the variable); [] with a problem when the file does not."""
    branch = setup.repo.default_branch
    found = setup.gh.file(setup.repo, path, branch)
    if found is None:
        proof.problems.append(f"{path} is not on {branch}")
        return []
    every = jobs.jobs(found.text)
    named = [j for j in every if j.name]
    assuming = [j for j in named if jobs.reads_variable(j, footprint.VAR_ROLE_ARN)]
    if not assuming and any(jobs.reads_variable(j, footprint.VAR_ROLE_ARN) for j in every):
        assuming = named
    if not assuming:
        proof.problems.append(f"{path} on {branch} does not read vars.{footprint.VAR_ROLE_ARN}")
        return []
    if not _ID_TOKEN.search(found.text):
        proof.problems.append(f"{path} on {branch} does not ask for id-token: write")
        return []
    return assuming


def _check_variable(
    setup: Start, wanted: Replacement, found: role.Role | None, job: jobs.Job, proof: Proof
) -> None:
    """AWS_ROLE_ARN where the job reads it: its environment's, else the repository's."""
    gh, repo_holder = setup.gh, setup.repo_holder
    name = footprint.VAR_ROLE_ARN
    if not job.known:
        return  # _check_trust says the job's environment cannot be known
    holders = [repo_holder]
    if job.environment is not None:
        holders.insert(0, Holder(repo_holder.owner, repo_holder.repo, job.environment))
    for holder in holders:
        value = gh.variable(holder, name)
        if value is None:
            continue
        expected = found.arn if found else setup.caller.iam_arn("role", wanted.role)
        if value == expected:
            proof.checked.append(f"{name} in {holder.label} names IAM role {wanted.role}")
        else:
            proof.problems.append(
                f"{name} in {holder.label} names {value}, not IAM role {wanted.role}"
            )
        return
    if job.environment is None:
        proof.problems.append(f"{name} is not set in {repo_holder.label}")
    else:
        proof.problems.append(
            f"{name} is set neither in {holders[0].label} nor in {repo_holder.label}"
        )


def _check_trust(
    setup: Start, wanted: Replacement, found: role.Role, job: jobs.Job, proof: Proof
) -> None:
    """`explain`'s verdict on the claims GitHub would issue to this job on a push to the
    default branch, from the issuer its tokens really come from (never merely the one the
    role was set up for: a role on another issuer's provider admits none of them)."""
    repo, branch = setup.repo, setup.repo.default_branch
    path, issuer = wanted.workflow_path, wanted.issuer
    if not job.known:
        proof.problems.append(
            f"job {job.name} of {path} runs in an environment given by an expression, so the "
            "subject it presents cannot be known"
        )
        return
    prefix = subject_prefix(repo, setup.gh.subject_template(repo))
    claims = context_claims(repo, prefix, JobContext(environment=job.environment), issuer, path)
    arn = oidc_provider_arn(setup.caller.partition, setup.caller.account, issuer)
    provider = oidc_provider.get_provider(setup.aws.iam, arn)
    audiences = provider.audiences if provider else ()
    verdict = judge(found.trust, Provider(arn, provider is not None, audiences), issuer, claims)
    sub = claims["sub"]
    if verdict.admitted:
        proof.checked.append(
            f"the trust admits {sub}, the subject {path} presents on {branch} ({verdict.reason})"
        )
    else:
        proof.problems.append(
            f"the trust of IAM role {found.name} does not admit {sub}, the subject {path} "
            f"presents on {branch}: {verdict.reason}"
        )


def _check_secrets(setup: Start, environment: str | None, proof: Proof) -> None:
    repo, branch = setup.repo, setup.repo.default_branch
    paths = [
        p for p in setup.gh.folder(repo, WORKFLOWS_DIR, branch) if p.endswith((".yml", ".yaml"))
    ]
    readers = []
    for path in paths:
        found = setup.gh.file(repo, path, branch)
        read = _read_here(found.text if found else "", environment)
        if read:
            readers.append(f"{path} on {branch} reads the key's secrets ({', '.join(read)})")
    where = Holder(repo.owner, repo.name, environment).label
    if readers:
        proof.problems += readers
    else:
        proof.checked.append(
            f"no workflow on {branch} ({len(paths)} file{'' if len(paths) == 1 else 's'} in "
            f"{WORKFLOWS_DIR.rstrip('/')}) "
            f"reads the key's secrets {', '.join(KEY_SECRETS)} in {where}"
        )


def _read_here(text: str, environment: str | None) -> Sequence[str]:
    """The key's secrets the file reads in a job that sees them."""
    read: dict[str, None] = {}
    for job in jobs.jobs(text):
        if environment is None or job.in_environment(environment):
            read.update(dict.fromkeys(jobs.secrets_read(job, KEY_SECRETS)))
    if jobs.ALL_SECRETS in read:
        return [jobs.ALL_SECRETS]
    return list(read)
