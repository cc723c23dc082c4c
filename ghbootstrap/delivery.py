"""Delivering workflow files: into a local checkout, or as a branch and a pull request.

Both adapters plan the same way: read what is there, tell our own files from others
(`workflow.origin`), refuse to replace a file ghbootstrap did not write (unless --force),
and write only what differs. So --dry-run and "a re-run makes no write" hold for both.
`deliver_local` and `deliver_pull_request` take a list of files, whoever builds them
(`oidc`, `keys`, and later `migrate` and `apply`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ghbootstrap.errors import GitHubError, UsageError
from ghbootstrap.github.api import GitHub, PullRequest, RepoFile
from ghbootstrap.plan import Action, Change, Plan, Step, keep
from ghbootstrap.subjects import GitHubRepo
from ghbootstrap.workflow import Origin, WorkflowFile, check_file_path, origin

BRANCH = "ghbootstrap/ecr-build-push"
_NONE = RepoFile("", "")
TOKEN_SCOPES = frozenset({"repo", "workflow"})


def decide(found: str | None, wanted: WorkflowFile, where: str, *, force: bool) -> Change:
    """What to do with one file: create, keep, upgrade our own, or refuse someone's."""
    if found is None:
        return Change("workflow file", where, Action.CREATE, document=wanted.content)
    seen = origin(found, wanted)
    if seen is Origin.CURRENT:
        return Change("workflow file", where, Action.KEEP)
    if seen is Origin.EARLIER:
        detail = f"{seen.value}: upgraded"
    elif force:
        detail = "changed by hand: replaced (--force)"
    else:
        raise UsageError(
            f"refusing to overwrite {where}: it differs from the workflow ghbootstrap writes, "
            "and ghbootstrap did not write it",
            "pass --force to replace it, --workflow-path to write elsewhere, or --no-workflow",
        )
    return Change("workflow file", where, Action.UPDATE, detail, wanted.content)


def decide_removal(found: str | None, ours: WorkflowFile, where: str, *, force: bool) -> Change:
    """A file that should go (`migrate`'s rotation workflow): only if ghbootstrap wrote it
    and it is unchanged, any release; one changed by hand only with --force."""
    if found is None:
        return Change("workflow file", where, Action.KEEP, "not there")
    if origin(found, ours) is Origin.CHANGED:
        if not force:
            raise UsageError(
                f"refusing to delete {where}: it differs from every workflow ghbootstrap "
                "writes, and ghbootstrap did not write it",
                "pass --force to delete it anyway, or remove it yourself and run again",
            )
        return Change("workflow file", where, Action.DELETE, "changed by hand: deleted (--force)")
    return Change("workflow file", where, Action.DELETE, "ghbootstrap's own: no longer needed")


# -- a local checkout -------------------------------------------------------------------------


def _write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")


def file_step(wanted: WorkflowFile, *, force: bool) -> Step:
    """One local file: `wanted.path` is where it goes on this machine."""
    path = check_file_path(Path(wanted.path), "workflow path")
    found = path.read_text(encoding="utf-8") if path.is_file() else None
    change = decide(found, wanted, str(path), force=force)
    if change.action is Action.KEEP:
        return Step(change)
    return Step(change, partial(_write, path, wanted.content))


def removal_step(ours: WorkflowFile, *, force: bool) -> Step | None:
    path = Path(ours.path)
    found = path.read_text(encoding="utf-8") if path.is_file() else None
    change = decide_removal(found, ours, str(path), force=force)
    return None if found is None else Step(change, path.unlink)


def deliver_local(
    plan: Plan,
    files: Sequence[WorkflowFile],
    *,
    force: bool,
    remove: Sequence[WorkflowFile] = (),
) -> None:
    for wanted in files:
        plan.add(file_step(wanted, force=force))
    for ours in remove:
        if (step := removal_step(ours, force=force)) is not None:
            plan.add(step)


# -- a branch and a pull request --------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """What the pull request says: the setup, and what merging it does."""

    title: str
    body: str
    message: str = "Add or update the workflows ghbootstrap writes"


@dataclass
class PullRequestPlan:
    gh: GitHub
    repo: GitHubRepo
    proposal: Proposal
    files: Sequence[WorkflowFile]
    on_default: dict[str, RepoFile | None]
    base: str  # the default branch's head commit
    head: str | None  # the branch's commit, if the branch exists
    open: PullRequest | None
    on_branch: dict[str, RepoFile | None] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    remove: Sequence[WorkflowFile] = ()

    def apply(self) -> None:
        gh, repo = self.gh, self.repo
        on_branch = self.on_branch
        if self.head is None:
            gh.create_branch(repo, BRANCH, self.base)
            on_branch = dict(self.on_default)
        elif self.open is None:  # left from a merged or closed pull request: start afresh
            gh.reset_branch(repo, BRANCH, self.base)
            on_branch = dict(self.on_default)
        for wanted in self.files:
            found = on_branch.get(wanted.path)
            if found is None or found.text != wanted.content:
                gh.put_file(
                    repo,
                    wanted.path,
                    wanted.content,
                    branch=BRANCH,
                    message=self.proposal.message,
                    sha=None if found is None else found.sha,
                )
        for ours in self.remove:
            if (found := on_branch.get(ours.path)) is not None:
                gh.delete_file(
                    repo, ours.path, branch=BRANCH, message=self.proposal.message, sha=found.sha
                )
        try:
            pull = self.open or gh.create_pull_request(
                repo, BRANCH, self.proposal.title, self.proposal.body
            )
        except GitHubError as exc:  # the branch holds the change; a re-run opens the PR
            fix = again = "run the command again to open the pull request"
            if exc.fix:  # a refusal: fix it first; otherwise exc.fix says when to run again
                fix = f"{exc.fix}, then {again}" if exc.refused else exc.fix
            raise GitHubError(
                f"{exc.what}; branch {BRANCH} holds the change",
                fix,
                status=exc.status,
                rate_limited=exc.rate_limited,
            ) from exc
        self.outputs["pull_request"] = pull.url


def deliver(
    plan: Plan,
    gh: GitHub,
    repo: GitHubRepo,
    files: Sequence[WorkflowFile],
    proposal: Proposal,
    *,
    open_pr: bool,
    force: bool,
    remove: Sequence[WorkflowFile] = (),
) -> dict[str, str]:
    """The files as a pull request, or into local files; returns what the report shows.
    `remove`: ghbootstrap's own files that should go, deleted in the same change."""
    if open_pr:
        return deliver_pull_request(plan, gh, repo, files, proposal, force=force, remove=remove)
    deliver_local(plan, files, force=force, remove=remove)
    return {}


def deliver_pull_request(
    plan: Plan,
    gh: GitHub,
    repo: GitHubRepo,
    files: Sequence[WorkflowFile],
    proposal: Proposal,
    *,
    force: bool,
    remove: Sequence[WorkflowFile] = (),
) -> dict[str, str]:
    """One step: branch `BRANCH` from the default branch, commit the files (and delete
    those in `remove`), open one pull request. Returns the outputs the report shows (the
    pull request's URL, once known)."""
    gh.require_classic_scopes(TOKEN_SCOPES, "opening a pull request that changes workflows")
    default = repo.default_branch
    on_default = {f.path: gh.file(repo, f.path, default) for f in [*files, *remove]}
    changes = [
        decide(None if found is None else found.text, wanted, wanted.path, force=force)
        for wanted, found in zip(files, [on_default[f.path] for f in files], strict=True)
    ]
    removals = [
        decide_removal(_text(on_default[ours.path]), ours, ours.path, force=force)
        for ours in remove
    ]
    changes += [c for c in removals if c.action is not Action.KEEP]
    if all(c.action is Action.KEEP for c in changes):
        plan.add(keep("pull request", BRANCH, f"{default} already holds the current workflow"))
        return {}
    head = gh.branch_head(repo, BRANCH)
    pr = PullRequestPlan(
        gh,
        repo,
        proposal,
        files,
        on_default,
        base=_head(gh, repo),
        head=head,
        open=None if head is None else gh.open_pull_request(repo, BRANCH),
        remove=remove,
    )
    if pr.open is not None:
        pr.on_branch = {f.path: gh.file(repo, f.path, BRANCH) for f in [*files, *remove]}
        pr.outputs["pull_request"] = pr.open.url
        gone = all(pr.on_branch[f.path] is None for f in remove)
        if gone and all((pr.on_branch[f.path] or _NONE).text == f.content for f in files):
            plan.add(keep("pull request", f"#{pr.open.number}", f"open: {pr.open.url}"))
            return pr.outputs
    where = f"{BRANCH} -> {default}"
    detail = "; ".join(f"{c.action.value} {c.name}" for c in changes if c.action is not Action.KEEP)
    if pr.open is not None:
        stale = [f.path for f in files if (pr.on_branch[f.path] or _NONE).text != f.content]
        stale += [f"deletes {f.path}" for f in remove if pr.on_branch[f.path] is not None]
        detail = "commits " + ", ".join(stale)
    document = "\n".join(
        f"# {f.path}\n{f.content}" for f, c in zip(files, changes, strict=False) if c.document
    )
    if pr.open is not None:
        change = Change(
            "pull request", f"#{pr.open.number}", Action.UPDATE, f"{where}: {detail}", document
        )
    else:
        change = Change("pull request", where, Action.CREATE, detail, document)
    plan.add(Step(change, pr.apply))
    return pr.outputs


def _text(found: RepoFile | None) -> str | None:
    return None if found is None else found.text


def _head(gh: GitHub, repo: GitHubRepo) -> str:
    head = gh.branch_head(repo, repo.default_branch)
    if head is None:
        raise GitHubError(
            f"{repo.full_name} has no commit on its default branch {repo.default_branch}",
            "push a first commit, then run the command again",
        )
    return head
