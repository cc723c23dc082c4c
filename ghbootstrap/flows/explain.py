"""`ghbootstrap explain`: may this job assume the role, why not, and the command that fixes it.

Read-only. Reads the role, its trust, the provider for the token's issuer, the push policy
attached to the role (its ECR repository ARN gives the repository, region and policy name
the setup used), and, for a context given by options, the repository's OIDC subject
settings on GitHub. Never writes anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from ghbootstrap.aws import ecr, oidc_provider, policy, role
from ghbootstrap.aws.identity import whoami
from ghbootstrap.aws.session import Aws
from ghbootstrap.defaults import GITHUB_ISSUER
from ghbootstrap.documents import STS_AUDIENCE, oidc_provider_arn, statements
from ghbootstrap.errors import GhbError
from ghbootstrap.explain import (
    Explanation,
    JobContext,
    Setting,
    Token,
    context_claims,
    oidc_fix_command,
)
from ghbootstrap.explain import admits as matches
from ghbootstrap.footprint import TAG_REPOSITORY, OidcGiven
from ghbootstrap.github.api import GitHub
from ghbootstrap.hosts import presented_issuer
from ghbootstrap.identity import JOB_WORKFLOW_REF, REPOSITORY_ID
from ghbootstrap.subjects import Scopes, read_subjects, subject_prefix, union_of
from ghbootstrap.target import Names, RepoRef, parse_repo
from ghbootstrap.trust_ownership import (
    CHANGED_BY_HAND,
    Where,
    recorded_setup,
    written_by_ghbootstrap,
)
from ghbootstrap.trusteval import admitted_subjects, claim_values, github_hosts, github_subjects
from ghbootstrap.verdict import Provider, Verdict, judge


@dataclass(frozen=True)
class ExplainRequest:
    ref: RepoRef
    names: Names  # only the role name is read; the rest are the defaults
    job: JobContext | None = None  # by options, or
    claims: Token | None = None  # ... by claims
    issuer: str | None = None
    host_issuer: str = GITHUB_ISSUER  # the GitHub host's: the default when nothing names one
    profile: str | None = None
    github_api_url: str | None = None


def _role_issuer(trust: dict[str, object]) -> str | None:
    hosts = github_hosts(trust)
    return f"https://{hosts[0]}" if len(hosts) == 1 else None


def _push_target(aws: Aws, role_name: str) -> tuple[str, str, str] | None:
    """(policy name, ECR repository, region) of the push policy attached to the role."""
    for arn in sorted(role.attached_policies(aws.iam, role_name)):
        found = policy.get_policy(aws.iam, arn)
        for statement in statements(found.document if found else {}):
            actions = statement.get("Action", [])
            resource = statement.get("Resource", "")
            if "ecr:PutImage" in actions and isinstance(resource, str):
                parts = resource.split(":", 5)
                if len(parts) == 6 and parts[5].startswith("repository/"):
                    return arn.rpartition("/")[2], parts[5].removeprefix("repository/"), parts[3]
    return None


def _setting(aws: Aws, request: ExplainRequest, repository: str, found: role.Role) -> Setting:
    """How the role was set up, as options to `oidc` (only those that differ from the
    defaults for the repository the role was made for): its record of the setup; for a
    role made before records, the push policy attached to it and its ECR repository."""
    defaults = Names.resolve(parse_repo(repository))
    name = found.name
    record = OidcGiven.from_tags(found.tags, name)
    if record is not None:
        policy_name, ecr_name, region = record.policy, record.ecr_repository, record.region
        mutable_tags, ecr_named = record.mutable_tags, record.ecr_named
        job_workflows = record.job_workflows
    else:
        target = _push_target(aws, name)
        policy_name, ecr_name, region = target or (
            defaults.policy,
            defaults.ecr_repository,
            aws.region,
        )
        in_region = aws if region == aws.region else Aws(aws.session, region)
        repository_found = ecr.get_repository(in_region.ecr, ecr_name)
        mutable_tags = repository_found is not None and not repository_found.immutable
        ecr_named = False
        job_workflows = tuple(
            v
            for host in github_hosts(found.trust)
            for v in claim_values(found.trust, host, JOB_WORKFLOW_REF)
        )
    role_issuer = _role_issuer(found.trust)
    return Setting(
        repository=repository,
        region=region,
        role=None if name == defaults.role else name,
        policy=None if policy_name == defaults.policy else policy_name,
        ecr_repository=None if ecr_name == defaults.ecr_repository else ecr_name,
        ecr_named=ecr_named,
        mutable_tags=mutable_tags,
        issuer=None if role_issuer in (None, GITHUB_ISSUER) else role_issuer,
        profile=request.profile,
        github_api_url=request.github_api_url,
        job_workflows=job_workflows,
    )


def _written_by_ghbootstrap(found: role.Role, where: Callable[[], Where]) -> bool:
    """Its recorded fingerprint, or (none recorded) the rendering of its recorded setup:
    only then does GitHub need asking."""
    setup = recorded_setup(found.trust, found.tags, found.name)
    return written_by_ghbootstrap(found.trust, found.tags, lambda: where().renderings(setup))


def _by_hand(sub: str, verdict: Verdict, admits: list[str]) -> str:
    """Why a trust changed by hand gets no fix, and what to add to it by hand."""
    what = (
        f"add the subject {sub} to it by hand"
        if verdict.scope is not None and not any(matches(a, sub) for a in admits)
        else "change it by hand"
    )
    return (
        f"; the trust was {CHANGED_BY_HAND}, and `ghbootstrap oidc` would drop that change: {what}"
    )


def _fix(
    aws: Aws, request: ExplainRequest, found: role.Role, verdict: Verdict
) -> tuple[str, str | None]:
    """The `oidc` command that rewrites the role to admit the job, keeping every scope
    the trust admits for its repository; or why there is none (more for the reason)."""
    owner_key = found.tags.get(TAG_REPOSITORY)
    if owner_key is None:
        return f"; role {found.name} was not made by ghbootstrap: change its trust by hand", None
    repository = request.ref.full_name if owner_key == request.ref.tag_value else owner_key
    # The command rewrites the trust from this repository's scopes: any other subject
    # (another repository's, or one no scope writes) would go, so then there is none.
    kept, others = read_subjects(github_subjects(found.trust)).of_repository(repository)
    if others:
        return (
            f"; the trust also admits {', '.join(others)}"
            "; the trust admits subjects `ghbootstrap oidc` cannot write "
            "(edited by hand?), so no command keeps them: change the trust by hand",
            None,
        )
    setting = _setting(aws, request, repository, found)
    return "", oidc_fix_command(setting, union_of(kept, verdict.scope or Scopes()))


def _create(aws: Aws, request: ExplainRequest) -> str:
    """The `oidc` command making the role asked about (its name, in this account and
    region, for the issuer given or the token's) that admits the job described."""
    issuer = request.issuer
    if issuer is None and request.claims is not None:
        iss = request.claims.claims.get("iss", "").rstrip("/")
        issuer = iss if iss.startswith("https://") else None
    setting = Setting(
        repository=request.ref.full_name,
        region=aws.region,
        role=request.names.role,
        issuer=issuer,
        profile=request.profile,
        github_api_url=request.github_api_url,
    )
    return oidc_fix_command(setting, request.job.scope() if request.job else Scopes())


def _deciding(judged: list[tuple[dict[str, str], Verdict]]) -> tuple[dict[str, str], Verdict]:
    """A token with several audiences is admitted when one of them is; refused, the
    verdict for the audience STS expects (else the first) says why."""
    for claims, verdict in judged:
        if verdict.admitted:
            return claims, verdict
    for claims, verdict in judged:
        if claims.get("aud") == STS_AUDIENCE:
            return claims, verdict
    return judged[0]


def run(aws: Aws, github: Callable[[], GitHub], request: ExplainRequest) -> Explanation:
    """`github` connects on demand: claims given as such need no GitHub call."""
    caller = whoami(aws.sts)
    name = request.names.role
    found = role.get_role(aws.iam, name)
    if found is None:
        raise GhbError(
            f"IAM role {name} does not exist in account {caller.account}",
            f"pass the --role-name the setup used, or create it: {_create(aws, request)}",
        )
    role_issuer = _role_issuer(found.trust)

    @cache
    def where() -> Where:
        gh = github()
        repo = gh.repository(request.ref)
        prefix = subject_prefix(repo, gh.subject_template(repo))
        return Where(repo, prefix, caller.partition, caller.account)

    # the issuer a job's token comes from: the token's own, else the one given, else the
    # GitHub host's (an enterprise's own issuer of github.com taken from the role)
    presented = presented_issuer(request.issuer, request.host_issuer, role_issuer)
    if request.claims is not None:
        candidates = request.claims.per_audience()
        issuer = candidates[0].get("iss") or presented
    else:
        issuer = presented
        job = request.job or JobContext()
        candidates = [context_claims(where().repo, where().prefix, job, issuer)]
    issuer = issuer.rstrip("/")

    arn = oidc_provider_arn(caller.partition, caller.account, issuer)
    provider = oidc_provider.get_provider(aws.iam, arn)
    trusted = Provider(arn, provider is not None, provider.audiences if provider else ())
    judged = [(claims, judge(found.trust, trusted, issuer, claims)) for claims in candidates]
    claims, verdict = _deciding(judged)
    hosts = github_hosts(found.trust)
    admits = [sub for host in hosts for sub in admitted_subjects(found.trust, host)]
    pinned = [v for host in hosts for v in claim_values(found.trust, host, REPOSITORY_ID)]
    workflows = [v for host in hosts for v in claim_values(found.trust, host, JOB_WORKFLOW_REF)]
    reason, fix = verdict.reason, None
    if not verdict.admitted and verdict.rewrite:
        if found.tags.get(TAG_REPOSITORY) and not _written_by_ghbootstrap(found, where):
            reason += _by_hand(claims.get("sub", ""), verdict, admits)
        else:
            more, fix = _fix(aws, request, found, verdict)
            reason += more
    return Explanation(
        repository=request.ref.full_name,
        role=name,
        sub=claims.get("sub", ""),
        aud=claims.get("aud", ""),
        issuer=issuer,
        admitted=verdict.admitted,
        reason=reason,
        admits=admits,
        fix=fix,
        workflow_fix=verdict.workflow,
        pinned=pinned,
        job_workflows=workflows,
    )
