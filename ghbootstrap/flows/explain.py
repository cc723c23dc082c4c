"""`ghbootstrap explain`: may this job assume the role, why not, and the command that fixes it.

Read-only. Reads the role, its trust, the provider for the token's issuer, the push policy
attached to the role (its ECR repository ARN gives the repository, region and policy name
the setup used), and, for a context given by options, the repository's OIDC subject
settings on GitHub. Never writes anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
from ghbootstrap.footprint import TAG_REPOSITORY
from ghbootstrap.github.api import GitHub
from ghbootstrap.subjects import Scopes, read_subjects, subject_prefix, union_of
from ghbootstrap.target import Names, RepoRef, parse_repo
from ghbootstrap.trusteval import admitted_subjects, github_hosts, github_subjects
from ghbootstrap.verdict import Provider, Verdict, judge


@dataclass(frozen=True)
class ExplainRequest:
    ref: RepoRef
    names: Names  # only the role name is read; the rest are the defaults
    job: JobContext | None = None  # by options, or
    claims: Token | None = None  # ... by claims
    issuer: str | None = None
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


def _setting(
    aws: Aws, request: ExplainRequest, repository: str, role_issuer: str | None
) -> Setting:
    """How the role was set up, as options to `oidc` (only those that differ from the
    defaults for the repository the role was made for)."""
    defaults = Names.resolve(parse_repo(repository))
    name = request.names.role
    target = _push_target(aws, name)
    policy_name, ecr_name, region = target or (defaults.policy, defaults.ecr_repository, aws.region)
    in_region = aws if region == aws.region else Aws(aws.session, region)
    found = ecr.get_repository(in_region.ecr, ecr_name)
    return Setting(
        repository=repository,
        region=region,
        role=None if name == defaults.role else name,
        policy=None if policy_name == defaults.policy else policy_name,
        ecr_repository=None if ecr_name == defaults.ecr_repository else ecr_name,
        mutable_tags=found is not None and not found.immutable,
        issuer=None if role_issuer in (None, GITHUB_ISSUER) else role_issuer,
        profile=request.profile,
        github_api_url=request.github_api_url,
    )


def _fix(
    aws: Aws, request: ExplainRequest, found: role.Role, verdict: Verdict, role_issuer: str | None
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
    setting = _setting(aws, request, repository, role_issuer)
    return "", oidc_fix_command(setting, union_of(kept, verdict.scope or Scopes()))


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
            f"pass the --role-name the setup used, or create it: "
            f"ghbootstrap oidc {request.ref.full_name} --no-workflow",
        )
    role_issuer = _role_issuer(found.trust)
    if request.claims is not None:
        candidates = request.claims.per_audience()
        issuer = candidates[0].get("iss") or request.issuer or role_issuer or GITHUB_ISSUER
    else:
        issuer = request.issuer or role_issuer or GITHUB_ISSUER
        gh = github()
        repo = gh.repository(request.ref)
        prefix = subject_prefix(repo, gh.subject_template(repo))
        job = request.job or JobContext()
        candidates = [context_claims(prefix, job, repo.default_branch, issuer)]
    issuer = issuer.rstrip("/")

    arn = oidc_provider_arn(caller.partition, caller.account, issuer)
    provider = oidc_provider.get_provider(aws.iam, arn)
    trusted = Provider(arn, provider is not None, provider.audiences if provider else ())
    judged = [(claims, judge(found.trust, trusted, issuer, claims)) for claims in candidates]
    claims, verdict = _deciding(judged)
    admits = [
        sub for host in github_hosts(found.trust) for sub in admitted_subjects(found.trust, host)
    ]
    reason, fix = verdict.reason, None
    if not verdict.admitted and verdict.rewrite:
        more, fix = _fix(aws, request, found, verdict, role_issuer)
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
    )
