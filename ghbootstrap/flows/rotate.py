"""`ghbootstrap rotate`: replace the access key GitHub holds, safely (see key_install)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

from ghbootstrap.aws import tags, user
from ghbootstrap.aws.identity import whoami
from ghbootstrap.aws.session import Aws
from ghbootstrap.errors import GhbError
from ghbootstrap.flows import key_install
from ghbootstrap.footprint import KeysGiven
from ghbootstrap.github.api import GitHub, Holder
from ghbootstrap.keyrecord import KeyRecord
from ghbootstrap.plan import Action, Change, Plan, Step
from ghbootstrap.repairs import keys_command
from ghbootstrap.report import Report
from ghbootstrap.target import Names, RepoRef


@dataclass(frozen=True)
class RotateRequest:
    ref: RepoRef
    user: str
    environment: str | None = None
    keep_old_active: bool = False
    propagation_timeout: float = 120.0
    # as the user gave them: a printed command reaches the same account and GitHub
    profile: str | None = None
    github_api_url: str | None = None


def _never_bootstrapped(request: RotateRequest) -> GhbError:
    return GhbError(
        f"IAM user {request.user} holds no key ghbootstrap installed for {request.ref.tag_value}",
        f"set it up first with `ghbootstrap keys {request.ref.full_name}` "
        "(and the same --user-name)",
    )


def _take_over(aws: Aws, request: RotateRequest, found: user.User, environment: str | None) -> str:
    """How to let ghbootstrap take over secrets it did not write: `keys` as the user's
    record says it was last run, with --force."""
    setup = KeysGiven.from_tags(found.tags, found.name)
    if setup is None:  # a user made before the record: only its maker knows the names
        return (
            "if ghbootstrap should take them over, run `ghbootstrap keys` again with the "
            "options the setup used and --force"
        )
    defaults = Names.resolve(request.ref, user=request.user)
    names = replace(
        defaults,
        ecr_repository=setup.ecr_repository,
        policy=setup.policy,
        ecr_named=setup.ecr_named,
    )
    command = keys_command(
        request.ref,
        setup.region or aws.region,  # the setup's, whichever region rotate was given
        names,
        environment,
        mutable_tags=setup.mutable_tags,
        force=True,
        profile=request.profile,
        github_api_url=request.github_api_url,
    )
    return f"if ghbootstrap should take over what is there, run `{command}`"


def run(aws: Aws, gh: GitHub, request: RotateRequest, *, dry_run: bool) -> Report:
    whoami(aws.sts)
    repo = gh.repository(request.ref)
    found = user.get_user(aws.iam, request.user)
    if found is None or not tags.owned_by(found.tags, request.ref.tag_value):
        raise _never_bootstrapped(request)
    if not KeyRecord.from_tags(found.tags).held:
        raise _never_bootstrapped(request)
    environment = request.environment
    if environment is not None:
        environment = gh.environment(repo, environment)
        if environment is None:
            raise GhbError(
                f"GitHub environment {request.environment} does not exist in {repo.full_name}",
                "pass the --environment that `ghbootstrap keys` used",
            )
    ctx = key_install.KeyContext(
        aws=aws,
        gh=gh,
        user=request.user,
        scope=Holder(repo.owner, repo.name, environment),
        keep_old_active=request.keep_old_active,
        propagation_timeout=request.propagation_timeout,
    )
    state = key_install.read_state(ctx)
    key_install.refuse_unsafe(
        ctx, state, take_over=False, fix=_take_over(aws, request, found, environment)
    )

    plan = Plan()
    step = plan.add(
        Step(
            Change(
                "access key",
                request.user,
                Action.UPDATE,
                "; ".join(key_install.describe(state, ctx)),
            ),
            partial(key_install.rotate, ctx, state),
        )
    )
    done = plan.execute(dry_run=dry_run)
    outputs = {"user_arn": found.arn, "previous_key": state.record.held}
    new_key = done.results.get(step)
    if isinstance(new_key, str):
        outputs["access_key_id"] = new_key
    return Report("rotate", repo.full_name, dry_run, done.changes, outputs)
