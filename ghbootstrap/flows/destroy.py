"""`ghbootstrap destroy`: remove what the tool made for one repository, and nothing else.

Only what carries the tool's tag for this repository (found by the given or default
names, else by one tag-bearing listing of the account's roles or users, then through
their records, attached policies and the repositories those policies name), in an order
AWS accepts: GitHub's
variables and secrets first (so CI stops using the setup cleanly), then policies detached
before roles and users are deleted, keys before their user, non-default policy versions
before their policy. The OIDC provider stays while any other role trusts it; an ECR
repository holding images stays unless --delete-images, and one another setup shares on
purpose stays (images included) for that setup. Workflow files and GitHub
environments are left for you: they live in your repository's history and settings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from types import ModuleType
from typing import Any

from ghbootstrap import footprint
from ghbootstrap.aws import access_keys, ecr, oidc_provider, policy, role, user
from ghbootstrap.aws.identity import Caller, whoami
from ghbootstrap.aws.session import Aws
from ghbootstrap.errors import GhbError
from ghbootstrap.flows import key_install
from ghbootstrap.footprint import (
    SECRET_ID,
    SECRET_KEY,
    VAR_ECR_REPOSITORY,
    VAR_REGION,
    VAR_ROLE_ARN,
    KeysGiven,
    OidcGiven,
)
from ghbootstrap.github.api import GitHub, Holder
from ghbootstrap.keyrecord import KeyRecord
from ghbootstrap.plan import Action, Change, Plan, Step, keep
from ghbootstrap.report import Report
from ghbootstrap.subjects import GitHubRepo
from ghbootstrap.target import Names, RepoRef
from ghbootstrap.trusteval import github_providers

Confirm = Callable[[list[Change]], bool]


@dataclass(frozen=True)
class DestroyRequest:
    ref: RepoRef
    names: Names
    delete_images: bool = False


@dataclass
class Found:
    """What ghbootstrap made for one repository, as this run found it."""

    roles: list[role.Role] = field(default_factory=list)
    users: list[user.User] = field(default_factory=list)
    policies: list[policy.ManagedPolicy] = field(default_factory=list)
    repositories: list[ecr.Repository] = field(default_factory=list)


def find(aws: Aws, caller: Caller, names: Names, key: str) -> Found:
    """By name first; a name that finds nothing of ours falls back to one listing that
    returns tags (IAM has no tag filter). Policies and ECR repositories are then found
    through the roles' and users' records and attachments, and the policies' documents."""
    iam, ours = aws.iam, partial(_ours, key=key)
    named_role, named_user = role.get_role(iam, names.role), user.get_user(iam, names.user)
    found = Found(
        roles=[named_role]
        if named_role and ours(named_role.tags)
        else role.tagged_roles(iam, ours),
        users=[named_user]
        if named_user and ours(named_user.tags)
        else user.tagged_users(iam, ours),
    )
    records: list[OidcGiven | KeysGiven | None] = [
        OidcGiven.from_tags(r.tags, r.name) for r in found.roles
    ]
    records += [KeysGiven.from_tags(u.tags, u.name) for u in found.users]
    for record in records:
        footprint.same_region(record, aws.region)
    arns = [caller.iam_arn("policy", names.policy)]
    arns += [caller.iam_arn("policy", r.policy) for r in records if r]
    arns += [a for r in found.roles for a in sorted(role.attached_policies(iam, r.name))]
    arns += [a for u in found.users for a in sorted(user.attached_policies(iam, u.name))]
    for arn in dict.fromkeys(arns):
        got = policy.get_policy(iam, arn)
        if got is not None and ours(got.tags):
            found.policies.append(got)
    repositories = [names.ecr_repository, *(r.ecr_repository for r in records if r)]
    for got in found.policies:
        repositories += _repositories_in(got.document, aws.region)
    for name in dict.fromkeys(repositories):
        repository = ecr.get_repository(aws.ecr, name)
        if repository is not None and key in footprint.ecr_users(repository.tags):
            found.repositories.append(repository)
    return found


def _ours(tags: footprint.Tags, key: str) -> bool:
    return footprint.owned_by(tags, key)


def _repositories_in(document: dict[str, Any], region: str) -> list[str]:
    """The ECR repositories in `region` a push policy names."""
    pattern = re.compile(rf"arn:[\w-]+:ecr:{re.escape(region)}:\d+:repository/(.+)")
    statements = document.get("Statement", [])
    names = []
    for statement in statements if isinstance(statements, list) else [statements]:
        resources = statement.get("Resource", [])
        for resource in resources if isinstance(resources, list) else [resources]:
            if match := pattern.fullmatch(str(resource)):
                names.append(match.group(1))
    return names


def delete_step(resource: str, name: str, apply: Callable[[], object], detail: str = "") -> Step:
    return Step(Change(resource, name, Action.DELETE, detail), apply)


def _plan_variables(plan: Plan, gh: GitHub, scope: Holder, ours: dict[str, str]) -> None:
    """Delete a variable only if it still holds the value ghbootstrap set."""
    for name, value in ours.items():
        found = gh.variable(scope, name)
        label = f"{name} ({scope.label})"
        if found is None:
            continue
        if found == value:
            plan.add(
                delete_step("GitHub variable", label, partial(gh.delete_variable, scope, name))
            )
        else:
            plan.add(keep("GitHub variable", label, "holds another value now: left alone"))


def _role_variables(
    repo: GitHubRepo, found: role.Role, region: str, names: Names
) -> dict[Holder, dict[str, str]]:
    """Every scope the role's variables were written to, with the values written there."""
    record = OidcGiven.from_tags(found.tags, found.name)
    given = record.scopes.environments if record else ()
    environments = dict.fromkeys([*given, *footprint.environments_record(found.tags)])
    values = {
        VAR_ROLE_ARN: found.arn,
        VAR_REGION: record.region if record else region,
        VAR_ECR_REPOSITORY: record.ecr_repository if record else names.ecr_repository,
    }
    return {Holder(repo.owner, repo.name, env): values for env in [None, *environments]}


def plan_policies_of(plan: Plan, aws: Aws, kind: str, name: str, api: ModuleType) -> None:
    """Detach managed and delete inline policies: IAM will not delete a role or user
    that still has any. `api` is the aws.role or aws.user module."""
    iam = aws.iam
    for arn in sorted(api.attached_policies(iam, name)):
        detach = partial(api.detach_policy, iam, name, arn)
        plan.add(delete_step("policy attachment", f"{arn} -> {kind} {name}", detach))
    for policy_name in api.inline_policies(iam, name):
        remove = partial(api.delete_inline_policy, iam, name, policy_name)
        plan.add(delete_step("IAM inline policy", f"{policy_name} ({kind} {name})", remove))


def _plan_role(plan: Plan, aws: Aws, found: role.Role) -> None:
    plan_policies_of(plan, aws, "role", found.name, role)
    plan.add(delete_step("IAM role", found.name, partial(role.delete_role, aws.iam, found.name)))


def plan_secrets(plan: Plan, aws: Aws, gh: GitHub, scope: Holder, found: user.User) -> None:
    """Delete a secret only if ghbootstrap wrote it last (key_install's rule: GitHub still
    shows the `updated_at` it reported after ghbootstrap's write, or 0.1.0's timestamps
    prove it): one rewritten since belongs to whoever rewrote it."""
    state = key_install.state_of(aws.iam, gh, scope, found)
    for name, info in ((SECRET_ID, state.id_secret), (SECRET_KEY, state.key_secret)):
        label = f"{name} ({scope.label})"
        if info is None:
            continue
        if name in state.foreign_secrets:
            plan.add(keep("GitHub secret", label, "not written last by ghbootstrap: left alone"))
        else:
            plan.add(delete_step("GitHub secret", label, partial(gh.delete_secret, scope, name)))


def _plan_user(plan: Plan, aws: Aws, found: user.User) -> None:
    iam = aws.iam
    plan_policies_of(plan, aws, "user", found.name, user)
    for key in key_install.removable_keys(iam, found):
        remove = partial(access_keys.delete_key, iam, found.name, key.id)
        plan.add(delete_step("access key", key.id, remove, key.status.lower()))
    plan.add(delete_step("IAM user", found.name, partial(user.delete_user, iam, found.name)))


def _plan_provider(plan: Plan, aws: Aws, ours: list[role.Role]) -> None:
    """The account's provider is shared: delete it only if we made it and no other role
    trusts it."""
    plan_provider_removal(
        plan, aws, {arn for r in ours for arn in github_providers(r.trust)}, {r.name for r in ours}
    )


def plan_provider_removal(plan: Plan, aws: Aws, arns: set[str], leaving: set[str]) -> None:
    """Delete each provider we made that no role but those `leaving` trusts."""
    for arn in sorted(arns):
        found = oidc_provider.get_provider(aws.iam, arn)
        if found is None:
            continue
        name = arn.split(":oidc-provider/")[-1]
        others = [
            n
            for n, trust in role.list_roles(aws.iam)
            if n not in leaving and arn in github_providers(trust)
        ]
        if footprint.TAG_CREATED not in found.tags:
            plan.add(keep("OIDC provider", name, "not made by ghbootstrap: kept"))
        elif others:
            plan.add(keep("OIDC provider", name, f"kept: {len(others)} other role(s) trust it"))
        else:
            plan.add(
                delete_step(
                    "OIDC provider", name, partial(oidc_provider.delete_provider, aws.iam, arn)
                )
            )


def _plan_policy(plan: Plan, aws: Aws, found: policy.ManagedPolicy, detaching: int) -> None:
    name = found.arn.split(":policy/")[-1]
    if found.attachments > detaching:
        plan.add(
            keep("IAM policy", name, "kept: still attached to something ghbootstrap did not make")
        )
        return
    plan.add(delete_step("IAM policy", name, partial(policy.delete_policy, aws.iam, found.arn)))


def _plan_ecr(plan: Plan, aws: Aws, found: ecr.Repository, key: str, delete_images: bool) -> None:
    name = found.name
    others = [u for u in footprint.ecr_users(found.tags) if u != key]
    if others:
        named = footprint.TAG_NAMED in found.tags
        wanted = footprint.ecr_tags(others, named)
        stale = footprint.stale_tags(found.tags, wanted, [footprint.TAG_SHARED])
        plan.add(
            Step(
                Change(
                    "ECR repository",
                    name,
                    Action.UPDATE,
                    f"kept with its images: {', '.join(others)} also use(s) it; "
                    f"no longer records {key}",
                ),
                partial(ecr.set_tags, aws.ecr, found.arn, wanted, stale),
            )
        )
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
        delete_step(
            "ECR repository",
            name,
            partial(ecr.delete_repository, aws.ecr, name, force=delete_images),
        )
    )


def _user_repository(aws: Aws, found: Found, u: user.User, names: Names) -> str:
    """The ECR repository `keys` named in the user's variables: the one its record names,
    else the one its push policy grants, else the given (or default) name."""
    if (recorded := KeysGiven.from_tags(u.tags, u.name)) is not None:
        return recorded.ecr_repository
    attached = user.attached_policies(aws.iam, u.name)
    for p in found.policies:
        if p.arn in attached and (repositories := _repositories_in(p.document, aws.region)):
            return repositories[0]
    return names.ecr_repository


def _attached_to(aws: Aws, found: Found) -> Iterable[str]:
    """Every policy attachment this run removes, by policy ARN."""
    for r in found.roles:
        yield from role.attached_policies(aws.iam, r.name)
    for u in found.users:
        yield from user.attached_policies(aws.iam, u.name)


def run(
    aws: Aws, gh: GitHub, request: DestroyRequest, *, dry_run: bool, confirm: Confirm
) -> Report:
    caller = whoami(aws.sts)
    repo = gh.repository(request.ref)
    names, key = request.names, request.ref.tag_value
    found = find(aws, caller, names, key)

    plan = Plan()
    # GitHub first, so CI stops using the setup before it disappears.
    variables: dict[Holder, dict[str, str]] = {}
    for r in found.roles:
        for scope, values in _role_variables(repo, r, aws.region, names).items():
            variables.setdefault(scope, {}).update(values)
    candidates = [s.environment for s in variables if s.environment]
    for u in found.users:
        base = {VAR_REGION: aws.region, VAR_ECR_REPOSITORY: _user_repository(aws, found, u, names)}
        environment = footprint.secrets_environment(KeyRecord.from_tags(u.tags), candidates)
        if environment is footprint.UNKNOWN:
            plan.add(
                keep(
                    "GitHub secret",
                    f"{SECRET_ID}, {SECRET_KEY}",
                    "kept: they live in an environment only its hash records; remove them yourself",
                )
            )
            continue
        scope = Holder(repo.owner, repo.name, environment)
        plan_secrets(plan, aws, gh, scope, u)
        for name, value in base.items():
            variables.setdefault(scope, {}).setdefault(name, value)
    for scope, ours in variables.items():
        _plan_variables(plan, gh, scope, ours)
    for r in found.roles:
        _plan_role(plan, aws, r)
    for u in found.users:
        _plan_user(plan, aws, u)
    detaching = list(_attached_to(aws, found))
    for p in found.policies:
        _plan_policy(plan, aws, p, detaching.count(p.arn))
    _plan_provider(plan, aws, found.roles)
    for repository in found.repositories:
        _plan_ecr(plan, aws, repository, key, request.delete_images)

    changes = [s.change for s in plan.steps]
    deleting = [c for c in changes if c.action is not Action.KEEP]
    if deleting and not dry_run and not confirm(changes):
        raise GhbError("nothing was deleted", "run again and answer y, or pass --yes")
    changes = plan.execute(dry_run=dry_run).changes
    notes = ["workflow files and GitHub environments are left: remove them yourself if unused"]
    if not changes:
        notes.insert(0, f"nothing made by ghbootstrap for {key} was found")
    return Report("destroy", repo.full_name, dry_run, changes, notes=notes)
