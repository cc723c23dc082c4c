"""`ghbootstrap migrate`: from the access-key setup to OIDC, CI never without a credential.

Two phases, because only GitHub knows when the new workflow is live:

- `run` (phase one) adds and removes nothing CI uses today: it plans what `oidc` plans
  (through `oidc.plan_setup`: the same ECR repository and push policy, the provider, the
  role admitting what the key served, AWS_ROLE_ARN where the key's secrets are), and
  replaces ghbootstrap's own build workflow (at the path `keys` recorded, the job in the
  key's environment) with the OIDC one and deletes its own rotation workflow, locally or in
  one pull request. The user, its key, the secrets and the variables stay.
- `finish` (phase two) first proves the replacement (`replacement.prove`: the role and its
  policy, the variable, the trust admitting what the default branch's build job presents,
  no workflow there reading the key's secrets); only then does it remove the secrets (only
  while they hold the key the record names), every access key, the user's policies and
  the user. The ECR repository, the policy, the role, the provider and the variables stay.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from ghbootstrap import footprint, frozen_v0_1_0, repairs
from ghbootstrap.aws import access_keys, ecr, role, user
from ghbootstrap.aws.session import Aws
from ghbootstrap.checkout import path_in_checkout
from ghbootstrap.defaults import GITHUB_ISSUER, WORKFLOW_PATH
from ghbootstrap.delivery import Proposal, deliver
from ghbootstrap.documents import issuer_host
from ghbootstrap.errors import GhbError, UsageError
from ghbootstrap.fleet import Entry
from ghbootstrap.flows import destroy, key_install, oidc
from ghbootstrap.flows.replacement import Replacement, prove
from ghbootstrap.flows.shared_steps import Start, start
from ghbootstrap.github.api import GitHub, Holder
from ghbootstrap.hosts import issuer_for, presented_issuer, web_host
from ghbootstrap.keyrecord import KeyRecord
from ghbootstrap.plan import Action, Change, Plan
from ghbootstrap.report import Report
from ghbootstrap.subjects import Scopes
from ghbootstrap.target import Names, RepoRef
from ghbootstrap.trusteval import github_hosts
from ghbootstrap.workflow import (
    KEYS_TEMPLATE,
    OIDC_TEMPLATE,
    ROTATE_FILENAME,
    WorkflowFile,
    build_file,
    check_triggers,
    rotation_file,
)

ROTATION_TOKEN = "GHBOOTSTRAP_GITHUB_TOKEN"  # noqa: S105 - the secret's name, not a value
Confirm = Callable[[list[Change]], bool]


@dataclass(frozen=True)
class MigrateRequest:
    ref: RepoRef
    names: Names
    scopes: Scopes = field(default_factory=Scopes)
    workflow_path: Path | None = None  # in the repository with open_pr; None: --no-workflow
    open_pr: bool = False
    workflow_given: bool = False  # --workflow-path was given (else the recorded path)
    checkout: Path | None = None  # the checkout of OWNER/REPO, locally without --workflow-path
    force: bool = False
    profile: str | None = None  # for the printed --finish command
    github_api_url: str | None = None
    issuer: str = GITHUB_ISSUER  # the GitHub host's (`--issuer-url`: the one given)
    # the naming options given (--ecr-repo, --policy-name): the others come from the record
    given: frozenset[str] = frozenset()

    @classmethod
    def from_entry(
        cls, entry: Entry, issuer: str = GITHUB_ISSUER, github_api_url: str | None = None
    ) -> MigrateRequest:
        """What `migrate` is asked for by an apply file's `method = "migrate"` entry,
        checked as `migrate` checks its options: a workflow needs an exact trigger for
        every scope."""
        if entry.workflow_path is not None:
            check_triggers(entry.scopes)
        given = {"--ecr-repo"} if entry.names.ecr_named else set()
        if entry.names.policy != Names.resolve(entry.ref).policy:
            given.add("--policy-name")
        return cls(
            ref=entry.ref,
            names=entry.names,
            scopes=entry.scopes,
            profile=entry.profile,
            github_api_url=github_api_url,
            issuer=issuer,
            given=frozenset(given),
            **entry.delivery(),
        )


@dataclass(frozen=True)
class FinishRequest:
    ref: RepoRef
    names: Names
    workflow_path: str | None = None  # in the repository; None: the one `keys` recorded
    issuer: str | None = None  # `--issuer-url`; None: the one the GitHub host's jobs present
    profile: str | None = None  # for the printed fix
    github_api_url: str | None = None


@dataclass(frozen=True)
class KeySetup:
    """The access-key setup ghbootstrap made: the user, its key record, where the secrets
    live (None: the repository)."""

    user: user.User
    record: KeyRecord
    environment: str | None
    given: footprint.KeysGiven | None = None  # what `keys` was given (None: before 0.2.0)


def find_key_setup(setup: Start, candidates: Sequence[str]) -> KeySetup | None:
    """The user of this repository with its key record, or None."""
    found = user.get_user(setup.aws.iam, setup.names.user)
    if found is None or not footprint.owned_by(found.tags, setup.ref.tag_value):
        return None
    record = KeyRecord.from_tags(found.tags)
    if not (record.held or record.scope):
        return None
    environment = footprint.secrets_environment(record, candidates)
    if environment is footprint.UNKNOWN:
        raise UsageError(
            f"the key record of IAM user {found.name} names the environment holding its "
            "secrets only by a hash",
            "pass the environment's name with --environment",
        )
    return KeySetup(
        found, record, environment, footprint.KeysGiven.from_tags(found.tags, found.name)
    )


# -- phase one ------------------------------------------------------------------------------


def recorded_names(request: MigrateRequest, key: KeySetup, region: str) -> Names:
    """The ECR repository and policy `keys` was given, from the user's record (a user made
    before the record: the names given, as before). A given name that differs is refused:
    the role would push to another repository than CI does today."""
    recorded, found = key.given, key.user
    footprint.same_region(recorded, region)
    names = request.names
    if recorded is None:
        return names
    for flag, given, wanted in (
        ("--ecr-repo", names.ecr_repository, recorded.ecr_repository),
        ("--policy-name", names.policy, recorded.policy),
    ):
        if flag in request.given and given != wanted:
            raise UsageError(
                f"{flag} {given} is not what IAM user {found.name} was set up with ({wanted})",
                f"leave {flag} out, or pass {flag} {wanted}",
            )
    return replace(
        names,
        ecr_repository=recorded.ecr_repository,
        policy=recorded.policy,
        ecr_named=recorded.ecr_named or names.ecr_named,
    )


def role_scopes(given: Scopes, environment: str | None) -> Scopes:
    """The given scopes, plus the environment the key lives in: the new workflow's job runs
    there, as the keys workflow's did. Nothing given: what the key served, and no more (in
    an environment, that environment alone; else the default branch)."""
    if environment is None or environment in given.environments:
        return given
    return Scopes.parse(
        given.branches, given.tags, [*given.environments, environment], given.pull_requests
    )


def refuse_other_environments(given: Scopes, key: KeySetup) -> None:
    """The build job stays in the key's environment: the workflow runs its job in the first
    environment it is given, and out of the key's it would lose that environment's
    protection rules."""
    if key.environment is None:
        return
    others = [e for e in given.environments if e != key.environment]
    if others:
        raise UsageError(
            f"--environment {others[0]}: the key's secrets live in environment "
            f"{key.environment}, and the build job stays there (elsewhere it would run "
            f"without {key.environment}'s protection rules)",
            f"leave --environment out, or pass --environment {key.environment}",
        )


def run(
    aws: Aws,
    gh: GitHub,
    request: MigrateRequest,
    *,
    dry_run: bool,
    provider: tuple[str, bool] | None = None,
) -> Report:
    """`provider`: the account's provider as `apply` settled it once (see oidc.plan_setup)."""
    setup = start(aws, gh, request.ref, request.names)
    key = find_key_setup(setup, request.scopes.environments)
    if key is None:
        raise GhbError(
            f"no access-key setup ghbootstrap made for {request.ref.tag_value} was found (IAM user "
            f"{request.names.user} with its tag and key record): nothing to migrate",
            f"set up OIDC directly with `{_oidc_instead(request, aws.region)}`, or pass "
            "the --user-name the setup used",
        )
    refuse_other_environments(request.scopes, key)
    request, in_repository = _build_workflow(setup, request, key)
    request = replace(request, names=recorded_names(request, key, aws.region))
    setup = replace(setup, names=request.names)
    scopes = role_scopes(request.scopes, key.environment)
    found_ecr = ecr.get_repository(aws.ecr, request.names.ecr_repository)
    oidc_request = oidc.OidcRequest(
        ref=request.ref,
        names=request.names,
        scopes=scopes,
        immutable_tags=found_ecr.immutable if found_ecr else True,  # as keys left it
        issuer=request.issuer,
        force=request.force,
        job_workflows=_kept_job_workflows(setup),
        workflow_path=request.workflow_path,  # recorded: `status` reads the file there
        open_pr=request.open_pr,
    )
    plan = Plan()
    planned = oidc.plan_setup(plan, setup, oidc_request, provider)
    delivered = _plan_workflows(plan, setup, request, scopes, key, planned)
    changes = plan.execute(dry_run=dry_run).changes
    return Report(
        "migrate",
        setup.repo.full_name,
        dry_run,
        changes,
        outputs={**planned.outputs, **delivered},
        notes=_next_steps(setup, request, delivered, changes, in_repository, key),
    )


def _oidc_instead(request: MigrateRequest, region: str) -> str:
    """`oidc` with what this migrate was given (account, region, names, scopes, how the
    workflow is delivered): the setup migrate would have made."""
    names = request.names
    setup = footprint.OidcGiven(
        region, names.ecr_repository, names.policy, names.role, request.scopes,
        issuer=request.issuer, ecr_named=names.ecr_named,
    )  # fmt: skip
    path = request.workflow_path
    workflow: tuple[str, ...] = ()  # the default path in the checkout it runs in
    if path is None:
        workflow = repairs.NO_WORKFLOW
    elif request.open_pr:
        workflow = repairs.open_pr(path.as_posix())
    elif request.workflow_given:
        workflow = ("--workflow-path", str(path))
    return repairs.oidc_command(
        request.ref,
        setup,
        profile=request.profile,
        github_api_url=request.github_api_url,
        workflow=workflow,
    )


def _kept_job_workflows(setup: Start) -> tuple[str, ...]:
    """The workflows an existing role of this setup admits jobs of (`oidc --job-workflow`):
    migrate has no such option, and writing the trust without them would admit every
    workflow of the repository."""
    found = role.get_role(setup.aws.iam, setup.names.role)
    if found is None or not footprint.owned_by(found.tags, setup.ref.tag_value):
        return ()
    record = footprint.OidcGiven.from_tags(found.tags, found.name)
    return record.job_workflows if record else ()


def _build_workflow(
    setup: Start, request: MigrateRequest, key: KeySetup
) -> tuple[MigrateRequest, str | None]:
    """Where the OIDC workflow goes: over the build workflow `keys` recorded (never a
    second one beside it), and its path in the repository when known. A --workflow-path
    that names another file of the repository is refused."""
    path = request.workflow_path
    wanted = key.given.workflow if key.given else None
    if path is None:  # --no-workflow
        return request, None
    if wanted is not None and not request.workflow_given:
        if request.open_pr:
            return replace(request, workflow_path=Path(wanted)), wanted
        if request.checkout is not None:
            return replace(request, workflow_path=request.checkout / wanted), wanted
    host = web_host(setup.gh.api_url)
    found = None if request.open_pr else path_in_checkout(path, setup.ref, host)
    in_repository = path.as_posix() if request.open_pr else (found[1] if found else None)
    if wanted is not None and in_repository is not None and in_repository != wanted:
        where = wanted if found is None else str(found[0] / wanted)
        raise UsageError(
            f"--workflow-path {path}: the key's build workflow is {wanted} (IAM user "
            f"{key.user.name} records it), and migrate replaces it rather than adding a "
            "second one",
            f"leave --workflow-path out, or pass --workflow-path {where}",
        )
    return request, in_repository


def _plan_workflows(
    plan: Plan,
    setup: Start,
    request: MigrateRequest,
    scopes: Scopes,
    key: KeySetup,
    planned: oidc.Planned,
) -> dict[str, str]:
    if request.workflow_path is None:
        return {}
    repo, gh = setup.repo, setup.gh

    def where(path: Path) -> str:
        return path.as_posix() if request.open_pr else str(path)

    build = build_file(
        where(request.workflow_path), OIDC_TEMPLATE, repo.full_name, scopes, repo.default_branch
    )
    keys_scopes = Scopes.parse(environments=[key.environment] if key.environment else [])
    build = replace(
        build,
        earlier=build.earlier
        + frozen_v0_1_0.build_workflows(
            KEYS_TEMPLATE, repo.full_name, keys_scopes, repo.default_branch
        ),
    )
    rotation_path = where(request.workflow_path.with_name(ROTATE_FILENAME))
    if request.open_pr:
        on_default = gh.file(repo, rotation_path, repo.default_branch)
        found = None if on_default is None else on_default.text
    else:
        local = Path(rotation_path)
        found = local.read_text(encoding="utf-8") if local.is_file() else None
    remove = [] if found is None else [_rotation_ours(rotation_path, setup, key, found)]
    proposal = Proposal(
        title="Build with the IAM role, no AWS key (ghbootstrap migrate)",
        body=(
            f"ghbootstrap moves {repo.full_name} from the access key of IAM user "
            f"`{key.user.name}` to the IAM role `{planned.role_arn}`, which GitHub's OIDC "
            f"token assumes when its subject is one of {oidc.admitted(planned)}: no AWS key "
            "is stored anywhere.\n\n"
            f"Merging this pull request replaces `{build.path}` with the OIDC workflow"
            + (f" and deletes the key rotation workflow `{rotation_path}`" if remove else "")
            + ". The key and its secrets keep working until `ghbootstrap migrate "
            f"{repo.full_name} --finish` removes them, after this change has run."
        ),
        message="Build with the IAM role instead of an access key (ghbootstrap migrate)",
    )
    return deliver(
        plan,
        gh,
        repo,
        [build],
        proposal,
        open_pr=request.open_pr,
        force=request.force,
        remove=remove,
    )


_CRON = re.compile(r"^\s*- cron:\s*(\"(?:[^\"\\]|\\.)*\")\s*$", re.MULTILINE)


def _rotation_ours(path: str, setup: Start, key: KeySetup, found: str) -> WorkflowFile:
    """What ghbootstrap wrote as the rotation workflow for this setup, any release, on the
    schedule the found file names (the schedule is not recorded anywhere else)."""
    match = _CRON.search(found)
    cron = json.loads(match.group(1)) if match else ""
    return rotation_file(
        path, setup.repo.full_name, cron, key.user.name, setup.aws.region, key.environment
    )


def _next_steps(
    setup: Start,
    request: MigrateRequest,
    delivered: dict[str, str],
    changes: list[Change],
    in_repository: str | None,
    key: KeySetup,
) -> list[str]:
    branch = setup.repo.default_branch
    proposing = any(c.resource == "pull request" and c.action is not Action.KEEP for c in changes)
    if "pull_request" in delivered:
        first = f"next: merge pull request {delivered['pull_request']} into {branch}"
    elif proposing:  # a dry run: the pull request is not opened yet
        first = f"next: merge the pull request this opens into {branch}"
    elif request.workflow_path is not None and not request.open_pr:
        first = (
            f"next: commit {request.workflow_path} (and the deleted rotation workflow, if "
            f"any) and push it to {branch}"
        )
    elif request.workflow_path is not None:
        first = f"next: the workflow on {branch} already uses the role"
    else:
        first = (
            f"next: change the build workflow on {branch} to assume vars.AWS_ROLE_ARN "
            "(`ghbootstrap oidc --dry-run` prints the one ghbootstrap writes)"
        )
    # --finish checks the recorded build workflow (else the default path): name the one
    # written only when it is another, and known (a local file outside a checkout is not).
    checked = (key.given.workflow if key.given else None) or WORKFLOW_PATH
    command = repairs.migrate_finish_command(
        request.ref,
        setup.aws.region,
        request.names,
        workflow_path=in_repository if in_repository != checked else None,
        profile=request.profile,
        github_api_url=request.github_api_url,
        issuer=request.issuer,
    )
    return [
        first,
        f"then let it run once on {branch}: it signs in with the role (the access key, its "
        "secrets and the IAM user keep working until the last step)",
        f"then remove the key, its secrets and the user: {command}",
    ]


# -- phase two ------------------------------------------------------------------------------

_NOT_PROVEN = (
    "ghbootstrap removes the key only once the default branch runs on the role alone: "
    "complete phase one (`ghbootstrap migrate` without --finish), merge its change and let "
    "it run, change each workflow named so it no longer reads the key's secrets, then run "
    "this again"
)


def _replacement(request: FinishRequest, key: KeySetup, issuer: str) -> Replacement:
    """The role, the push policy `keys` was given, and the build workflow: the path given,
    else the one `keys` recorded, else the default."""
    recorded = key.given
    path = request.workflow_path or (recorded and recorded.workflow) or WORKFLOW_PATH
    return Replacement(
        role=request.names.role,
        policy=recorded.policy if recorded else request.names.policy,
        workflow_path=path,
        environment=key.environment,
        issuer=issuer,
    )


def _presented_issuer(request: FinishRequest, gh: GitHub, found: role.Role | None) -> str:
    """The issuer of the tokens the default branch's jobs present (hosts.presented_issuer),
    the role's recorded issuer standing for an enterprise's own issuer of github.com."""
    recorded = footprint.OidcGiven.from_tags(found.tags, found.name) if found else None
    return presented_issuer(
        request.issuer, issuer_for(gh.api_url), recorded.issuer if recorded else None
    )


def _refuse_another_issuer(
    setup: Start, request: FinishRequest, found: role.Role | None, issuer: str
) -> None:
    """A role trusting only other issuers' providers than the one the jobs' tokens come
    from can never be assumed by them: say both, and the phase one that moves the role."""
    if found is None:
        return  # the proof says the role is missing
    hosts = github_hosts(found.trust)
    if not hosts or issuer_host(issuer) in hosts:
        return
    recorded = footprint.OidcGiven.from_tags(found.tags, found.name)
    command = repairs.migrate_command(
        request.ref,
        setup.aws.region,
        request.names,
        recorded.scopes if recorded else None,
        profile=request.profile,
        github_api_url=request.github_api_url,
        workflow=repairs.NO_WORKFLOW,
        issuer=issuer,
    )
    trusted = ", ".join(f"https://{host}" for host in hosts)
    raise GhbError(
        f"nothing was removed: IAM role {found.name} trusts tokens of {trusted}, but jobs of "
        f"{setup.repo.full_name} on {web_host(setup.gh.api_url)} present tokens of {issuer}, "
        "so the role cannot replace the key",
        f"move the role to {issuer} with `{command}`, then run this again",
    )


def finish(
    aws: Aws, gh: GitHub, request: FinishRequest, *, dry_run: bool, confirm: Confirm
) -> Report:
    setup = start(aws, gh, request.ref, request.names)
    found_role = role.get_role(aws.iam, request.names.role)
    candidates = footprint.environments_record(found_role.tags) if found_role else []
    key = find_key_setup(setup, candidates)
    if key is None:
        note = f"nothing to do: no access-key setup of {request.ref.tag_value} is left"
        return Report("migrate --finish", setup.repo.full_name, dry_run, notes=[note])
    issuer = _presented_issuer(request, gh, found_role)
    _refuse_another_issuer(setup, request, found_role, issuer)
    proof = prove(setup, _replacement(request, key, issuer))
    if proof.problems:
        raise GhbError(f"nothing was removed: {'; '.join(proof.problems)}", _NOT_PROVEN)
    plan = Plan()
    scope = Holder(setup.repo.owner, setup.repo.name, key.environment)
    destroy.plan_secrets(plan, aws, gh, scope, key.user)
    for access_key in key_install.removable_keys(aws.iam, key.user):
        remove = partial(access_keys.delete_key, aws.iam, key.user.name, access_key.id)
        plan.add(
            destroy.delete_step("access key", access_key.id, remove, access_key.status.lower())
        )
    destroy.plan_policies_of(plan, aws, "user", key.user.name, user)
    remove_user = partial(user.delete_user, aws.iam, key.user.name)
    plan.add(destroy.delete_step("IAM user", key.user.name, remove_user))
    notes = [f"checked: {line}" for line in proof.checked]
    notes += _token_notes(gh, setup, scope)
    changes = [s.change for s in plan.steps]
    deleting = [c for c in changes if c.action is not Action.KEEP]
    if deleting and not dry_run and not confirm(changes):
        raise GhbError("nothing was removed", "run again and answer y, or pass --yes")
    changes = plan.execute(dry_run=dry_run).changes
    return Report("migrate --finish", setup.repo.full_name, dry_run, changes, notes=notes)


def _token_notes(gh: GitHub, setup: Start, scope: Holder) -> list[str]:
    """The rotation workflow's token is no longer needed; ghbootstrap did not make it, so
    it is only named, not deleted."""
    notes = []
    for where in dict.fromkeys([scope, setup.repo_holder]):
        if gh.secret(where, ROTATION_TOKEN) is not None:
            notes.append(
                f"the secret {ROTATION_TOKEN} ({where.label}) is no longer needed: delete it, "
                "and revoke the token it holds (the fine-grained token or GitHub App token "
                "you made for the key rotation workflow)"
            )
    return notes
