"""A small facade over PyGithub for the endpoints ghbootstrap uses.

Everything goes through PyGithub's requester (auth, base URL, retries, pagination of
nothing), with paths built here and percent-encoded, so the requests match GitHub's
published API description exactly (tests check them against it). GitHub's errors become
`GitHubError`s that name the permission a token lacks.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import requests
from github import GithubException

from ghbootstrap.errors import GitHubError
from ghbootstrap.github.etags import ETags
from ghbootstrap.github.pacing import GATE
from ghbootstrap.github.retry import RATE_LIMIT_BUDGET, rate_limit_wait
from ghbootstrap.github.sealing import seal
from ghbootstrap.secret import Secret
from ghbootstrap.subjects import GitHubRepo, SubjectTemplate
from ghbootstrap.target import RepoRef

log = logging.getLogger("ghbootstrap.github")


def _q(segment: str) -> str:
    return quote(segment, safe="")


@dataclass(frozen=True)
class Holder:
    """Where Actions variables and secrets live: a repository, or one of its environments."""

    owner: str
    repo: str
    environment: str | None = None

    @property
    def base(self) -> str:
        repo = f"/repos/{_q(self.owner)}/{_q(self.repo)}"
        if self.environment is None:
            return f"{repo}/actions"
        return f"{repo}/environments/{_q(self.environment)}"

    @property
    def label(self) -> str:
        if self.environment is None:
            return f"{self.owner}/{self.repo}"
        return f"{self.owner}/{self.repo} environment {self.environment}"


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    key: str


@dataclass(frozen=True)
class SecretInfo:
    name: str
    updated_at: str


@dataclass(frozen=True)
class RepoFile:
    """A file on a branch: its blob SHA (which a later write must name) and its text."""

    sha: str
    text: str


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    title: str = ""
    body: str = ""
    head: str = ""  # its head commit (a closed one: the last it had)
    merged: bool = False


@dataclass(frozen=True)
class Commit:
    sha: str
    message: str
    author: str  # the git author's name


@dataclass(frozen=True)
class ListedRepo:
    """A repository as an owner's list shows it."""

    repo: GitHubRepo
    archived: bool


WORKFLOWS_DIR = ".github/workflows/"
PER_PAGE = 100  # the most GitHub's lists return at once


def needed_permission(verb: str, path: str) -> str:
    """The fine-grained token permission an endpoint needs, for 403 messages."""
    if "/pulls" in path:
        return "Pull requests: read and write"
    if "/contents/" in path and _q(WORKFLOWS_DIR) in path and verb != "GET":
        return "Contents: read and write, and Workflows: read and write"
    if "/contents/" in path or "/git/" in path:
        return "Contents: read and write"
    in_environment = "/environments/" in path
    if in_environment and ("/secrets" in path or "/variables" in path):
        return "Environments: read and write"
    if path.startswith("/orgs/") and "/actions/secrets" in path:
        return "the organization permission Secrets: read"
    if "/actions/organization-secrets" in path:
        return "Secrets: read"
    if "/actions/secrets" in path:
        return "Secrets: read and write"
    if "/actions/workflows" in path or path.endswith("/environments"):
        return "Actions: read"
    if "/actions/variables" in path:
        return "Variables: read and write"
    if in_environment and verb == "PUT":
        return "Administration: read and write (to create environments)"
    if in_environment or "/oidc/customization" in path:
        return "Actions: read"
    return "Metadata: read"


def _classic_scopes(headers: Any) -> frozenset[str] | None:
    """A classic token's scopes; None for fine-grained, app and Actions tokens."""
    scopes = {k.lower(): v for k, v in (headers or {}).items()}.get("x-oauth-scopes")
    return None if scopes is None else frozenset(s.strip() for s in scopes.split(","))


def _check_classic_scopes(headers: Any, ref: RepoRef) -> None:
    """A classic token lists its scopes; secrets and variables need `repo`."""
    granted = _classic_scopes(headers)
    if granted is None:
        return  # a fine-grained, app or Actions token: its reads are the check
    scopes = {k.lower(): v for k, v in (headers or {}).items()}["x-oauth-scopes"]
    if not granted & {"repo", "public_repo"}:
        raise GitHubError(
            f"the GitHub token has scopes '{scopes}', which cannot write secrets or "
            f"variables of {ref.full_name}",
            "use a token with the repo scope, or a fine-grained token (see README)",
            status=403,
        )


def _spent(headers: Any) -> None:
    """The last request of the primary limit went through: nobody sends the next before
    the reset GitHub named."""
    found = {str(k).lower(): v for k, v in (headers or {}).items()}
    found.pop("retry-after", None)
    wait = rate_limit_wait(403, found)
    if wait is not None:
        GATE.hold(wait)


class GitHub:
    """GitHub's REST API, as ghbootstrap needs it."""

    def __init__(self, requester: Any, api_url: str) -> None:
        self._requester = requester
        self.api_url = api_url
        self._keys: dict[Holder, PublicKey] = {}
        self.classic_scopes: frozenset[str] | None = None
        self.etags: ETags | None = None  # set: GETs ask with the ETag of the answer kept

    # -- plumbing ---------------------------------------------------------------------

    def _call(self, verb: str, path: str, what: str, body: Any = None, **kw: Any) -> Any:
        return self._request(verb, path, what, body, **kw)[1]

    def _request(
        self,
        verb: str,
        path: str,
        what: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[Any, Any]:
        log.debug("github %s %s", verb, path)
        key, kept = "", None
        if verb == "GET" and self.etags is not None:
            key = self.api_url + path + ("?" + urlencode(sorted(params.items())) if params else "")
            kept = self.etags.lookup(key)
            if kept is not None:
                headers = {**(headers or {}), "If-None-Match": kept[0]}
        try:
            with GATE.slot():
                if not GATE.wait(budget=RATE_LIMIT_BUDGET):
                    raise GitHubError(
                        f"GitHub's rate limit stopped the attempt to {what}",
                        f"the limit resets in about {GATE.closed_for():.0f} s: "
                        "run the command again then",
                        status=429,
                    )
                answer_headers, data = self._requester.requestJsonAndCheck(
                    verb, path, parameters=params, headers=headers, input=body
                )
        except GithubException as exc:
            raise self._explain(exc, verb, path, what) from None
        except requests.exceptions.RequestException as exc:
            raise GitHubError(
                f"cannot reach GitHub at {self.api_url} to {what} ({type(exc).__name__})",
                "check your network, or --github-api-url / GITHUB_API_URL",
            ) from None
        _spent(answer_headers)
        if self.etags is not None and key:
            if kept is not None and data is None:  # 304: nothing changed since
                self.etags.reused()
                return answer_headers, kept[1]
            etag = {str(k).lower(): v for k, v in (answer_headers or {}).items()}.get("etag")
            if etag:
                self.etags.store(key, str(etag), data)
        return answer_headers, data

    def _list(self, path: str, what: str, key: str | None = None) -> list[Any]:
        """Every item of a list, page by page: an array, or the array under `key`."""
        items: list[Any] = []
        page = 1
        while True:
            params = {"per_page": str(PER_PAGE), **({"page": str(page)} if page > 1 else {})}
            data = self._call("GET", path, what, params=params)
            found = list((data or {}).get(key) or [] if key else data or [])
            items += found
            total = data.get("total_count") if key and isinstance(data, dict) else None
            if len(found) < PER_PAGE or (isinstance(total, int) and len(items) >= total):
                return items
            page += 1

    def _read(self, path: str, what: str, **kw: Any) -> Any:
        """GET, with 404 as None."""
        try:
            return self._call("GET", path, what, **kw)
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise

    def _explain(self, exc: GithubException, verb: str, path: str, what: str) -> GitHubError:
        status = exc.status
        message = exc.data.get("message", "") if isinstance(exc.data, dict) else ""
        if status == 401:
            return GitHubError(
                f"GitHub rejected the token (401) while trying to {what}",
                "set GITHUB_TOKEN or GH_TOKEN to a valid token, or run `gh auth login`",
                status=status,
            )
        headers = exc.headers or {}
        wait = rate_limit_wait(status, headers)
        if wait is not None or (status in (403, 429) and "rate limit" in message.lower()):
            when = f"in about {wait:.0f} s" if wait is not None else "soon"
            return GitHubError(
                f"GitHub's rate limit stopped the attempt to {what} after waiting "
                f"up to {RATE_LIMIT_BUDGET:.0f} s",
                f"the limit resets {when}: run the command again then",
                status=status,
                rate_limited=True,
            )
        if status == 403:
            return GitHubError(
                f"the GitHub token may not {what} (403 {message or 'Forbidden'})",
                f"give the token {needed_permission(verb, path)} on this repository"
                " (classic tokens: the repo scope)",
                status=status,
            )
        return GitHubError(
            f"GitHub refused to {what}: {verb} {path} returned {status}"
            + (f" ({message})" if message else ""),
            status=status,
        )

    # -- repository and OIDC --------------------------------------------------------------

    def repository(self, ref: RepoRef) -> GitHubRepo:
        """The repository, checked up front: visible, and writable with this token."""
        path = f"/repos/{_q(ref.owner)}/{_q(ref.name)}"
        try:
            headers, data = self._request("GET", path, f"read {ref.full_name}")
        except GitHubError as exc:
            if exc.status != 404:
                raise
            raise GitHubError(
                f"GitHub repository {ref.full_name} not found",
                "check OWNER/REPO, and that the token can see the repository",
                status=404,
            ) from None
        _check_classic_scopes(headers, ref)
        self.classic_scopes = _classic_scopes(headers)
        return _github_repo(data)

    def owner_repositories(self, owner: str) -> tuple[bool, list[ListedRepo]]:
        """Every repository of an organisation the token sees, or a user's public ones:
        (whether OWNER is an organisation, the repositories)."""
        try:
            found = self._list(f"/orgs/{_q(owner)}/repos", f"list the repositories of {owner}")
            is_org = True
        except GitHubError as exc:
            if exc.status != 404:
                raise
            try:
                found = self._list(f"/users/{_q(owner)}/repos", f"list the repositories of {owner}")
            except GitHubError as again:
                if again.status != 404:
                    raise
                raise GitHubError(
                    f"GitHub has no organization or user {owner}",
                    "check OWNER, and that the token can see it",
                    status=404,
                ) from None
            is_org = False
        return is_org, [ListedRepo(_github_repo(d), bool(d.get("archived"))) for d in found]

    def subject_template(self, repo: GitHubRepo) -> SubjectTemplate:
        """The repository's OIDC subject settings. Where it reports neither the prefix its
        subjects have now nor a `use_immutable_subject` of its own, its organization's
        setting holds."""
        path = f"/repos/{_q(repo.owner)}/{_q(repo.name)}/actions/oidc/customization/sub"
        data = self._read(path, f"read the OIDC subject template of {repo.full_name}") or {}
        immutable = data.get("use_immutable_subject")
        prefix = data.get("sub_claim_prefix") or None
        if immutable is None and prefix is None:
            immutable = self._organization_immutable(repo.owner)
        return SubjectTemplate(
            use_default=bool(data.get("use_default", True)),
            include_claim_keys=tuple(data.get("include_claim_keys") or ()),
            use_immutable_subject=bool(immutable),
            sub_claim_prefix=prefix,
        )

    def _organization_immutable(self, owner: str) -> bool:
        """Whether the organization moved its repositories to immutable subjects. A user
        account has no such setting (404); a token that may not read it (403) reads as
        not moved, which keeps the name form admitted beside the immutable one."""
        path = f"/orgs/{_q(owner)}/actions/oidc/customization/sub"
        try:
            data = self._read(path, f"read the OIDC subject settings of organization {owner}")
        except GitHubError as exc:
            if exc.status != 403:
                raise
            return False
        return bool((data or {}).get("use_immutable_subject"))

    # -- environments -------------------------------------------------------------------

    def _environment_path(self, repo: GitHubRepo, name: str) -> str:
        return f"/repos/{_q(repo.owner)}/{_q(repo.name)}/environments/{_q(name)}"

    def environment(self, repo: GitHubRepo, name: str) -> str | None:
        """The environment's name as GitHub spells it, or None if it does not exist."""
        data = self._read(
            self._environment_path(repo, name), f"read environment {name} of {repo.full_name}"
        )
        return None if data is None else str(data.get("name", name))

    def environments(self, repo: GitHubRepo) -> list[str]:
        path = f"{self._repo_path(repo)}/environments"
        found = self._list(path, f"list the environments of {repo.full_name}", "environments")
        return [str(e["name"]) for e in found]

    def create_environment(self, repo: GitHubRepo, name: str) -> None:
        self._call(
            "PUT",
            self._environment_path(repo, name),
            f"create environment {name} in {repo.full_name}",
            body={},
        )

    # -- variables ----------------------------------------------------------------------

    def variable(self, scope: Holder, name: str) -> str | None:
        data = self._read(
            f"{scope.base}/variables/{_q(name)}", f"read variable {name} of {scope.label}"
        )
        return None if data is None else str(data["value"])

    def create_variable(self, scope: Holder, name: str, value: str) -> None:
        self._call(
            "POST",
            f"{scope.base}/variables",
            f"create variable {name} in {scope.label}",
            body={"name": name, "value": value},
        )

    def update_variable(self, scope: Holder, name: str, value: str) -> None:
        self._call(
            "PATCH",
            f"{scope.base}/variables/{_q(name)}",
            f"update variable {name} in {scope.label}",
            body={"name": name, "value": value},
        )

    def delete_variable(self, scope: Holder, name: str) -> None:
        self._call(
            "DELETE",
            f"{scope.base}/variables/{_q(name)}",
            f"delete variable {name} from {scope.label}",
        )

    # -- secrets ------------------------------------------------------------------------

    def public_key(self, scope: Holder) -> PublicKey:
        """The scope's sealing key, fetched once per scope and run."""
        if scope not in self._keys:
            data = self._call(
                "GET", f"{scope.base}/secrets/public-key", f"read the public key of {scope.label}"
            )
            self._keys[scope] = PublicKey(key_id=str(data["key_id"]), key=str(data["key"]))
        return self._keys[scope]

    def secret(self, scope: Holder, name: str) -> SecretInfo | None:
        data = self._read(
            f"{scope.base}/secrets/{_q(name)}", f"read secret {name} of {scope.label}"
        )
        return None if data is None else SecretInfo(name, str(data.get("updated_at", "")))

    def secrets(self, scope: Holder) -> list[SecretInfo]:
        """The names (never the values: GitHub returns none) of a scope's secrets."""
        found = self._list(f"{scope.base}/secrets", f"list the secrets of {scope.label}", "secrets")
        return [SecretInfo(str(s["name"]), str(s.get("updated_at", ""))) for s in found]

    def organization_secrets(self, org: str) -> list[SecretInfo]:
        """An organisation's own secrets (organisation permission Secrets: read)."""
        path = f"/orgs/{_q(org)}/actions/secrets"
        found = self._list(path, f"list the secrets of organization {org}", "secrets")
        return [SecretInfo(str(s["name"]), str(s.get("updated_at", ""))) for s in found]

    def shared_secrets(self, repo: GitHubRepo) -> list[SecretInfo]:
        """The organisation secrets this repository may use (its Secrets: read)."""
        path = f"{self._repo_path(repo)}/actions/organization-secrets"
        what = f"list the organization secrets of {repo.full_name}"
        found = self._list(path, what, "secrets")
        return [SecretInfo(str(s["name"]), str(s.get("updated_at", ""))) for s in found]

    def put_secret(self, scope: Holder, name: str, value: Secret) -> None:
        key = self.public_key(scope)
        self._call(
            "PUT",
            f"{scope.base}/secrets/{_q(name)}",
            f"write secret {name} in {scope.label}",
            body={"encrypted_value": seal(key.key, value), "key_id": key.key_id},
        )

    def delete_secret(self, scope: Holder, name: str) -> None:
        self._call(
            "DELETE",
            f"{scope.base}/secrets/{_q(name)}",
            f"delete secret {name} from {scope.label}",
        )

    # -- files, branches and pull requests ---------------------------------------------------

    def _repo_path(self, repo: GitHubRepo) -> str:
        return f"/repos/{_q(repo.owner)}/{_q(repo.name)}"

    def require_classic_scopes(self, needed: frozenset[str], why: str) -> None:
        """A classic token says its scopes, so a missing one is caught before any write."""
        if self.classic_scopes is not None and not needed <= self.classic_scopes:
            missing = ", ".join(sorted(needed - self.classic_scopes))
            raise GitHubError(
                f"the GitHub token lacks the {missing} scope, which {why} needs",
                "add it to the token (fine-grained tokens: see the README's permissions)",
                status=403,
            )

    def branch_head(self, repo: GitHubRepo, branch: str) -> str | None:
        """The commit a branch points at, or None if there is no such branch."""
        data = self._read(
            f"{self._repo_path(repo)}/git/ref/{_q('heads/' + branch)}",
            f"read branch {branch} of {repo.full_name}",
        )
        return None if data is None else str(data["object"]["sha"])

    def create_branch(self, repo: GitHubRepo, branch: str, sha: str) -> None:
        self._call(
            "POST",
            f"{self._repo_path(repo)}/git/refs",
            f"create branch {branch} in {repo.full_name}",
            body={"ref": f"refs/heads/{branch}", "sha": sha},
        )

    def reset_branch(self, repo: GitHubRepo, branch: str, sha: str) -> None:
        self._call(
            "PATCH",
            f"{self._repo_path(repo)}/git/refs/{_q('heads/' + branch)}",
            f"move branch {branch} of {repo.full_name}",
            body={"sha": sha, "force": True},
        )

    def workflows(self, repo: GitHubRepo) -> list[str]:
        """The paths of the repository's workflow files GitHub knows (not deleted ones,
        nor dynamic ones such as code scanning's, which have no file)."""
        path = f"{self._repo_path(repo)}/actions/workflows"
        found = self._list(path, f"list the workflows of {repo.full_name}", "workflows")
        return sorted(
            str(w["path"])
            for w in found
            if str(w.get("path", "")).startswith(WORKFLOWS_DIR) and w.get("state") != "deleted"
        )

    def file(self, repo: GitHubRepo, path: str, branch: str) -> RepoFile | None:
        """A text file on a branch, or None if it is not there."""
        data = self._read(
            f"{self._repo_path(repo)}/contents/{_q(path)}",
            f"read {path} on {branch} of {repo.full_name}",
            params={"ref": branch},
            headers={"Accept": "application/json"},
        )
        if data is None:
            return None
        if not isinstance(data, dict) or data.get("type") != "file":
            raise GitHubError(
                f"{path} on {branch} of {repo.full_name} is not a file",
                "move it away, or choose another path with --workflow-path",
            )
        text = base64.b64decode(data.get("content") or "").decode("utf-8", errors="replace")
        return RepoFile(str(data["sha"]), text)

    def folder(self, repo: GitHubRepo, path: str, branch: str) -> list[str]:
        """The paths of the files directly in a folder on a branch ([] if it is not there)."""
        data = self._read(
            f"{self._repo_path(repo)}/contents/{_q(path.rstrip('/'))}",
            f"list {path} on {branch} of {repo.full_name}",
            params={"ref": branch},
            headers={"Accept": "application/vnd.github.object"},  # a folder as one object
        )
        if not isinstance(data, dict) or data.get("type") != "dir":  # absent, or a file
            return []
        entries = data.get("entries") or ()
        return sorted(str(item["path"]) for item in entries if item.get("type") == "file")

    def put_file(
        self, repo: GitHubRepo, path: str, text: str, *, branch: str, message: str, sha: str | None
    ) -> None:
        body = {
            "message": message,
            "content": base64.b64encode(text.encode("utf-8")).decode(),
            "branch": branch,
        }
        if sha is not None:
            body["sha"] = sha
        self._call(
            "PUT",
            f"{self._repo_path(repo)}/contents/{_q(path)}",
            f"write {path} on {branch} of {repo.full_name}",
            body=body,
        )

    def delete_file(
        self, repo: GitHubRepo, path: str, *, branch: str, message: str, sha: str
    ) -> None:
        self._call(
            "DELETE",
            f"{self._repo_path(repo)}/contents/{_q(path)}",
            f"delete {path} on {branch} of {repo.full_name}",
            body={"message": message, "sha": sha, "branch": branch},
        )

    def delete_branch(self, repo: GitHubRepo, branch: str) -> None:
        self._call(
            "DELETE",
            f"{self._repo_path(repo)}/git/refs/{_q('heads/' + branch)}",
            f"delete branch {branch} of {repo.full_name}",
        )

    def commit(self, repo: GitHubRepo, sha: str) -> Commit:
        """One commit's message and author (the first of the list that starts at it)."""
        [data] = self._call(
            "GET",
            f"{self._repo_path(repo)}/commits",
            f"read commit {sha} of {repo.full_name}",
            params={"sha": sha, "per_page": "1"},
        )
        made = data["commit"]
        return Commit(str(data["sha"]), str(made["message"]), str(made["author"]["name"]))

    def pull_requests(self, repo: GitHubRepo, branch: str, state: str) -> list[PullRequest]:
        """The pull requests (`state`: open, closed) from `branch` into the default branch."""
        data = self._call(
            "GET",
            f"{self._repo_path(repo)}/pulls",
            f"list pull requests of {repo.full_name}",
            params={"state": state, "head": f"{repo.owner}:{branch}", "base": repo.default_branch},
        )
        return [
            PullRequest(
                int(item["number"]),
                str(item["html_url"]),
                str(item.get("title") or ""),
                str(item.get("body") or ""),
                str(item["head"]["sha"]),
                item.get("merged_at") is not None,
            )
            for item in data or ()
        ]

    def open_pull_request(self, repo: GitHubRepo, branch: str) -> PullRequest | None:
        """The open pull request from `branch` into the default branch, if any."""
        return next(iter(self.pull_requests(repo, branch, "open")), None)

    def update_pull_request(self, repo: GitHubRepo, number: int, title: str, body: str) -> None:
        self._call(
            "PATCH",
            f"{self._repo_path(repo)}/pulls/{number}",
            f"update pull request #{number} of {repo.full_name}",
            body={"title": title, "body": body},
        )

    def create_pull_request(
        self, repo: GitHubRepo, branch: str, title: str, body: str
    ) -> PullRequest:
        data = self._call(
            "POST",
            f"{self._repo_path(repo)}/pulls",
            f"open a pull request in {repo.full_name}",
            body={"title": title, "head": branch, "base": repo.default_branch, "body": body},
        )
        return PullRequest(int(data["number"]), str(data["html_url"]))


def _github_repo(data: dict[str, Any]) -> GitHubRepo:
    permissions = data.get("permissions") or {}
    return GitHubRepo(
        owner=data["owner"]["login"],
        name=data["name"],
        owner_id=int(data["owner"]["id"]),
        repo_id=int(data["id"]),
        default_branch=str(data.get("default_branch") or "main"),
        can_push=bool(permissions.get("push", True)),
        is_admin=bool(permissions.get("admin", True)),
    )
