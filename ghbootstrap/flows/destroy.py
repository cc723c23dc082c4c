"""`ghbootstrap destroy`: remove what the tool made for one repository, and nothing else.

Only what carries the tool's tag for this repository, in an order AWS accepts: GitHub's
variables and secrets first (so CI stops using the setup cleanly), then policies detached
before roles and users are deleted, keys before their user, non-default policy versions
before their policy. The OIDC provider stays while any other role trusts it; an ECR
repository holding images stays unless --delete-images. Workflow files and GitHub
environments are left for you: they live in your repository's history and settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from types import ModuleType

from ghbootstrap.aws import access_keys, ecr, oidc_provider, policy, role, tags, user
from ghbootstrap.aws.identity import whoami
from ghbootstrap.aws.session import Aws
from ghbootstrap.errors import GhbError
from ghbootstrap.flows.common import VAR_ECR_REPOSITORY, VAR_REGION, VAR_ROLE_ARN
from ghbootstrap.flows.keyswap import SECRET_ID, SECRET_KEY
from ghbootstrap.flows.oidc import TAG_ENVIRONMENTS
from ghbootstrap.github.api import GitHub, Scope
from ghbootstrap.keyrecord import KeyRecord
from ghbootstrap.plan import Action, Change, Plan, Report, Step, keep
from ghbootstrap.subjects import GitHubRepo
from ghbootstrap.target import Names, RepoRef
from ghbootstrap.trusteval import github_providers

Confirm = Callable[[list[Change]], bool]


@dataclass(frozen=True)
class DestroyRequest:
    ref: RepoRef
    names: Names
    delete_images: bool = False


def _delete(resource: str, name: str, apply: Callable[[], object], detail: str = "") -> Step:
    return Step(Change(resource, name, Action.DELETE, detail), apply)


def _plan_variables(plan: Plan, gh: GitHub, scope: Scope, ours: dict[str, str]) -> None:
    """Delete a variable only if it still holds the value ghbootstrap set."""
    for name, value in ours.items():
        found = gh.variable(scope, name)
        label = f"{name} ({scope.label})"
        if found is None:
            continue
        if found == value:
            plan.add(_delete("GitHub variable", label, partial(gh.delete_variable, scope, name)))
        else:
            plan.add(keep("GitHub variable", label, "holds another value now: left alone"))


def _role_scopes(repo: GitHubRepo, found: role.Role) -> list[Scope]:
    environments = [e for e in found.tags.get(TAG_ENVIRONMENTS, "").split(",") if e]
    return [Scope(repo.owner, repo.name, env) for env in [None, *environments]]


def _user_scope(repo: GitHubRepo, found: user.User) -> Scope:
    scope = KeyRecord.from_tags(found.tags).scope
    environment = scope.removeprefix("environment:") if scope.startswith("environment:") else None
    return Scope(repo.owner, repo.name, environment)


def _plan_policies_of(plan: Plan, aws: Aws, kind: str, name: str, api: ModuleType) -> None:
    """Detach managed and delete inline policies: IAM will not delete a role or user
    that still has any. `api` is the aws.role or aws.user module."""
    iam = aws.iam
    for arn in sorted(api.attached_policies(iam, name)):
        detach = partial(api.detach_policy, iam, name, arn)
        plan.add(_delete("policy attachment", f"{arn} -> {kind} {name}", detach))
    for policy_name in api.inline_policies(iam, name):
        remove = partial(api.delete_inline_policy, iam, name, policy_name)
        plan.add(_delete("IAM inline policy", f"{policy_name} ({kind} {name})", remove))


def _plan_role(plan: Plan, aws: Aws, found: role.Role) -> None:
    _plan_policies_of(plan, aws, "role", found.name, role)
    plan.add(_delete("IAM role", found.name, partial(role.delete_role, aws.iam, found.name)))


def _plan_secrets(plan: Plan, gh: GitHub, scope: Scope, found: user.User) -> None:
    record = KeyRecord.from_tags(found.tags)
    if not (record.held or record.pending):
        return
    for name in (SECRET_ID, SECRET_KEY):
        if gh.secret(scope, name) is not None:
            plan.add(
                _delete(
                    "GitHub secret",
                    f"{name} ({scope.label})",
                    partial(gh.delete_secret, scope, name),
                )
            )


def _plan_user(plan: Plan, aws: Aws, found: user.User) -> None:
    iam = aws.iam
    _plan_policies_of(plan, aws, "user", found.name, user)
    for key in access_keys.list_keys(iam, found.name):
        remove = partial(access_keys.delete_key, iam, found.name, key.id)
        plan.add(_delete("access key", key.id, remove, key.status.lower()))
    plan.add(_delete("IAM user", found.name, partial(user.delete_user, iam, found.name)))


def _plan_provider(plan: Plan, aws: Aws, ours: role.Role | None) -> None:
    """The account's provider is shared: delete it only if we made it and no other role
    trusts it."""
    if ours is None:
        return
    plan_provider_removal(plan, aws, github_providers(ours.trust), leaving=ours.name)


def plan_provider_removal(plan: Plan, aws: Aws, arns: set[str], leaving: str | None) -> None:
    """Delete each provider we made that no role but `leaving` trusts."""
    for arn in sorted(arns):
        found = oidc_provider.get_provider(aws.iam, arn)
        if found is None:
            continue
        name = arn.split(":oidc-provider/")[-1]
        others = [
            n
            for n, trust in role.list_roles(aws.iam)
            if n != leaving and arn in github_providers(trust)
        ]
        if oidc_provider.TAG_CREATED not in found.tags:
            plan.add(keep("OIDC provider", name, "not made by ghbootstrap: kept"))
        elif others:
            plan.add(keep("OIDC provider", name, f"kept: {len(others)} other role(s) trust it"))
        else:
            plan.add(
                _delete("OIDC provider", name, partial(oidc_provider.delete_provider, aws.iam, arn))
            )


def _plan_policy(plan: Plan, aws: Aws, arn: str, name: str, key: str, detaching: int) -> None:
    found = policy.get_policy(aws.iam, arn)
    if found is None or not tags.owned_by(found.tags, key):
        return
    if found.attachments > detaching:
        plan.add(
            keep("IAM policy", name, "kept: still attached to something ghbootstrap did not make")
        )
        return
    plan.add(_delete("IAM policy", name, partial(policy.delete_policy, aws.iam, arn)))


def _plan_ecr(plan: Plan, aws: Aws, name: str, key: str, delete_images: bool) -> None:
    found = ecr.get_repository(aws.ecr, name)
    if found is None or not tags.owned_by(found.tags, key):
        return
    if ecr.has_images(aws.ecr, name) and not delete_images:
        plan.add(
            keep(
                "ECR repository",
                name,
                "kept: it holds images; pass --delete-images to delete them too",
            )
        )
        return
    plan.add(
        _delete(
            "ECR repository",
            name,
            partial(ecr.delete_repository, aws.ecr, name, force=delete_images),
        )
    )


def run(
    aws: Aws, gh: GitHub, request: DestroyRequest, *, dry_run: bool, confirm: Confirm
) -> Report:
    caller = whoami(aws.sts)
    repo = gh.repository(request.ref)
    names, key = request.names, request.ref.key
    base = {VAR_REGION: aws.region, VAR_ECR_REPOSITORY: names.ecr_repository}
    found_role = role.get_role(aws.iam, names.role)
    found_user = user.get_user(aws.iam, names.user)
    found_role = found_role if found_role and tags.owned_by(found_role.tags, key) else None
    found_user = found_user if found_user and tags.owned_by(found_user.tags, key) else None

    plan = Plan()
    # GitHub first, so CI stops using the setup before it disappears.
    variables: dict[Scope, dict[str, str]] = {}
    if found_role:
        for scope in _role_scopes(repo, found_role):
            variables.setdefault(scope, {}).update({VAR_ROLE_ARN: found_role.arn, **base})
    if found_user:
        scope = _user_scope(repo, found_user)
        variables.setdefault(scope, {}).update(base)
        _plan_secrets(plan, gh, scope, found_user)
    for scope, ours in variables.items():
        _plan_variables(plan, gh, scope, ours)
    if found_role:
        _plan_role(plan, aws, found_role)
    if found_user:
        _plan_user(plan, aws, found_user)
    policy_arn = caller.iam_arn("policy", names.policy)
    detaching = sum(
        1
        for s in plan.steps
        if s.change.resource == "policy attachment" and s.change.name.startswith(policy_arn)
    )
    _plan_policy(plan, aws, policy_arn, names.policy, key, detaching)
    _plan_provider(plan, aws, found_role)
    _plan_ecr(plan, aws, names.ecr_repository, key, request.delete_images)

    changes = [s.change for s in plan.steps]
    deleting = [c for c in changes if c.action is Action.DELETE]
    if deleting and not dry_run and not confirm(changes):
        raise GhbError("nothing was deleted", "run again and answer y, or pass --yes")
    changes = plan.execute(dry_run=dry_run)
    notes = ["workflow files and GitHub environments are left: remove them yourself if unused"]
    if not changes:
        notes.insert(0, f"nothing made by ghbootstrap for {key} was found")
    return Report("destroy", repo.full_name, dry_run, changes, notes=notes)
