"""`ghbootstrap keys`: the workshop's access-key path, done safely.

Same ECR repository and least-privilege policy as `oidc`; an IAM user (never a console
login) with that policy; one access key, sealed into GitHub Actions secrets; the region
and repository as variables; a build-and-push workflow; and, with a rotation schedule, the
right for the user to rotate its own key plus a workflow that does it on cron.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from ghbootstrap import footprint
from ghbootstrap.aws import user
from ghbootstrap.aws.eventual_consistency import settle
from ghbootstrap.aws.session import Aws
from ghbootstrap.delivery import Proposal, deliver
from ghbootstrap.documents import self_rotation_policy
from ghbootstrap.fleet import Entry
from ghbootstrap.flows import key_install
from ghbootstrap.flows.shared_steps import (
    VAR_ECR_REPOSITORY,
    VAR_REGION,
    Start,
    plan_ecr,
    plan_environments,
    plan_push_policy,
    plan_variables,
    refuse_foreign,
    start,
    workflow_in_repository,
)
from ghbootstrap.footprint import KeysGiven
from ghbootstrap.github.api import GitHub, Holder
from ghbootstrap.plan import Action, Change, Plan, Step, keep, reconcile
from ghbootstrap.report import Report
from ghbootstrap.subjects import Scopes
from ghbootstrap.target import Names, RepoRef
from ghbootstrap.workflow import (
    KEYS_TEMPLATE,
    ROTATE_FILENAME,
    WorkflowFile,
    build_file,
    rotation_file,
)

SELF_ROTATION_POLICY = "ghbootstrap-self-rotation"


@dataclass(frozen=True)
class KeysRequest:
    ref: RepoRef
    names: Names
    environment: str | None = None
    immutable_tags: bool = True
    workflow_path: Path | None = None
    rotation_schedule: str | None = None
    rotation_workflow_path: Path | None = None
    force: bool = False
    open_pr: bool = False
    propagation_timeout: float = 120.0

    @classmethod
    def from_entry(cls, entry: Entry) -> KeysRequest:
        """What `keys` is asked for by an apply file's entry."""
        return cls(
            ref=entry.ref,
            names=entry.names,
            environment=entry.environment,
            immutable_tags=not entry.mutable_tags,
            rotation_schedule=entry.rotation_schedule,
            **entry.delivery(),
        )


def plan_user(plan: Plan, setup: Start, record: KeysGiven) -> bool:
    """Create the CI user if missing, with the record of what `keys` was given (so later
    commands can repeat it) and where its build workflow is (a run that writes none, or
    cannot tell, keeps the one recorded); bring the record in line. Returns whether the
    user exists."""
    iam, name = setup.aws.iam, setup.names.user
    found = user.get_user(iam, name)
    if found is not None:
        before = KeysGiven.from_tags(found.tags, name)
        record = replace(record, workflow=footprint.kept_workflow(record.workflow, before))
    wanted = record.to_tags()
    if found is None:
        plan.add(
            Step(
                Change("IAM user", name, Action.CREATE, "no console login"),
                partial(user.create_user, iam, name, {**setup.owner_tags, **wanted}),
            )
        )
        return False
    refuse_foreign("IAM user", name, found.tags, setup, "--user-name")
    stale = footprint.stale_tags(found.tags, wanted, footprint.USER_RECORDS)
    plan.add(
        reconcile(
            "IAM user",
            name,
            footprint.user_record(found.tags),
            wanted,
            create=lambda: None,
            update=partial(user.set_tags, iam, name, wanted, stale),
            update_detail="records the region and names this setup was given",
        )
    )
    return True


def plan_user_policies(plan: Plan, setup: Start, policy_arn: str, *, self_rotation: bool) -> None:
    iam, name = setup.aws.iam, setup.names.user
    attached = policy_arn in user.attached_policies(iam, name)
    plan.add(
        reconcile(
            "policy attachment",
            f"{setup.names.policy} -> user {name}",
            True if attached else None,
            True,
            create=partial(settle, partial(user.attach_policy, iam, name, policy_arn)),
        )
    )
    if not self_rotation:
        return
    wanted = self_rotation_policy(setup.caller.iam_arn("user", name))
    plan.add(
        reconcile(
            "IAM inline policy",
            f"{SELF_ROTATION_POLICY} (user {name})",
            user.inline_policy(iam, name, SELF_ROTATION_POLICY),
            wanted,
            create=partial(
                settle, partial(user.put_inline_policy, iam, name, SELF_ROTATION_POLICY, wanted)
            ),
            update=partial(user.put_inline_policy, iam, name, SELF_ROTATION_POLICY, wanted),
            document=wanted,
        )
    )


def plan_key(
    plan: Plan,
    ctx: key_install.KeyContext,
    *,
    user_exists: bool,
    scope_exists: bool,
    force: bool,
) -> Step:
    """One key that GitHub holds: create it only when GitHub holds none. Secrets that
    ghbootstrap cannot show it wrote are replaced only with --force. The step's write
    returns the id of the key it installed."""
    where = f"secrets {key_install.SECRET_ID}, {key_install.SECRET_KEY} of {ctx.scope.label}"
    if scope_exists:
        ctx.gh.public_key(ctx.scope)  # fetched once, and proves the token can read secrets
    state = key_install.read_state(ctx) if user_exists or scope_exists else None
    if state is not None:
        key_install.refuse_unsafe(
            ctx,
            state,
            take_over=force,
            fix=f"pass --force to replace what is there with a new key of IAM user {ctx.user}",
        )
        if state.adopted:
            plan.add(
                Step(
                    Change(
                        "key record", ctx.user, Action.UPDATE, key_install.adopted_detail(state)
                    ),
                    partial(key_install.record_adopted, ctx, state),
                )
            )
        if state.held_in_github and not state.record.pending:
            return plan.add(keep("access key", state.record.held, f"held in {where}"))
    action, detail = Action.CREATE, f"sealed into {where}"
    if state is not None and (state.record.pending or state.record.held):
        action, detail = Action.UPDATE, "; ".join(key_install.describe(state, ctx))
    if state is not None and state.foreign_secrets and not state.record.pending:
        detail += f"; takes over {', '.join(state.foreign_secrets)} (--force)"
    return plan.add(
        Step(
            Change("access key", ctx.user, action, detail), partial(key_install.ensure, ctx, state)
        )
    )


def plan_workflows(
    plan: Plan, setup: Start, request: KeysRequest, environment: str | None, ecr_repository: str
) -> dict[str, str]:
    if request.workflow_path is None:
        return {}

    def where(path: Path) -> str:
        return path.as_posix() if request.open_pr else str(path)

    scopes = Scopes.parse(environments=[environment] if environment else [])
    files = [
        build_file(
            where(request.workflow_path),
            KEYS_TEMPLATE,
            setup.repo.full_name,
            scopes,
            setup.repo.default_branch,
        )
    ]
    if request.rotation_schedule:
        path = request.rotation_workflow_path or request.workflow_path.with_name(ROTATE_FILENAME)
        files.append(
            rotation_file(
                where(path),
                setup.repo.full_name,
                request.rotation_schedule,
                request.names.user,
                setup.aws.region,
                request.environment,
                environment,
            )
        )
    proposal = keys_proposal(setup, request, environment, ecr_repository, files)
    return deliver(
        plan, setup.gh, setup.repo, files, proposal, open_pr=request.open_pr, force=request.force
    )


def keys_proposal(
    setup: Start,
    request: KeysRequest,
    environment: str | None,
    ecr_repository: str,
    files: list[WorkflowFile],
) -> Proposal:
    where = f"environment {environment}" if environment else "the repository"
    body = (
        f"ghbootstrap connected {setup.repo.full_name} to Amazon ECR repository "
        f"`{ecr_repository}` in {setup.aws.region} with the IAM user `{request.names.user}`, "
        f"whose access key is sealed into the Actions secrets {key_install.SECRET_ID} and "
        f"{key_install.SECRET_KEY} of {where}.\n\n"
        f"Merging this pull request adds (or upgrades) `{files[0].path}`: each run builds the "
        "image from the repository's Dockerfile and pushes it to ECR, tagged with the "
        "commit SHA."
    )
    if request.rotation_schedule:
        body += (
            f" It also adds `{files[1].path}`, which runs `ghbootstrap rotate` on the schedule "
            f"`{request.rotation_schedule}` (UTC) to replace the key; it needs a secret "
            "GHBOOTSTRAP_GITHUB_TOKEN that may write this repository's Actions secrets."
        )
    body += " ghbootstrap upgrades these files on later runs as long as they are left unchanged."
    return Proposal(title="Build and push images to Amazon ECR (ghbootstrap)", body=body)


def run(aws: Aws, gh: GitHub, request: KeysRequest, *, dry_run: bool) -> Report:
    setup = start(aws, gh, request.ref, request.names)
    plan = Plan()
    ecr_target = plan_ecr(plan, setup, immutable=request.immutable_tags)
    policy_arn = plan_push_policy(plan, setup, ecr_target.arn)
    record = KeysGiven(
        region=aws.region,
        ecr_repository=ecr_target.name,
        policy=request.names.policy,
        user=request.names.user,
        mutable_tags=not request.immutable_tags,
        ecr_named=request.names.ecr_named,
        workflow=workflow_in_repository(setup, request.workflow_path, open_pr=request.open_pr),
    )
    user_exists = plan_user(plan, setup, record)
    plan_user_policies(plan, setup, policy_arn, self_rotation=bool(request.rotation_schedule))
    environment, scope_exists = None, True
    if request.environment:
        [planned] = plan_environments(plan, setup, [request.environment])
        environment, scope_exists = planned.name, planned.exists
    scope = Holder(setup.repo.owner, setup.repo.name, environment)
    ctx = key_install.KeyContext(
        aws=aws,
        gh=gh,
        user=request.names.user,
        scope=scope,
        propagation_timeout=request.propagation_timeout,
    )
    key_step = plan_key(
        plan, ctx, user_exists=user_exists, scope_exists=scope_exists, force=request.force
    )
    plan_variables(
        plan,
        setup,
        [scope],
        {VAR_REGION: aws.region, VAR_ECR_REPOSITORY: ecr_target.name},
        force=request.force,
    )
    delivered = plan_workflows(plan, setup, request, environment, ecr_target.name)

    done = plan.execute(dry_run=dry_run)
    outputs = {
        "account": setup.caller.account,
        "region": aws.region,
        "ecr_repository": ecr_target.name,
        "ecr_uri": ecr_target.uri,
        "policy_arn": policy_arn,
        "user_arn": setup.caller.iam_arn("user", request.names.user),
    }
    key_id = done.results.get(key_step) if key_step.apply else key_step.change.name
    if isinstance(key_id, str):
        outputs["access_key_id"] = key_id
    outputs.update(delivered)
    return Report("keys", setup.repo.full_name, dry_run, done.changes, outputs)
