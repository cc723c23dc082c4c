"""`ghbootstrap oidc`: ECR, push policy, GitHub's OIDC provider, a role only this
repository's chosen contexts may assume, the variables naming it, and a workflow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from ghbootstrap import footprint
from ghbootstrap.aws import oidc_provider, role
from ghbootstrap.aws.eventual_consistency import PRINCIPAL_NOT_YET_VISIBLE, settle
from ghbootstrap.aws.identity import Caller
from ghbootstrap.aws.session import Aws, Client
from ghbootstrap.defaults import GITHUB_ISSUER
from ghbootstrap.delivery import Proposal, deliver
from ghbootstrap.documents import (
    STS_AUDIENCE,
    fingerprint,
    issuer_host,
    oidc_provider_arn,
    same_document,
)
from ghbootstrap.explain import admits
from ghbootstrap.fleet import Entry
from ghbootstrap.flows.shared_steps import (
    VAR_ECR_REPOSITORY,
    VAR_REGION,
    VAR_ROLE_ARN,
    Start,
    plan_ecr,
    plan_environments,
    plan_push_policy,
    plan_variables,
    refuse_foreign,
    start,
    workflow_in_repository,
)
from ghbootstrap.github.api import GitHub, Holder
from ghbootstrap.identity import (
    check_size,
    identity_outputs,
    refuse_another_repository,
    trust_change,
    trust_for,
    unpinned_note,
)
from ghbootstrap.plan import Action, Change, Plan, Step, keep, reconcile
from ghbootstrap.report import Report
from ghbootstrap.subjects import Scopes
from ghbootstrap.target import Names, RepoRef
from ghbootstrap.trust_ownership import Where, changed_by_hand, hand_edits
from ghbootstrap.trusteval import admitted_subjects, github_issuer, github_providers
from ghbootstrap.workflow import OIDC_TEMPLATE, build_file, check_triggers


@dataclass(frozen=True)
class OidcRequest:
    ref: RepoRef
    names: Names
    scopes: Scopes = field(default_factory=Scopes)
    immutable_tags: bool = True
    issuer: str = GITHUB_ISSUER
    workflow_path: Path | None = None  # in the repository, with open_pr
    force: bool = False
    open_pr: bool = False
    job_workflows: tuple[str, ...] = ()  # the only workflows whose jobs it admits

    @classmethod
    def from_entry(cls, entry: Entry, issuer: str) -> OidcRequest:
        """What `oidc` is asked for by an apply file's entry, checked as `oidc` checks
        its options: a workflow needs an exact trigger for every scope."""
        if entry.workflow_path is not None:
            check_triggers(entry.scopes)
        return cls(
            ref=entry.ref,
            names=entry.names,
            scopes=entry.scopes,
            immutable_tags=not entry.mutable_tags,
            issuer=issuer,
            job_workflows=entry.job_workflows,
            **entry.delivery(),
        )


def plan_provider(plan: Plan, setup: Start, issuer: str) -> tuple[str, bool]:
    return plan_account_provider(plan, setup.aws.iam, setup.caller, issuer, setup.ref.tag_value)


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
                    {footprint.TAG_CREATED: created_for},
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


def plan_role(
    plan: Plan,
    setup: Start,
    trust: dict[str, Any],
    record: footprint.OidcGiven,
    environments: Sequence[str],
    *,
    new_provider: bool,
    prefix: str,
    force: bool = False,
) -> str:
    """The role, its trust, and its tags: ownership, the fingerprint of the trust (so
    `status` sees hand edits), what this command was given (so a repair can repeat it;
    where its build workflow is, kept when this run cannot tell), and every environment
    ever given variables (so none is forgotten). Records that do not fit IAM's tag
    limits, and a trust changed by hand (without --force), are refused here, before
    anything is written."""
    iam, name = setup.aws.iam, setup.names.role
    found = role.get_role(iam, name)
    if found is not None:
        refuse_foreign("IAM role", name, found.tags, setup, "--role-name")
        before = footprint.OidcGiven.from_tags(found.tags, name)
        record = replace(record, workflow=footprint.kept_workflow(record.workflow, before))
        if not force:
            refuse_another_repository(found.trust, setup.repo, record.issuer, name)
        if not force and not same_document(found.trust, trust):
            _refuse_hand_edit(setup, found, trust, prefix)
    earlier = footprint.environments_record(found.tags) if found else []
    kept = {*environments, *_still_holding(setup, earlier, environments)}
    every = [e for e in dict.fromkeys(earlier) if e in kept]
    every += [e for e in environments if e not in every]
    tags = footprint.role_tags(setup.ref.tag_value, fingerprint(trust), record, every)
    stale = footprint.stale_tags(found.tags, tags, footprint.ROLE_RECORDS) if found else []

    def update() -> None:
        if not same_document(found.trust if found else {}, trust):
            role.set_trust(iam, name, trust)
        role.set_tags(iam, name, tags, stale)

    plan.add(
        reconcile(
            "IAM role",
            name,
            None if found is None else (found.trust, footprint.ours(found.tags)),
            (trust, tags),
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
            update=update,
            same=_same_role,
            document=trust,
            update_detail=_role_detail(found, trust, issuer_host(record.issuer)),
        )
    )
    return setup.caller.iam_arn("role", name)


def _refuse_hand_edit(setup: Start, found: role.Role, trust: dict[str, Any], prefix: str) -> None:
    """A trust ghbootstrap cannot show it wrote is kept: name what differs, and what this
    run would add to it (the subjects it does not admit yet)."""
    where = Where(setup.repo, prefix, setup.caller.partition, setup.caller.account)
    parts = hand_edits(found.trust, found.tags, found.name, where)
    if not parts:
        return
    to_add = [
        sub
        for arn in sorted(github_providers(trust))
        for host in [github_issuer(arn) or ""]
        for sub in admitted_subjects(trust, host)
        if not any(admits(listed, sub) for listed in admitted_subjects(found.trust, host))
    ]
    raise changed_by_hand(found.name, parts, to_add)


def _still_holding(setup: Start, earlier: Sequence[str], now: Sequence[str]) -> list[str]:
    """The environments an earlier run configured and this one does not, whose variable
    still names this role: they stay on record until `destroy` cleans them. The others
    drop off, so the record cannot grow without end."""
    arn = setup.caller.iam_arn("role", setup.names.role)
    return [
        env
        for env in dict.fromkeys(earlier)
        if env not in now
        and setup.gh.variable(Holder(setup.repo.owner, setup.repo.name, env), VAR_ROLE_ARN) == arn
    ]


def _same_role(
    found: tuple[dict[str, Any], dict[str, str]], wanted: tuple[dict[str, Any], dict[str, str]]
) -> bool:
    return same_document(found[0], wanted[0]) and found[1] == wanted[1]


def _role_detail(found: role.Role | None, trust: dict[str, Any], host: str) -> str:
    if found is None:
        return ""
    if same_document(found.trust, trust):
        return "its record of this setup differs"
    return trust_change(found.trust, trust, host)


def plan_attachment(plan: Plan, setup: Start, policy_arn: str) -> None:
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


@dataclass(frozen=True)
class Planned:
    """What `plan_setup` planned: the names the report and the workflow need."""

    ecr_repository: str
    role_arn: str
    outputs: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def plan_setup(
    plan: Plan, setup: Start, request: OidcRequest, provider: tuple[str, bool] | None = None
) -> Planned:
    """Everything `oidc` sets up but the workflow: read, compared, planned (not applied).
    `migrate` plans its role through this too. `provider`: the account's provider ARN and
    whether it is new, when `apply` has already settled it once for every repository;
    else this plans it."""
    aws, gh = setup.aws, setup.gh
    template = gh.subject_template(setup.repo)
    ecr_target = plan_ecr(plan, setup, immutable=request.immutable_tags)
    policy_arn = plan_push_policy(plan, setup, ecr_target.arn)
    if provider is None:
        provider_arn, new_provider = plan_provider(plan, setup, request.issuer)
    else:
        provider_arn, new_provider = provider
    written = trust_for(
        provider_arn,
        request.issuer,
        setup.repo,
        template,
        request.scopes,
        request.job_workflows,
    )
    trust = written.document
    environments = [e.name for e in plan_environments(plan, setup, request.scopes.environments)]
    record = footprint.OidcGiven(
        region=aws.region,
        ecr_repository=ecr_target.name,
        policy=request.names.policy,
        role=request.names.role,
        scopes=request.scopes,
        mutable_tags=not request.immutable_tags,
        issuer=request.issuer,
        ecr_named=request.names.ecr_named,
        job_workflows=request.job_workflows,
        workflow=workflow_in_repository(setup, request.workflow_path, open_pr=request.open_pr),
    )
    role_arn = plan_role(
        plan,
        setup,
        trust,
        record,
        environments,
        new_provider=new_provider,
        prefix=written.prefixes[0],
        force=request.force,
    )
    check_size(written, request.scopes, setup.repo.full_name)  # planned only: nothing written
    plan_attachment(plan, setup, policy_arn)
    plan_variables(
        plan,
        setup,
        [setup.repo_holder, *setup.scopes(environments)],
        {
            VAR_ROLE_ARN: role_arn,
            VAR_REGION: aws.region,
            VAR_ECR_REPOSITORY: ecr_target.name,
        },
        force=request.force,
    )
    return Planned(
        ecr_target.name,
        role_arn,
        {
            "account": setup.caller.account,
            "region": aws.region,
            "ecr_repository": ecr_target.name,
            "ecr_uri": ecr_target.uri,
            "policy_arn": policy_arn,
            "provider_arn": provider_arn,
            "role_arn": role_arn,
            "subjects": admitted_subjects(trust, issuer_host(request.issuer)),
            **identity_outputs(written, setup.repo, request.job_workflows),
        },
        [] if written.pinned else [unpinned_note(request.issuer)],
    )


def run(
    aws: Aws,
    gh: GitHub,
    request: OidcRequest,
    *,
    dry_run: bool,
    provider: tuple[str, bool] | None = None,
) -> Report:
    setup = start(aws, gh, request.ref, request.names)
    plan = Plan()
    planned = plan_setup(plan, setup, request, provider)
    delivered: dict[str, str] = {}
    if request.workflow_path is not None:
        path = request.workflow_path.as_posix() if request.open_pr else str(request.workflow_path)
        build = build_file(
            path, OIDC_TEMPLATE, setup.repo.full_name, request.scopes, setup.repo.default_branch
        )
        proposal = oidc_proposal(setup, planned, build.path)
        delivered = deliver(
            plan, gh, setup.repo, [build], proposal, open_pr=request.open_pr, force=request.force
        )

    changes = plan.execute(dry_run=dry_run).changes
    return Report(
        command="oidc",
        repository=setup.repo.full_name,
        dry_run=dry_run,
        changes=changes,
        outputs={**planned.outputs, **delivered},
        notes=planned.notes,
    )


def admitted(planned: Planned) -> str:
    """Who may assume the role, for the pull request's reviewers: the subjects its trust
    admits (so the description changes with the scopes)."""
    return ", ".join(f"`{s}`" for s in planned.outputs["subjects"])


def oidc_proposal(setup: Start, planned: Planned, path: str) -> Proposal:
    return Proposal(
        title="Build and push images to Amazon ECR (ghbootstrap)",
        body=(
            f"ghbootstrap connected {setup.repo.full_name} to Amazon ECR repository "
            f"`{planned.ecr_repository}` in {setup.aws.region}. The workflow signs in with "
            f"GitHub's OIDC token as the IAM role `{planned.role_arn}`, which only jobs whose "
            f"token's subject is one of {admitted(planned)} may assume: no AWS key is stored "
            "anywhere. "
            "The Actions variables AWS_ROLE_ARN, AWS_REGION and ECR_REPOSITORY name them.\n\n"
            f"Merging this pull request adds (or upgrades) `{path}`. From then on each run "
            "builds the image from the repository's Dockerfile and pushes it to ECR, tagged "
            "with the commit SHA. ghbootstrap upgrades the file on later runs as long as "
            "it is left unchanged."
        ),
    )
