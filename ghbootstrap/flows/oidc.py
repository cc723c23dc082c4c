"""`ghbootstrap oidc`: ECR, push policy, GitHub's OIDC provider, a role only this
repository's chosen contexts may assume, the variables naming it, and a workflow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ghbootstrap.aws import oidc_provider, role
from ghbootstrap.aws.identity import Caller
from ghbootstrap.aws.session import Aws, Client
from ghbootstrap.aws.settle import PRINCIPAL_NOT_YET_VISIBLE, settle
from ghbootstrap.documents import (
    GITHUB_ISSUER,
    STS_AUDIENCE,
    fingerprint,
    issuer_host,
    oidc_provider_arn,
    trust_policy,
)
from ghbootstrap.flows.common import (
    VAR_ECR_REPOSITORY,
    VAR_REGION,
    VAR_ROLE_ARN,
    Setup,
    plan_ecr,
    plan_environments,
    plan_push_policy,
    plan_variables,
    refuse_foreign,
    start,
)
from ghbootstrap.github.api import GitHub
from ghbootstrap.keyrecord import scope_tag
from ghbootstrap.plan import Action, Change, Plan, Report, Step, keep, reconcile
from ghbootstrap.subjects import Scopes, build_subjects, subject_prefix
from ghbootstrap.target import Names, RepoRef
from ghbootstrap.trusteval import admitted_subjects
from ghbootstrap.workflow import OIDC_TEMPLATE, build_workflow, file_step


@dataclass(frozen=True)
class OidcRequest:
    ref: RepoRef
    names: Names
    scopes: Scopes = field(default_factory=Scopes)
    immutable_tags: bool = True
    issuer: str = GITHUB_ISSUER
    workflow_path: Path | None = None
    force: bool = False


def plan_provider(plan: Plan, setup: Setup, issuer: str) -> tuple[str, bool]:
    return plan_account_provider(plan, setup.aws.iam, setup.caller, issuer, setup.ref.key)


def plan_account_provider(
    plan: Plan, iam: Client, caller: Caller, issuer: str, created_for: str
) -> tuple[str, bool]:
    """Reuse the account's provider (adding our audience if missing); never replace it.
    Returns its ARN, and whether this run creates it."""
    arn = oidc_provider_arn(caller.partition, caller.account, issuer)
    found = oidc_provider.get_provider(iam, arn)
    host = issuer_host(issuer)
    if found is None:
        plan.add(
            Step(
                Change("OIDC provider", host, Action.CREATE, f"audience {STS_AUDIENCE}"),
                partial(
                    oidc_provider.create_provider,
                    iam,
                    issuer,
                    STS_AUDIENCE,
                    {oidc_provider.TAG_CREATED: created_for},
                ),
            )
        )
    elif STS_AUDIENCE not in found.audiences:
        plan.add(
            Step(
                Change("OIDC provider", host, Action.UPDATE, f"adds audience {STS_AUDIENCE}"),
                partial(oidc_provider.add_audience, iam, arn, STS_AUDIENCE),
            )
        )
    else:
        plan.add(keep("OIDC provider", host, "shared by the account: reused"))
    return arn, found is None


TAG_TRUST = "ghbootstrap:trust"
TAG_ENVIRONMENTS = "ghbootstrap:environments"


def role_tags(setup: Setup, trust: dict[str, Any], environments: Sequence[str]) -> dict[str, str]:
    """Ownership, the fingerprint of the trust last applied (so `status` sees hand edits)
    and the environments holding variables (so `status` and `destroy` find them)."""
    listed = ",".join(environments)
    fits = all(scope_tag(env) == f"environment:{env}" and "," not in env for env in environments)
    return {
        **setup.owner_tags,
        TAG_TRUST: fingerprint(trust),
        TAG_ENVIRONMENTS: listed if fits else "",
    }


def plan_role(
    plan: Plan,
    setup: Setup,
    trust: dict[str, Any],
    environments: Sequence[str],
    *,
    new_provider: bool,
) -> str:
    iam, name = setup.aws.iam, setup.names.role
    tags = role_tags(setup, trust, environments)
    found = role.get_role(iam, name)
    if found is not None:
        refuse_foreign("IAM role", name, found.tags, setup, "--role-name")
    plan.add(
        reconcile(
            "IAM role",
            name,
            None if found is None else found.trust,
            trust,
            create=partial(
                settle,
                partial(
                    role.create_role,
                    iam,
                    name,
                    trust,
                    tags,
                    f"GitHub Actions OIDC role for {setup.repo.full_name} (ghbootstrap)",
                ),
                # A provider made a moment ago can read as an invalid principal.
                codes=PRINCIPAL_NOT_YET_VISIBLE if new_provider else frozenset(),
            ),
            update=partial(role.set_trust, iam, name, trust, tags),
            document=trust,
            update_detail="trust policy differs",
        )
    )
    return setup.caller.iam_arn("role", name)


def plan_attachment(plan: Plan, setup: Setup, policy_arn: str) -> None:
    iam, name = setup.aws.iam, setup.names.role
    attached = policy_arn in role.attached_policies(iam, name)
    plan.add(
        reconcile(
            "policy attachment",
            f"{setup.names.policy} -> role {name}",
            True if attached else None,
            True,
            create=partial(settle, partial(role.attach_policy, iam, name, policy_arn)),
        )
    )


def run(
    aws: Aws,
    gh: GitHub,
    request: OidcRequest,
    *,
    dry_run: bool,
    provider: tuple[str, bool] | None = None,
) -> Report:
    """`provider`: the account's provider ARN and whether it is new, when `apply` has
    already settled it once for every repository; else this run plans it."""
    setup = start(aws, gh, request.ref, request.names)
    prefix = subject_prefix(setup.repo, gh.subject_template(setup.repo))
    subjects = build_subjects(prefix, request.scopes, setup.repo.default_branch)

    plan = Plan()
    ecr_target = plan_ecr(plan, setup, immutable=request.immutable_tags)
    policy_arn = plan_push_policy(plan, setup, ecr_target.arn)
    if provider is None:
        provider_arn, new_provider = plan_provider(plan, setup, request.issuer)
    else:
        provider_arn, new_provider = provider
    trust = trust_policy(provider_arn, request.issuer, subjects)
    environments = plan_environments(plan, setup, request.scopes.environments)
    role_arn = plan_role(plan, setup, trust, environments, new_provider=new_provider)
    plan_attachment(plan, setup, policy_arn)
    plan_variables(
        plan,
        setup,
        [setup.repo_scope, *setup.scopes(environments)],
        {
            VAR_ROLE_ARN: role_arn,
            VAR_REGION: aws.region,
            VAR_ECR_REPOSITORY: ecr_target.name,
        },
    )
    if request.workflow_path is not None:
        content = build_workflow(
            OIDC_TEMPLATE, setup.repo.full_name, request.scopes, setup.repo.default_branch
        )
        plan.add(file_step(request.workflow_path, content, force=request.force))

    changes = plan.execute(dry_run=dry_run)
    return Report(
        command="oidc",
        repository=setup.repo.full_name,
        dry_run=dry_run,
        changes=changes,
        outputs={
            "account": setup.caller.account,
            "region": aws.region,
            "ecr_repository": ecr_target.name,
            "ecr_uri": ecr_target.uri,
            "policy_arn": policy_arn,
            "provider_arn": provider_arn,
            "role_arn": role_arn,
            "subjects": admitted_subjects(trust, issuer_host(request.issuer)),
        },
    )
