"""Delivering workflow files: into a local checkout, or as a branch and a pull request.

Both adapters plan the same way: read what is there, tell our own files from others
(`workflow.origin`), refuse to replace a file ghbootstrap did not write (unless --force),
and write only what differs. So --dry-run and "a re-run makes no write" hold for both.
`deliver_local` and `deliver_pull_request` take a list of files, whoever builds them
(`oidc`, `keys`, and later `migrate` and `apply`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ghbootstrap import frozen_v0_2_0
from ghbootstrap.errors import ConflictError, GhbError, GitHubError, UsageError, shown
from ghbootstrap.github.api import Commit, GitHub, PullRequest, RepoFile
from ghbootstrap.plan import Action, Change, Plan, Step, keep
from ghbootstrap.subjects import GitHubRepo
from ghbootstrap.workflow import Origin, WorkflowFile, check_file_path, intact, origin

BRANCH = "ghbootstrap/ecr-build-push"
NEW_TEXT = "a new title and description, for this setup"
KEPT_TEXT = (
    "title and description kept: changed by hand (they may not describe this run's scopes); "
    "--force replaces them"
)
REPLACED_TEXT = "title and description changed by hand: replaced (--force)"
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

# Each commit ghbootstrap makes on BRANCH ends with a trailer naming the file it wrote and
# that file's git blob (or `deleted`). A re-run reads the branch's head commit: it is
# ghbootstrap's own while the trailer is there and the branch still holds that blob; any
# other head is someone's work (a reviewer's commit), not written over without --force.
# The commit speaks for itself, so nothing is kept anywhere else: no local state, and no
# record in the pull request, which would take a second write after every commit (a
# failure between the two would leave it stale) and does not exist before the pull request
# does. Author and committer prove nothing: both are the token's account, often the
# reviewer's own.
TRAILER = "Ghbootstrap-File"
_TRAILER = re.compile(rf"^{TRAILER}: ([0-9a-f]{{40}}|deleted) (.+)$", re.MULTILINE)


def blob_sha(text: str) -> str:
    """Git's id of a file holding `text`: what the contents API reports as its `sha`."""
    data = text.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def commit_message(message: str, path: str, content: str | None) -> str:
    """A commit's message, with the trailer naming what it wrote (`None`: deleted)."""
    blob = "deleted" if content is None else blob_sha(content)
    return f"{message}\n\n{TRAILER}: {blob} {path}\n"


# The pull request's title and description are shared ground too: a reviewer may edit
# them. Every body ghbootstrap writes ends with a hidden marker line holding a digest of
# the title and the text above it; a re-run rewrites them only while the marker still
# matches (or they are 0.2.0's, which wrote no marker), never a description edited by hand
# unless --force.
_MARKER = "<!-- ghbootstrap: {} -->"
_SIGNED = re.compile(r"(.*)\n\n<!-- ghbootstrap: [0-9a-f]{16} -->", re.DOTALL)


def signed(title: str, text: str) -> str:
    """The body ghbootstrap writes: `text`, a blank line, then the marker line (sha256 of
    the title and `text`, 16 hex digits), which GitHub does not show."""
    data = json.dumps([title, text]).encode("utf-8")
    return f"{text}\n\n" + _MARKER.format(hashlib.sha256(data).hexdigest()[:16])


def unedited(title: str, body: str) -> bool:
    """Did ghbootstrap write this title and body as they are (their marker matches)?"""
    found = _SIGNED.fullmatch(body)
    return found is not None and signed(title, found.group(1)) == body


@dataclass(frozen=True)
class Proposal:
    """What the pull request says: the setup, and what merging it does."""

    title: str
    body: str  # the text; `signed_body` is what the pull request holds
    message: str = "Add or update the workflows ghbootstrap writes"

    @property
    def signed_body(self) -> str:
        return signed(self.title, self.body)


def retitle(found: PullRequest, proposal: Proposal, *, force: bool) -> tuple[bool, str]:
    """Whether to rewrite the open pull request's title and body, and what the report says
    ("": they already say what this run proposes). Rewritten when ghbootstrap wrote them
    and nobody edited them since (the marker matches, or they are 0.2.0's rendering), or
    with --force; else kept."""
    if (found.title, found.body) == (proposal.title, proposal.signed_body):
        return False, ""
    if unedited(found.title, found.body) or frozen_v0_2_0.wrote(found.title, found.body):
        return True, NEW_TEXT
    return (True, REPLACED_TEXT) if force else (False, KEPT_TEXT)


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
    rewrite: bool = False  # the open pull request's title and body: rewritten by `apply`

    # -- reading ------------------------------------------------------------------------

    def branch_file(self, path: str) -> RepoFile | None:
        if path not in self.on_branch:
            self.on_branch[path] = self.gh.file(self.repo, path, BRANCH)
        return self.on_branch[path]

    def foreign_head(self) -> Commit | None:
        """The branch's head commit when it is someone else's work this run would write
        over. None when there is no branch, or its head is ghbootstrap's own commit, the
        default branch's head (nothing committed yet), or a commit that a merged pull
        request took into the default branch."""
        if self.head is None or self.head == self.base:
            return None
        commit = self.gh.commit(self.repo, self.head)
        if self._ours(commit):
            return None
        if self.open is None:
            closed = self.gh.pull_requests(self.repo, BRANCH, "closed")
            if any(p.merged and p.head == self.head for p in closed):
                return None
        return commit

    def _ours(self, commit: Commit) -> bool:
        """Did ghbootstrap make `commit`, and does the branch still hold what it wrote?"""
        named = _TRAILER.findall(commit.message)
        if named:
            blob, path = named[-1]
            now = self.branch_file(path)
            return now is None if blob == "deleted" else now is not None and now.sha == blob
        if commit.message.strip() in frozen_v0_2_0.MESSAGES:  # 0.2.0's, with its files unchanged
            return all(
                (now := self.branch_file(f.path)) is None
                or intact(now.text)
                or now == self.on_default.get(f.path)
                for f in [*self.files, *self.remove]
            )
        return False

    # -- writing ------------------------------------------------------------------------

    def apply(self) -> None:
        gh, repo = self.gh, self.repo
        on_branch: dict[str, RepoFile | None] = self.on_branch
        undo: tuple[str, Callable[[], None]] | None = None
        if self.head is None:
            gh.create_branch(repo, BRANCH, self.base)
            on_branch = dict(self.on_default)
            undo = ("deleted again", partial(gh.delete_branch, repo, BRANCH))
        elif self.open is None:  # left from a merged or closed pull request: start afresh
            gh.reset_branch(repo, BRANCH, self.base)
            on_branch = dict(self.on_default)
            undo = ("moved back", partial(gh.reset_branch, repo, BRANCH, self.head))
        try:
            self._commit(on_branch)
        except GitHubError as exc:
            if (undone := _undone(exc, undo)) is not None:
                raise undone from exc
            raise
        try:
            pull = self.open or gh.create_pull_request(
                repo, BRANCH, self.proposal.title, self.proposal.signed_body
            )
        except GitHubError as exc:
            raise _undone(exc, undo) or _branch_holds(exc) from exc
        if self.rewrite:
            self.describe()
        self.outputs["pull_request"] = pull.url

    def _commit(self, on_branch: dict[str, RepoFile | None]) -> None:
        gh, repo, message = self.gh, self.repo, self.proposal.message
        for wanted in self.files:
            found = on_branch.get(wanted.path)
            if found is None or found.text != wanted.content:
                gh.put_file(
                    repo,
                    wanted.path,
                    wanted.content,
                    branch=BRANCH,
                    message=commit_message(message, wanted.path, wanted.content),
                    sha=None if found is None else found.sha,
                )
        for ours in self.remove:
            if (found := on_branch.get(ours.path)) is not None:
                gh.delete_file(
                    repo,
                    ours.path,
                    branch=BRANCH,
                    message=commit_message(message, ours.path, None),
                    sha=found.sha,
                )

    def describe(self) -> None:
        """The open pull request's title and body, as this run proposes them."""
        assert self.open is not None
        self.gh.update_pull_request(
            self.repo, self.open.number, self.proposal.title, self.proposal.signed_body
        )


def _undone(exc: GitHubError, undo: tuple[str, Callable[[], None]] | None) -> GitHubError | None:
    """GitHub refused a write after this run made or moved the branch: put the branch back
    as it was (delete it, or move it back), so a refused run leaves nothing behind. None
    when there is nothing to undo, the outcome is unknown (a 5xx, a timeout: GitHub may
    have done it), or the undo fails too."""
    if undo is None or not exc.refused:
        return None
    done, revert = undo
    try:
        revert()
    except GhbError:
        return None
    again = "run the command again"
    return GitHubError(
        f"{exc.what}; branch {BRANCH} is {done}",
        f"{exc.fix}, then {again}" if exc.fix else again,
        status=exc.status,
    )


def _branch_holds(exc: GitHubError) -> GitHubError:
    """The pull request was not opened, and the branch holds the change: a re-run opens it."""
    fix = again = "run the command again to open the pull request"
    if exc.fix:  # a refusal: fix it first; otherwise exc.fix says when to run again
        fix = f"{exc.fix}, then {again}" if exc.refused else exc.fix
    return GitHubError(
        f"{exc.what}; branch {BRANCH} holds the change",
        fix,
        status=exc.status,
        rate_limited=exc.rate_limited,
    )


def _refusal(pr: PullRequestPlan, commit: Commit) -> ConflictError:
    """Someone's commit heads the branch: name it, write nothing, say the choices."""
    subject = shown(commit.message.split("\n", 1)[0], 60)
    who = f'commit {commit.sha} by {shown(commit.author, 40)} ("{subject}")'
    where = (
        f"branch {BRANCH} of {pr.repo.full_name} ends with {who}, which ghbootstrap did not make"
    )
    if pr.open is not None:
        return ConflictError(
            f"{where}: someone changed pull request #{pr.open.number}; nothing was written",
            f"review that commit in {pr.open.url}, or pass --force to commit ghbootstrap's "
            "files on top of it",
        )
    return ConflictError(
        f"{where}, and no open or merged pull request holds it; nothing was written",
        "delete the branch if nobody needs that commit, or pass --force to start the branch "
        f"afresh from {pr.repo.default_branch}",
    )


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
    where = f"{BRANCH} -> {default}"
    detail = "; ".join(f"{c.action.value} {c.name}" for c in changes if c.action is not Action.KEEP)
    if pr.open is not None:
        pr.outputs["pull_request"] = pr.open.url
        stale = [f.path for f in files if (pr.branch_file(f.path) or _NONE).text != f.content]
        stale += [f"deletes {f.path}" for f in remove if pr.branch_file(f.path) is not None]
        pr.rewrite, told = retitle(pr.open, proposal, force=force)
        if not stale:
            name = f"#{pr.open.number}"
            if not pr.rewrite:
                plan.add(keep("pull request", name, told or f"open: {pr.open.url}"))
            else:
                text = f"# title\n{proposal.title}\n# body\n{proposal.signed_body}\n"
                change = Change("pull request", name, Action.UPDATE, told, text)
                plan.add(Step(change, pr.describe))
            return pr.outputs
        detail = "commits " + ", ".join(stale) + (f"; {told}" if told else "")
    over = pr.foreign_head()
    if over is not None:
        if not force:
            raise _refusal(pr, over)
        detail += f"; over commit {over.sha} by {shown(over.author, 40)} (--force)"
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
