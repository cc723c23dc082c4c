"""The commands ghbootstrap prints (repairs, fixes, next steps), built in one place.

Each is complete and shell-quoted: run as printed, from any folder, it restores the setup
exactly as last applied (region, names that are not the default, every scope) and changes
nothing else (`--no-workflow`, unless the caller names how the workflow is delivered:
`apply` repeats its file's choice).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from ghbootstrap.defaults import GITHUB_ISSUER, WORKFLOW_PATH
from ghbootstrap.footprint import OidcGiven
from ghbootstrap.hosts import issuer_for
from ghbootstrap.subjects import Scopes
from ghbootstrap.target import Names, RepoRef

NO_WORKFLOW = ("--no-workflow",)


def oidc_command(
    ref: RepoRef,
    setup: OidcGiven,
    *,
    force: bool = False,
    profile: str | None = None,
    github_api_url: str | None = None,
    workflow: Sequence[str] = NO_WORKFLOW,
) -> str:
    defaults = Names.resolve(ref)
    args = _start("oidc", ref, setup.region, profile)
    args += _names(
        (setup.role, defaults.role, "--role-name"),
        (setup.policy, defaults.policy, "--policy-name"),
    )
    if setup.ecr_named or setup.ecr_repository != defaults.ecr_repository:
        args += ["--ecr-repo", setup.ecr_repository]
    args += issuer_option(setup.issuer, github_api_url)
    if github_api_url is not None:
        args += ["--github-api-url", github_api_url]
    args += _scope_options(setup.scopes)
    for job_workflow in setup.job_workflows:
        args += ["--job-workflow", job_workflow]
    if setup.mutable_tags:
        args.append("--mutable-tags")
    return _finish(args, force, workflow)


def keys_command(
    ref: RepoRef,
    region: str,
    names: Names,
    environment: str | None,
    *,
    mutable_tags: bool = False,
    force: bool = False,
    profile: str | None = None,
    github_api_url: str | None = None,
    rotation_schedule: str | None = None,
    workflow: Sequence[str] = NO_WORKFLOW,
) -> str:
    defaults = Names.resolve(ref)
    args = _start("keys", ref, region, profile)
    args += _names(
        (names.user, defaults.user, "--user-name"),
        (names.policy, defaults.policy, "--policy-name"),
    )
    if names.ecr_named or names.ecr_repository != defaults.ecr_repository:
        args += ["--ecr-repo", names.ecr_repository]
    if github_api_url is not None:
        args += ["--github-api-url", github_api_url]
    if environment is not None:
        args += ["--environment", environment]
    if mutable_tags:
        args.append("--mutable-tags")
    if rotation_schedule is not None:
        args += ["--rotation-schedule", rotation_schedule]
    return _finish(args, force, workflow)


def rotate_command(
    ref: RepoRef,
    region: str,
    user: str,
    environment: str | None,
    *,
    profile: str | None = None,
    github_api_url: str | None = None,
) -> str:
    args = _start("rotate", ref, region, profile)
    args += _names((user, Names.resolve(ref).user, "--user-name"))
    if github_api_url is not None:
        args += ["--github-api-url", github_api_url]
    if environment is not None:
        args += ["--environment", environment]
    return shlex.join(args)


def _start(command: str, ref: RepoRef, region: str, profile: str | None, *flags: str) -> list[str]:
    """`ghbootstrap COMMAND OWNER/REPO [FLAGS] --region R [--profile P]`: always the region,
    the profile when the user named one."""
    args = ["ghbootstrap", command, ref.full_name, *flags, "--region", region]
    return args if profile is None else [*args, "--profile", profile]


def issuer_option(issuer: str | None, github_api_url: str | None = None) -> list[str]:
    """`--issuer-url`, unless the setup trusts github.com's issuer and so would the command
    by default (the issuer of the GitHub host it names). Named even where that default
    would find it, so the command does the same from any environment; and named for a
    role on github.com's issuer whose command names another host, so running it keeps
    the role where it is (changing issuer is the setup's own decision)."""
    issuer = issuer or GITHUB_ISSUER
    default = issuer_for(github_api_url) if github_api_url is not None else GITHUB_ISSUER
    return [] if issuer == GITHUB_ISSUER == default else ["--issuer-url", issuer]


def _names(*names: tuple[str, str, str]) -> list[str]:
    return [part for given, default, flag in names if given != default for part in (flag, given)]


def open_pr(workflow_path: str = WORKFLOW_PATH) -> tuple[str, ...]:
    """The workflow options that deliver the build workflow as a pull request to this path
    in the repository (over the file there, never beside it)."""
    if workflow_path == WORKFLOW_PATH:
        return ("--open-pr",)
    return ("--open-pr", "--workflow-path", workflow_path)


def _finish(args: list[str], force: bool, workflow: Sequence[str] = NO_WORKFLOW) -> str:
    args += workflow
    if force:
        args.append("--force")
    return shlex.join(args)


def migrate_command(
    ref: RepoRef,
    region: str,
    names: Names,
    scopes: Scopes | None = None,
    *,
    profile: str | None = None,
    github_api_url: str | None = None,
    workflow: Sequence[str] = ("--open-pr",),
    force: bool = False,
    issuer: str | None = None,
) -> str:
    """Phase one of `migrate` for a key setup: the user's record supplies the ECR
    repository, the policy and where the secrets live."""
    args = _start("migrate", ref, region, profile) + _migrate_names(ref, names)
    args += issuer_option(issuer, github_api_url)
    if github_api_url is not None:
        args += ["--github-api-url", github_api_url]
    args += _scope_options(scopes or Scopes())
    return _finish(args, force, workflow)


def _migrate_names(ref: RepoRef, names: Names) -> list[str]:
    """The names `migrate` takes, those that are not the default."""
    defaults = Names.resolve(ref)
    args = _names(
        (names.user, defaults.user, "--user-name"),
        (names.role, defaults.role, "--role-name"),
        (names.policy, defaults.policy, "--policy-name"),
    )
    if names.ecr_named or names.ecr_repository != defaults.ecr_repository:
        args += ["--ecr-repo", names.ecr_repository]
    return args


def _scope_options(scopes: Scopes) -> list[str]:
    args: list[str] = []
    for branch in scopes.branches:
        args += ["--branch", branch]
    for tag in scopes.tags:
        args += ["--tag", tag]
    for environment in scopes.environments:
        args += ["--environment", environment]
    if scopes.pull_requests:
        args.append("--pull-requests")
    return args


def migrate_finish_command(
    ref: RepoRef,
    region: str,
    names: Names,
    *,
    workflow_path: str | None = None,
    profile: str | None = None,
    github_api_url: str | None = None,
    issuer: str | None = None,
) -> str:
    """Phase two of `migrate`, with the names (and the issuer) phase one was given."""
    args = _start("migrate", ref, region, profile, "--finish") + _migrate_names(ref, names)
    # the issuer the jobs present, as phase one was told it: github.com's is left to
    # --finish, which then takes the GitHub host's (a server's jobs never present it)
    args += issuer_option(issuer)
    if workflow_path is not None and workflow_path != WORKFLOW_PATH:
        args += ["--workflow-path", workflow_path]
    if github_api_url is not None:
        args += ["--github-api-url", github_api_url]
    return shlex.join(args)
