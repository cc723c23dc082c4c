"""Steps both setup paths share: the ECR repository, the push policy, environments and
variables. Each reads, compares and adds one planned step; nothing here writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ghbootstrap import footprint
from ghbootstrap.aws import ecr, policy
from ghbootstrap.aws.identity import Caller, whoami
from ghbootstrap.aws.session import Aws
from ghbootstrap.checkout import repository_path
from ghbootstrap.documents import ecr_repository_arn, lifecycle_policy, push_policy
from ghbootstrap.errors import ConflictError, GitHubError, VariableTaken
from ghbootstrap.footprint import VAR_ECR_REPOSITORY, VAR_REGION, VAR_ROLE_ARN
from ghbootstrap.github.api import GitHub, Holder
from ghbootstrap.hosts import web_host
from ghbootstrap.plan import Action, Change, Plan, Step, keep, reconcile
from ghbootstrap.subjects import GitHubRepo
from ghbootstrap.target import Names, RepoRef

__all__ = ["VAR_ECR_REPOSITORY", "VAR_REGION", "VAR_ROLE_ARN"]

_DNS_SUFFIX = {"aws-cn": "amazonaws.com.cn"}


@dataclass(frozen=True)
class Start:
    """Where a command starts: who the caller is, and the repository as GitHub names it."""

    aws: Aws
    gh: GitHub
    ref: RepoRef
    names: Names
    caller: Caller
    repo: GitHubRepo

    @property
    def owner_tags(self) -> footprint.Tags:
        return footprint.ownership(self.ref.tag_value)

    @property
    def repo_holder(self) -> Holder:
        return Holder(self.repo.owner, self.repo.name)

    def scopes(self, environments: Sequence[str]) -> list[Holder]:
        return [Holder(self.repo.owner, self.repo.name, env) for env in environments]


def start(aws: Aws, gh: GitHub, ref: RepoRef, names: Names) -> Start:
    """Check both sides up front: who we are on AWS, and what GitHub lets us do."""
    caller = whoami(aws.sts)
    repo = gh.repository(ref)
    if not repo.can_push:
        raise GitHubError(
            f"your GitHub account can only read {repo.full_name}",
            "writing Actions variables and secrets needs write access to the repository",
            status=403,
        )
    return Start(aws, gh, ref, names, caller, repo)


def workflow_in_repository(setup: Start, path: Path | None, *, open_pr: bool) -> str | None:
    """The path in the repository of the build workflow a run writes at `path` (None: it
    writes none, or a local file no checkout of OWNER/REPO holds, so where it lands is not
    known). The setup's record keeps it, so later commands find that file."""
    if path is None:
        return None
    return repository_path(path, setup.ref, web_host(setup.gh.api_url), open_pr=open_pr)


def refuse_foreign(
    kind: str, name: str, found_tags: Mapping[str, str], setup: Start, flag: str
) -> None:
    """Never take over a resource that ghbootstrap did not make for this repository."""
    if not footprint.owned_by(found_tags, setup.ref.tag_value):
        raise ConflictError(
            f"{kind} {name} exists and was not made by ghbootstrap for {setup.ref.tag_value}",
            f"choose another name with {flag}, or remove it yourself",
        )


@dataclass(frozen=True)
class EcrTarget:
    name: str
    arn: str
    uri: str


def plan_ecr(plan: Plan, setup: Start, *, immutable: bool) -> EcrTarget:
    """Create the repository, or reuse it; settings are kept in line only if we made it.
    One ghbootstrap made for another repository is shared only when both name it with
    --ecr-repo, and the sharing is recorded on it (so `destroy` keeps it for the other)."""
    client, name, caller = setup.aws.ecr, setup.names.ecr_repository, setup.caller
    found = ecr.get_repository(client, name)
    suffix = _DNS_SUFFIX.get(caller.partition, "amazonaws.com")
    target = EcrTarget(
        name=name,
        arn=ecr_repository_arn(caller.partition, setup.aws.region, caller.account, name),
        uri=f"{caller.account}.dkr.ecr.{setup.aws.region}.{suffix}/{name}",
    )
    named = setup.names.ecr_named
    if found is None:
        plan.add(
            Step(
                _create_change(name, immutable),
                partial(
                    ecr.create_repository,
                    client,
                    name,
                    immutable=immutable,
                    tag=footprint.ecr_tags([setup.ref.tag_value], named),
                ),
            )
        )
    elif not footprint.made_by_ghbootstrap(found.tags):
        plan.add(keep("ECR repository", name, "exists, not made by ghbootstrap: reused as it is"))
        return EcrTarget(found.name, found.arn, found.uri)
    elif not footprint.owned_by(found.tags, setup.ref.tag_value):
        _plan_shared_ecr(plan, setup, found)
        return EcrTarget(found.name, found.arn, found.uri)
    else:
        plan.add(
            reconcile(
                "ECR repository",
                name,
                (found.immutable, found.scan_on_push),
                (immutable, True),
                create=lambda: None,
                update=partial(
                    ecr.set_settings, client, name, immutable=immutable, scan_on_push=True
                ),
                update_detail=f"tag immutability {'on' if immutable else 'off'}, scan on push",
            )
        )
        if named and footprint.TAG_NAMED not in found.tags:
            mark = {footprint.TAG_NAMED: "yes"}
            plan.add(
                Step(
                    Change("ECR repository tag", name, Action.UPDATE, "named with --ecr-repo"),
                    partial(ecr.set_tags, client, found.arn, mark),
                )
            )
        target = EcrTarget(found.name, found.arn, found.uri)
    wanted = lifecycle_policy()
    plan.add(
        reconcile(
            "ECR lifecycle policy",
            name,
            None if found is None else ecr.get_lifecycle_policy(client, name),
            wanted,
            create=partial(ecr.put_lifecycle_policy, client, name, wanted),
            update=partial(ecr.put_lifecycle_policy, client, name, wanted),
            document=wanted,
        )
    )
    return target


def _plan_shared_ecr(plan: Plan, setup: Start, found: ecr.Repository) -> None:
    users, key, name = footprint.ecr_users(found.tags), setup.ref.tag_value, found.name
    if key in users:
        plan.add(keep("ECR repository", name, f"shared on purpose: made for {users[0]}"))
        return
    if not (setup.names.ecr_named and footprint.TAG_NAMED in found.tags):
        raise ConflictError(
            f"ECR repository {name} was made by ghbootstrap for {users[0]}, not for {key}",
            f"choose another name with --ecr-repo, or share it on purpose: pass --ecr-repo "
            f"{name} to the setups of both {users[0]} and {key}",
        )
    wanted = footprint.ecr_tags([*users, key], named=True)
    plan.add(
        Step(
            Change("ECR repository", name, Action.UPDATE, f"shared with {', '.join(users)}"),
            partial(ecr.set_tags, setup.aws.ecr, found.arn, wanted),
        )
    )


def _create_change(name: str, immutable: bool) -> Change:
    settings = "immutable tags" if immutable else "mutable tags"
    return Change("ECR repository", name, Action.CREATE, f"{settings}, scan on push, AES256")


def plan_push_policy(plan: Plan, setup: Start, repository_arn: str) -> str:
    iam, name = setup.aws.iam, setup.names.policy
    arn = setup.caller.iam_arn("policy", name)
    found = policy.get_policy(iam, arn)
    if found is not None:
        refuse_foreign("IAM policy", name, found.tags, setup, "--policy-name")
    wanted = push_policy(repository_arn)
    plan.add(
        reconcile(
            "IAM policy",
            name,
            None if found is None else found.document,
            wanted,
            create=partial(
                policy.create_policy,
                iam,
                name,
                wanted,
                setup.owner_tags,
                f"Push to ECR repository {setup.names.ecr_repository} (ghbootstrap)",
            ),
            update=partial(policy.set_document, iam, arn, wanted),
            document=wanted,
            update_detail="document differs: adds a version",
        )
    )
    return arn


@dataclass(frozen=True)
class PlannedEnvironment:
    name: str  # as GitHub spells it
    exists: bool  # False: the plan creates it


def plan_environments(
    plan: Plan, setup: Start, environments: Sequence[str]
) -> list[PlannedEnvironment]:
    """Create missing GitHub environments; say how GitHub spells each, and which exist."""
    planned = []
    for env in environments:
        found = setup.gh.environment(setup.repo, env)
        if found is None and not setup.repo.is_admin:
            raise GitHubError(
                f"environment {env} does not exist in {setup.repo.full_name}, and creating "
                "it needs admin access to the repository",
                "ask an admin to create it, then run the command again",
                status=403,
            )
        plan.add(
            reconcile(
                "GitHub environment",
                env,
                found,
                found or env,
                create=partial(setup.gh.create_environment, setup.repo, env),
            )
        )
        planned.append(PlannedEnvironment(found or env, found is not None))
    return planned


def plan_variables(
    plan: Plan,
    setup: Start,
    scopes: Sequence[Holder],
    values: Mapping[str, str],
    *,
    force: bool = False,
) -> None:
    """Set each variable. One that holds another value may be someone else's: ghbootstrap
    cannot show it wrote it, so it is refused (before any write) unless --force."""
    gh = setup.gh
    for scope in scopes:
        for name, value in values.items():
            found = gh.variable(scope, name)
            label = f"{name} ({scope.label})"
            if found is not None and found != value and not force:
                raise VariableTaken(
                    f"GitHub variable {label} holds {found!r}, which ghbootstrap did not write",
                    "pass --force to overwrite it, or remove it yourself",
                )
            plan.add(
                reconcile(
                    "GitHub variable",
                    label,
                    found,
                    value,
                    create=partial(gh.create_variable, scope, name, value),
                    update=partial(gh.update_variable, scope, name, value),
                )
            )
