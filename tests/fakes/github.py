"""A stateful stand-in for GitHub's REST API: the endpoints ghbootstrap uses, no more.

It holds repositories, environments, Actions variables and secrets, one real NaCl key
pair per scope (so it decrypts what it receives, and tests can check secret values),
organisation secrets with their visibility, OIDC subject settings, tokens with
permissions, and git: branches, commits (each a snapshot of every file, with its message,
author and parent), file contents per branch and pull requests, which tests merge with
`merge()` or `close()`; `push()` is someone else's commit. Lists (an owner's
repositories, secrets, environments, workflows) come in pages. Every 200 answer to a GET
carries an ETag, and a GET naming it in If-None-Match gets 304 with no body, as GitHub's
conditional requests do. `handle()` is plain HTTP in, HTTP out; `tests/fakes/serve.py`
puts it behind `responses` or a real server on 127.0.0.1.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from nacl.public import PrivateKey, SealedBox

# GitHub's OpenAPI description, vendored with its licence and provenance in tests/openapi/.
SPEC = Path(__file__).resolve().parents[1] / "openapi" / "github-actions-subset.json"
ALL_PERMISSIONS = frozenset(
    {
        "metadata",
        "actions",
        "contents",
        "secrets",
        "variables",
        "environments",
        "administration",
        "workflows",
        "pull_requests",
        "organization_administration",  # reads the organization's OIDC settings
        "organization_secrets",  # an organisation permission: its secrets, read
    }
)
WORKFLOWS_DIR = ".github/workflows/"
WORKFLOW_REGISTERED = "2026-01-01T00:00:00Z"  # when GitHub first saw each workflow file
# Asked for in `Accept`, the contents API answers a folder as one object with `entries`
# instead of an array.
OBJECT_MEDIA_TYPE = "application/vnd.github.object"


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body).encode()


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any

    @property
    def is_write(self) -> bool:
        return self.method != "GET"


@dataclass
class Token:
    """A token's reach: which repositories (lower-case OWNER/REPO, or None for all)
    and which fine-grained permissions it holds."""

    repositories: frozenset[str] | None = None
    permissions: frozenset[str] = ALL_PERMISSIONS
    role: str = "admin"  # the account's role on repositories: admin, write or read
    scopes: str | None = None  # a classic token's X-OAuth-Scopes; None for fine-grained


@dataclass
class Scope:
    """Variables and secrets of a repository or of one environment, and its key pair."""

    key_id: str
    private_key: PrivateKey = field(default_factory=PrivateKey.generate)
    variables: dict[str, dict[str, str]] = field(default_factory=dict)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    plaintext: dict[str, str] = field(default_factory=dict)

    @property
    def public_key(self) -> str:
        return base64.b64encode(bytes(self.private_key.public_key)).decode()


@dataclass
class Environment:
    id: int
    name: str
    created_at: str
    scope: Scope


@dataclass
class Pull:
    number: int
    head: str
    base: str
    title: str
    body: str
    state: str = "open"
    merged: bool = False
    merged_at: str | None = None
    closed_at: str | None = None
    closed_head: str = ""  # the head commit when it was closed: GitHub keeps it


@dataclass(frozen=True)
class Commit:
    message: str
    author: tuple[str, str]  # name, e-mail (the committer too)
    parent: str | None


TOKEN_USER = ("octocat", "octocat@users.noreply.github.com")  # commits through the API
REVIEWER = ("Rita Reviewer", "rita@example.com")


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    owner_id: int
    default_branch: str
    scope: Scope
    oidc: dict[str, Any] = field(default_factory=lambda: {"use_default": True})
    visibility: str = "public"  # public, private or internal
    archived: bool = False
    # Newer GitHub answers the OIDC template with the resulting `sub_claim_prefix`;
    # older servers (and GHES) do not. Tests switch it off to cover both.
    reports_prefix: bool = True
    environments: dict[str, Environment] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)  # branch -> commit SHA
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # SHA -> every file
    log: dict[str, Commit] = field(default_factory=dict)  # SHA -> message, author, parent
    pulls: list[Pull] = field(default_factory=list)
    # The fake keeps no history: files deleted on a branch since it was (re)set, so a
    # merge deletes them on the base too.
    deleted: dict[str, set[str]] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def files(self) -> dict[str, bytes]:
        """The default branch's files (tests may arrange them in place)."""
        return self.commits[self.branches[self.default_branch]]

    def branch_files(self, branch: str) -> dict[str, bytes]:
        return self.commits[self.branches[branch]]

    def commit(
        self,
        branch: str,
        files: dict[str, bytes],
        message: str = "Initial commit",
        author: tuple[str, str] = TOKEN_USER,
    ) -> str:
        sha = hashlib.sha1(f"{len(self.commits)}{sorted(files)}".encode()).hexdigest()  # noqa: S324
        self.commits[sha] = dict(files)
        self.log[sha] = Commit(message, author, self.branches.get(branch))
        self.branches[branch] = sha
        return sha


@dataclass
class OrgSecret:
    """An organisation secret: which of the organisation's repositories may use it
    (`all`, `private`: private and internal ones, or `selected`: those listed by id)."""

    name: str
    created_at: str
    updated_at: str
    visibility: str = "all"
    selected: set[int] = field(default_factory=set)

    def visible_to(self, repo: Repo) -> bool:
        if self.visibility == "all":
            return True
        if self.visibility == "private":
            return repo.visibility in ("private", "internal")
        return repo.id in self.selected


class Clock:
    """GitHub's clock: whole seconds, one tick per write, so 'updated_at' moves, unless
    frozen: then every write lands in the same second, as fast writes do on GitHub. Or
    the wall clock (`follow_wall`), for tests that compare GitHub's times with AWS's."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)
        self.frozen = False
        self.wall = False

    def freeze(self, at: str) -> None:
        """Stop the clock at `at` (an `updated_at`): later writes land in that second."""
        self.now = datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        self.frozen, self.wall = True, False

    def follow_wall(self) -> None:
        """GitHub's own time from now on: the wall clock's second, shared by the writes
        within it (moto stamps AWS's with the same clock)."""
        self.frozen, self.wall = False, True

    def tick(self) -> str:
        if self.wall:
            self.now = datetime.now(UTC).replace(microsecond=0)
        elif not self.frozen:
            self.now += timedelta(seconds=1)
        return self.stamp()

    def stamp(self) -> str:
        return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")


Fault = Callable[[Request], Response | None]

SECONDARY_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


@dataclass
class Limits:
    """GitHub's latency and secondary limits, off unless a test or the benchmark sets them:
    more than `max_in_flight` requests at once get 403, more than `writes_per_second`
    writes within a second get 429, both with `retry-after` as GitHub sends it."""

    latency: float = 0.0  # seconds added to every answer
    max_in_flight: int | None = None
    writes_per_second: int | None = None
    retry_after: int = 1


@dataclass
class Traffic:
    """What the limits saw: requests in flight now and at the peak, limit answers given."""

    in_flight: int = 0
    peak_in_flight: int = 0
    limit_answers: int = 0
    writes: deque[float] = field(default_factory=deque)


class FakeGitHub:
    def __init__(self, token: str = "ghp_fake_token_0123456789") -> None:
        self.tokens: dict[str, Token] = {token: Token()}
        self.token = token
        self.repos: dict[str, Repo] = {}
        # Organizations' OIDC subject settings (lower-case login): a repository with no
        # `use_immutable_subject` of its own follows its organization's. A user account
        # has none (GitHub answers 404).
        self.orgs: dict[str, dict[str, Any]] = {}
        self.org_secrets: dict[str, dict[str, OrgSecret]] = {}  # lower-case org -> by name
        self.users: set[str] = set()  # lower-case logins of user accounts; others are orgs
        self.requests: list[tuple[Request, Response]] = []
        self.faults: list[Fault] = []
        self.observers: list[Callable[[Request, Response], None]] = []
        self.clock = Clock()
        self._ids = count(1000)
        self._lock = threading.Lock()
        self.limits = Limits()
        self.traffic = Traffic()
        self._traffic_lock = threading.Lock()

    # -- arranging state -------------------------------------------------------------------

    def add_repo(
        self, full_name: str, *, default_branch: str = "main", oidc: dict[str, Any] | None = None
    ) -> Repo:
        owner, name = full_name.split("/")
        repo = Repo(
            owner=owner,
            name=name,
            id=next(self._ids),
            owner_id=next(self._ids),
            default_branch=default_branch,
            scope=Scope(key_id=str(next(self._ids))),
        )
        if oidc is not None:
            repo.oidc = oidc
        repo.commit(default_branch, {})
        self.repos[full_name.lower()] = repo
        return repo

    def merge(self, full_name: str, number: int) -> None:
        """Merge an open pull request: its branch's files land on its base branch."""
        repo = self.repo(full_name)
        pull = next(p for p in repo.pulls if p.number == number)
        assert pull.state == "open"
        merged = {**repo.branch_files(pull.base), **repo.branch_files(pull.head)}
        for path in repo.deleted.pop(pull.head, set()):
            merged.pop(path, None)
        repo.commit(pull.base, merged, f"Merge pull request #{number}")
        pull.merged, pull.merged_at = True, self.close(full_name, number)

    def close(self, full_name: str, number: int) -> str:
        """Close an open pull request (without merging it, unless `merge` calls this)."""
        repo = self.repo(full_name)
        pull = next(p for p in repo.pulls if p.number == number)
        pull.state, pull.closed_head = "closed", repo.branches[pull.head]
        pull.closed_at = self.clock.tick()
        return pull.closed_at

    def push(
        self,
        full_name: str,
        branch: str,
        files: dict[str, bytes | None],
        message: str = "Tighten the workflow",
        author: tuple[str, str] = REVIEWER,
    ) -> str:
        """Someone else's commit on `branch` (a `git push`, the web editor): `files` maps
        paths to their new content, None deletes one. Returns the commit's SHA."""
        repo = self.repo(full_name)
        changed = dict(repo.branch_files(branch))
        for path, data in files.items():
            if data is None:
                changed.pop(path, None)
                repo.deleted.setdefault(branch, set()).add(path)
            else:
                changed[path] = data
        sha = repo.commit(branch, changed, message, author)
        self.clock.tick()
        return sha

    def repo(self, full_name: str) -> Repo:
        return self.repos[full_name.lower()]

    def scope(self, full_name: str, environment: str | None = None) -> Scope:
        repo = self.repo(full_name)
        return repo.scope if environment is None else repo.environments[environment.lower()].scope

    def secret(self, full_name: str, name: str, environment: str | None = None) -> str | None:
        """The decrypted value GitHub holds (tests only: GitHub never returns it)."""
        return self.scope(full_name, environment).plaintext.get(name)

    def put_secret(
        self, full_name: str, name: str, value: str, environment: str | None = None
    ) -> None:
        """A secret someone else wrote (another tool, or a person in the settings page)."""
        scope = self.scope(full_name, environment)
        now = self.clock.tick()
        created = scope.secrets.get(name, {}).get("created_at", now)
        scope.secrets[name] = {"name": name, "created_at": created, "updated_at": now}
        scope.plaintext[name] = value

    def put_org_secret(
        self, org: str, name: str, *, visibility: str = "all", repositories: tuple[str, ...] = ()
    ) -> OrgSecret:
        """An organisation secret someone set (the fake keeps no value: nothing reads it)."""
        now = self.clock.tick()
        secret = OrgSecret(name, now, now, visibility, {self.repo(r).id for r in repositories})
        self.org_secrets.setdefault(org.lower(), {})[name] = secret
        return secret

    def environment(self, full_name: str, name: str) -> Environment:
        """An environment someone made (tests arrange it; the tool creates its own by PUT)."""
        repo = self.repo(full_name)
        if name.lower() not in repo.environments:
            repo.environments[name.lower()] = Environment(
                id=next(self._ids),
                name=name,
                created_at=self.clock.tick(),
                scope=Scope(key_id=str(next(self._ids))),
            )
        return repo.environments[name.lower()]

    def variables(self, full_name: str, environment: str | None = None) -> dict[str, str]:
        scope = self.scope(full_name, environment)
        return {name: v["value"] for name, v in scope.variables.items()}

    def writes(self) -> list[str]:
        return [f"{r.method} {r.path}" for r, _ in self.requests if r.is_write]

    # -- HTTP --------------------------------------------------------------------------------

    def handle(self, method: str, url: str, headers: dict[str, str], raw: bytes | None) -> Response:
        parts = urlsplit(url)
        body = json.loads(raw) if raw else None
        request = Request(method.upper(), parts.path, parts.query, dict(headers), body)
        crowded = self._arrive()
        try:
            if self.limits.latency:
                time.sleep(self.limits.latency)  # the network and GitHub's own work
            with self._lock:
                response = self._secondary_limit(request, crowded) or self._dispatch(request)
                self.requests.append((request, response))
        finally:
            with self._traffic_lock:
                self.traffic.in_flight -= 1
        for observe in self.observers:
            observe(request, response)
        return response

    def _arrive(self) -> bool:
        """Count the request in; True if it makes more in flight than the limit allows."""
        with self._traffic_lock:
            traffic = self.traffic
            traffic.in_flight += 1
            traffic.peak_in_flight = max(traffic.peak_in_flight, traffic.in_flight)
            limit = self.limits.max_in_flight
            return limit is not None and traffic.in_flight > limit

    def _secondary_limit(self, request: Request, crowded: bool) -> Response | None:
        limits, traffic = self.limits, self.traffic
        answer = None
        if crowded:
            answer = _error(403, SECONDARY_LIMIT)
        elif request.is_write and limits.writes_per_second is not None:
            now = time.monotonic()
            while traffic.writes and traffic.writes[0] <= now - 1.0:
                traffic.writes.popleft()
            if len(traffic.writes) >= limits.writes_per_second:
                answer = _error(429, SECONDARY_LIMIT)
            else:
                traffic.writes.append(now)
        if answer is None:
            return None
        answer.headers["Retry-After"] = str(limits.retry_after)
        with self._traffic_lock:
            traffic.limit_answers += 1
        return answer

    def _dispatch(self, request: Request) -> Response:
        for fault in self.faults:
            injected = fault(request)
            if injected is not None:
                return injected
        token = self._token(request)
        if token is None:
            return _error(401, "Bad credentials")
        answer = _conditional(request, self._answer(request, token))
        if token.scopes is not None:
            answer.headers.setdefault("X-OAuth-Scopes", token.scopes)
        return answer

    def _answer(self, request: Request, token: Token) -> Response:
        segments = [unquote(s) for s in request.path.strip("/").split("/")]
        if segments == ["user"]:
            return Response(200, {"login": "octocat", "id": 1, "type": "User"})
        if segments[:1] == ["orgs"] and segments[2:] == ["actions", "oidc", "customization", "sub"]:
            return self._org_oidc(request, token, segments[1])
        if request.method == "GET" and len(segments) >= 3 and segments[0] in ("orgs", "users"):
            return self._owner(request, token, segments)
        if segments[:1] != ["repos"] or len(segments) < 3:
            return _error(404, "Not Found")
        repo = self.repos.get(f"{segments[1]}/{segments[2]}".lower())
        if repo is None or not _can_see(token, repo):
            return _error(404, "Not Found")
        return self._route(request, token, repo, segments[3:])

    def _token(self, request: Request) -> Token | None:
        auth = {k.lower(): v for k, v in request.headers.items()}.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() not in ("token", "bearer"):
            return None
        return self.tokens.get(value)

    def _route(self, request: Request, token: Token, repo: Repo, rest: list[str]) -> Response:
        m = request.method
        if not rest:
            return self._need(token, "metadata") or (
                Response(200, self._repository(repo, token))
                if m == "GET"
                else _error(404, "Not Found")
            )
        if rest == ["actions", "oidc", "customization", "sub"]:
            return self._need(token, "actions") or self._oidc(request, repo)
        if rest[0] == "contents" and len(rest) == 2:
            return self._contents(request, token, repo, rest[1])
        if rest[0] == "git" and len(rest) == 3 and rest[1] in ("ref", "refs"):
            return self._need(token, "contents", request) or self._ref(request, repo, rest[2])
        if rest == ["git", "refs"] and request.method == "POST":
            return self._need(token, "contents", request) or self._create_ref(request, repo)
        if rest == ["commits"] and request.method == "GET":
            return self._need(token, "contents") or self._commits(request, repo)
        if rest == ["pulls"]:
            return self._need(token, "pull_requests", request) or self._pulls(request, repo)
        if m == "GET" and rest == ["actions", "organization-secrets"]:
            return self._need(token, "secrets") or self._repo_org_secrets(request, repo)
        if m == "GET" and rest == ["actions", "workflows"]:
            return self._need(token, "actions") or self._workflows(request, repo)
        if m == "GET" and rest == ["environments"]:
            return self._need(token, "actions") or self._environments(request, repo)
        if rest[0] == "pulls" and len(rest) == 2 and request.method == "PATCH":
            denied = self._need(token, "pull_requests", request)
            return denied or self._update_pull(request, repo, rest[1])
        if rest[0] == "actions":
            return self._scoped(request, token, repo.scope, rest[1:], environment=False)
        if rest[0] == "environments" and len(rest) >= 2:
            env = repo.environments.get(rest[1].lower())
            if len(rest) == 2:
                return self._environment(request, token, repo, rest[1], env)
            if env is None:
                return _error(404, "Not Found")
            return self._scoped(request, token, env.scope, rest[2:], environment=True)
        return _error(404, "Not Found")

    # -- an owner's lists, and the lists of a repository scan reads --------------------------

    def _owner(self, request: Request, token: Token, segments: list[str]) -> Response:
        """GET /orgs/ORG/repos, /orgs/ORG/actions/secrets, /users/USER/repos."""
        kind, login, rest = segments[0], segments[1].lower(), segments[2:]
        owned = [r for r in self.repos.values() if r.owner.lower() == login]
        exists = bool(owned) or login in self.users or login in self.org_secrets
        if not exists or (kind == "orgs" and login in self.users):
            return _error(404, "Not Found")
        if rest == ["repos"]:
            visible = [r for r in owned if _can_see(token, r)]
            if kind == "users":  # GitHub lists a user's public repositories only
                visible = [r for r in visible if r.visibility == "public"]
            denied = self._need(token, "metadata")
            return denied or Response(
                200, [self._minimal_repository(r, token) for r in _page(visible, request)]
            )
        if kind == "orgs" and rest == ["actions", "secrets"]:
            denied = self._need(token, "organization_secrets")
            secrets = list(self.org_secrets.get(login, {}).values())
            url = f"https://api.github.com/orgs/{login}/actions/secrets"
            items = [
                {
                    "name": s.name,
                    "created_at": s.created_at,
                    "updated_at": s.updated_at,
                    "visibility": s.visibility,
                    **(
                        {"selected_repositories_url": f"{url}/{s.name}/repositories"}
                        if s.visibility == "selected"
                        else {}
                    ),
                }
                for s in _page(secrets, request)
            ]
            return denied or Response(200, {"total_count": len(secrets), "secrets": items})
        return _error(404, "Not Found")

    def _minimal_repository(self, repo: Repo, token: Token) -> dict[str, Any]:
        body = copy.deepcopy(_example("minimal-repository-items")[0])
        body.update(
            id=repo.id,
            name=repo.name,
            full_name=repo.full_name,
            default_branch=repo.default_branch,
            private=repo.visibility != "public",
            visibility=repo.visibility,
            archived=repo.archived,
            url=f"https://api.github.com/repos/{repo.full_name}",
            html_url=f"https://github.com/{repo.full_name}",
        )
        body["owner"].update(login=repo.owner, id=repo.owner_id)
        body["permissions"] = self._repository(repo, token)["permissions"]
        return body

    def _repo_org_secrets(self, request: Request, repo: Repo) -> Response:
        visible = [
            {"name": s.name, "created_at": s.created_at, "updated_at": s.updated_at}
            for s in self.org_secrets.get(repo.owner.lower(), {}).values()
            if s.visible_to(repo)
        ]
        return Response(200, {"total_count": len(visible), "secrets": _page(visible, request)})

    def _environments(self, request: Request, repo: Repo) -> Response:
        found = list(repo.environments.values())
        bodies = [self._environment_body(repo, env) for env in _page(found, request)]
        return Response(200, {"total_count": len(found), "environments": bodies})

    def _workflows(self, request: Request, repo: Repo) -> Response:
        """What GitHub lists: a workflow for each file under .github/workflows/ on the
        default branch (named by its `name:` line, else its path)."""
        paths = sorted(
            p
            for p in repo.files
            if p.startswith(WORKFLOWS_DIR)
            and "/" not in p.removeprefix(WORKFLOWS_DIR)
            and p.endswith((".yml", ".yaml"))
        )
        bodies = []
        for path in _page(paths, request):
            number = int(hashlib.sha1(f"{repo.id}{path}".encode()).hexdigest()[:7], 16)  # noqa: S324
            named = re.search(r"^name:\s*(.+?)\s*$", repo.files[path].decode(), re.MULTILINE)
            api = f"https://api.github.com/repos/{repo.full_name}/actions/workflows/{number}"
            bodies.append(
                {
                    "id": number,
                    "node_id": f"W_{number}",
                    "name": named.group(1).strip("'\"") if named else path,
                    "path": path,
                    "state": "active",
                    "created_at": WORKFLOW_REGISTERED,
                    "updated_at": WORKFLOW_REGISTERED,
                    "url": api,
                    "html_url": f"https://github.com/{repo.full_name}/blob/"
                    f"{repo.default_branch}/{path}",
                    "badge_url": f"https://github.com/{repo.full_name}/workflows/{number}/badge.svg",
                }
            )
        return Response(200, {"total_count": len(paths), "workflows": bodies})

    def _need(
        self, token: Token, permission: str, request: Request | None = None
    ) -> Response | None:
        if permission not in token.permissions:
            return _error(403, "Resource not accessible by personal access token")
        if request is not None and request.is_write:
            needed = ("admin",) if permission == "administration" else ("admin", "write")
            if token.role not in needed:
                return _error(403, f"Must have {needed[-1]} rights to Repository.")
        return None

    def _repository(self, repo: Repo, token: Token) -> dict[str, Any]:
        body = copy.deepcopy(_example("full-repository-default-response"))
        body.update(
            id=repo.id,
            name=repo.name,
            full_name=repo.full_name,
            default_branch=repo.default_branch,
            language="Python",
        )
        body["source"]["language"] = "Python"  # required; GitHub's own example lacks it
        body["owner"].update(login=repo.owner, id=repo.owner_id)
        body["permissions"] = {
            "admin": token.role == "admin",
            "maintain": token.role == "admin",
            "push": token.role in ("admin", "write"),
            "triage": token.role in ("admin", "write"),
            "pull": True,
        }
        return body

    def _org_oidc(self, request: Request, token: Token, login: str) -> Response:
        settings = self.orgs.get(login.lower())
        if settings is None or request.method != "GET":
            return _error(404, "Not Found")
        if "organization_administration" not in token.permissions:
            return _error(403, "Resource not accessible by personal access token")
        return Response(200, {"include_claim_keys": [], **settings})

    def _oidc(self, request: Request, repo: Repo) -> Response:
        if request.method == "GET":
            answer = dict(repo.oidc)
            if repo.reports_prefix:
                answer["sub_claim_prefix"] = _sub_claim_prefix(repo, self.orgs)
            return Response(200, answer)
        if request.method == "PUT":
            repo.oidc = dict(request.body or {})
            self.clock.tick()
            return Response(201, {})
        return _error(404, "Not Found")

    def _contents(self, request: Request, token: Token, repo: Repo, path: str) -> Response:
        """A file, or a folder's listing, on a branch (`path` arrives with '/' as %2F; `ref`
        names the branch)."""
        denied = self._need(token, "contents", request)
        if not denied and request.is_write and path.startswith(WORKFLOWS_DIR):
            denied = self._need(token, "workflows", request)
        if denied:
            return denied
        if request.method == "GET":
            branch = parse_qs(request.query).get("ref", [repo.default_branch])[0]
            if branch not in repo.branches:
                return _error(404, "Not Found")
            if path not in repo.branch_files(branch):
                listed = self._folder_body(repo, path, branch)
                if not listed:
                    return _error(404, "Not Found")
                accept = {k.lower(): v for k, v in request.headers.items()}.get("accept", "")
                if OBJECT_MEDIA_TYPE not in accept:
                    return Response(200, listed)
                return Response(200, {**self._dir_entry(repo, path, branch), "entries": listed})
            return Response(200, self._file_body(repo, path, branch))
        if request.method == "PUT":
            body = request.body or {}
            branch = body.get("branch") or repo.default_branch
            if branch not in repo.branches:
                return _error(404, f"Branch {branch} not found")
            files = dict(repo.branch_files(branch))
            existed = path in files
            if existed and body.get("sha") != _git_sha(files[path]):
                return _error(409, f"{path} does not match {body.get('sha')}")
            if not existed and body.get("sha"):
                return _error(422, "Invalid request. sha wasn't supplied for a new file")
            files[path] = base64.b64decode(body["content"])
            sha = repo.commit(branch, files, body.get("message", ""))
            repo.deleted.get(branch, set()).discard(path)
            self.clock.tick()
            commit = {"sha": sha, "message": body.get("message", "")}
            return Response(
                200 if existed else 201,
                {"content": self._file_body(repo, path, branch), "commit": commit},
            )
        if request.method == "DELETE":
            body = request.body or {}
            branch = body.get("branch") or repo.default_branch
            if branch not in repo.branches or path not in repo.branch_files(branch):
                return _error(404, "Not Found")
            files = dict(repo.branch_files(branch))
            if body.get("sha") != _git_sha(files.pop(path)):
                return _error(409, f"{path} does not match {body.get('sha')}")
            sha = repo.commit(branch, files, body.get("message", ""))
            repo.deleted.setdefault(branch, set()).add(path)
            self.clock.tick()
            return Response(
                200, {"content": None, "commit": {"sha": sha, "message": body["message"]}}
            )
        return _error(404, "Not Found")

    def _ref_body(self, repo: Repo, branch: str) -> dict[str, Any]:
        api = f"https://api.github.com/repos/{repo.full_name}/git"
        sha = repo.branches[branch]
        return {
            "ref": f"refs/heads/{branch}",
            "node_id": f"REF_{sha[:12]}",
            "url": f"{api}/refs/heads/{branch}",
            "object": {"type": "commit", "sha": sha, "url": f"{api}/commits/{sha}"},
        }

    def _ref(self, request: Request, repo: Repo, ref: str) -> Response:
        """GET git/ref/heads/NAME, PATCH and DELETE git/refs/heads/NAME (`ref` arrives as
        heads%2FNAME)."""
        kind, _, branch = ref.partition("/")
        if kind != "heads" or branch not in repo.branches:
            return _error(404 if request.method == "GET" else 422, "Reference does not exist")
        if request.method == "GET" and "/git/ref/" in request.path:
            return Response(200, self._ref_body(repo, branch))
        if request.method == "DELETE" and "/git/refs/" in request.path:
            if branch == repo.default_branch:
                return _error(422, "Cannot delete the default branch")
            del repo.branches[branch]
            repo.deleted.pop(branch, None)
            self.clock.tick()
            return Response(204)
        if request.method == "PATCH" and "/git/refs/" in request.path:
            body = request.body or {}
            if body.get("sha") not in repo.commits:
                return _error(422, "Object does not exist")
            if not body.get("force"):
                return _error(422, "Update is not a fast forward")  # no history kept here
            repo.branches[branch] = body["sha"]
            repo.deleted.pop(branch, None)
            self.clock.tick()
            return Response(200, self._ref_body(repo, branch))
        return _error(404, "Not Found")

    def _create_ref(self, request: Request, repo: Repo) -> Response:
        body = request.body or {}
        ref, sha = str(body.get("ref", "")), body.get("sha")
        if not ref.startswith("refs/heads/") or sha not in repo.commits:
            return _error(422, "Reference update failed")
        branch = ref.removeprefix("refs/heads/")
        if branch in repo.branches:
            return _error(422, "Reference already exists")
        repo.branches[branch] = sha
        self.clock.tick()
        return Response(201, self._ref_body(repo, branch))

    def _pulls(self, request: Request, repo: Repo) -> Response:
        if request.method == "GET":
            query = {k: v[0] for k, v in parse_qs(request.query).items()}
            state = query.get("state", "open")
            found = [
                p
                for p in repo.pulls
                if state in ("all", p.state)
                and query.get("head", f"{repo.owner}:{p.head}").lower()
                == f"{repo.owner}:{p.head}".lower()
                and query.get("base", p.base) == p.base
            ]
            return Response(200, [self._pull_body(repo, p, simple=True) for p in found])
        if request.method == "POST":
            body = request.body or {}
            head, base = body.get("head", ""), body.get("base", "")
            if head not in repo.branches or base not in repo.branches:
                return _error(422, "Validation Failed: head or base does not exist")
            if repo.branch_files(head) == repo.branch_files(base):
                return _error(422, f"Validation Failed: No commits between {base} and {head}")
            if any(p.head == head and p.base == base and p.state == "open" for p in repo.pulls):
                return _error(422, f"Validation Failed: A pull request already exists for {head}")
            pull = Pull(
                len(repo.pulls) + 1, head, base, body.get("title", ""), body.get("body", "")
            )
            repo.pulls.append(pull)
            self.clock.tick()
            return Response(201, self._pull_body(repo, pull, simple=False))
        return _error(404, "Not Found")

    def _update_pull(self, request: Request, repo: Repo, number: str) -> Response:
        pull = next((p for p in repo.pulls if str(p.number) == number), None)
        if pull is None:
            return _error(404, "Not Found")
        body = request.body or {}
        pull.title = body.get("title", pull.title)
        pull.body = body.get("body", pull.body)
        self.clock.tick()
        return Response(200, self._pull_body(repo, pull, simple=False))

    def _commits(self, request: Request, repo: Repo) -> Response:
        """List commits from a branch or commit (`sha`), newest first, `per_page` of them."""
        query = {k: v[0] for k, v in parse_qs(request.query).items()}
        start = query.get("sha", repo.default_branch)
        sha: str | None = repo.branches.get(start, start)
        if sha not in repo.log:
            return _error(404, f"No commit found for SHA: {start}")
        found = []
        while sha is not None and len(found) < int(query.get("per_page", "30")):
            found.append(self._commit_body(repo, sha))
            sha = repo.log[sha].parent
        return Response(200, found)

    def _commit_body(self, repo: Repo, sha: str) -> dict[str, Any]:
        body = copy.deepcopy(_example("commit-items")[0])
        api, web = (
            f"https://api.github.com/repos/{repo.full_name}",
            f"https://github.com/{repo.full_name}",
        )
        made = repo.log[sha]
        person = {"name": made.author[0], "email": made.author[1]}
        body.update(
            sha=sha,
            url=f"{api}/commits/{sha}",
            html_url=f"{web}/commit/{sha}",
            comments_url=f"{api}/commits/{sha}/comments",
            author={},  # the GitHub account behind the e-mail: not modelled here
            committer={},
            parents=[]
            if made.parent is None
            else [{"sha": made.parent, "url": f"{api}/commits/{made.parent}"}],
        )
        body["commit"].update(
            url=f"{api}/git/commits/{sha}",
            author=person,
            committer=person,
            message=made.message,
            tree={"sha": sha, "url": f"{api}/git/trees/{sha}"},
        )
        return body

    def _pull_body(self, repo: Repo, pull: Pull, *, simple: bool) -> dict[str, Any]:
        example = "pull-request-simple-items" if simple else "pull-request"
        body = copy.deepcopy(_example(example))
        if simple:
            body = body[0]
        html = f"https://github.com/{repo.full_name}/pull/{pull.number}"
        body.update(
            number=pull.number,
            state=pull.state,
            title=pull.title,
            body=pull.body,
            html_url=html,
            requested_teams=[],  # GitHub's example lacks the teams' required `type`
        )
        body.update(merged_at=pull.merged_at, closed_at=pull.closed_at)
        if not simple:
            body["merged"] = pull.merged
        head = repo.branches.get(pull.head, "") if pull.state == "open" else pull.closed_head
        for side, branch, sha in (
            ("head", pull.head, head),
            ("base", pull.base, repo.branches[pull.base]),
        ):
            body[side].update(ref=branch, label=f"{repo.owner}:{branch}", sha=sha)
        return body

    def _file_body(self, repo: Repo, path: str, branch: str) -> dict[str, Any]:
        data = repo.branch_files(branch)[path]
        url = f"https://api.github.com/repos/{repo.full_name}/contents/{path}"
        html = f"https://github.com/{repo.full_name}/blob/{branch}/{path}"
        git = f"https://api.github.com/repos/{repo.full_name}/git/blobs/{_git_sha(data)}"
        return {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "content": base64.b64encode(data).decode(),
            "sha": _git_sha(data),
            "url": url,
            "git_url": git,
            "html_url": html,
            "download_url": f"https://raw.githubusercontent.com/{repo.full_name}/HEAD/{path}"
            + ("" if repo.visibility == "public" else f"?token={raw_token(repo.full_name, path)}"),
            "_links": {"self": url, "git": git, "html": html},
        }

    def _folder_body(self, repo: Repo, path: str, branch: str) -> list[dict[str, Any]]:
        """A folder's entries, files and folders directly in it, as GitHub lists them (no
        `content`); empty when no file lies under `path` (git keeps no empty folders)."""
        folder = path.strip("/")
        entries: dict[str, dict[str, Any]] = {}
        for file_path in sorted(repo.branch_files(branch)):
            if not file_path.startswith(f"{folder}/"):
                continue
            name, _, rest = file_path.removeprefix(f"{folder}/").partition("/")
            if rest:
                entries.setdefault(name, self._dir_entry(repo, f"{folder}/{name}", branch))
            else:
                entry = self._file_body(repo, file_path, branch)
                entry.pop("content")
                entry.pop("encoding")
                entries[name] = entry
        return list(entries.values())

    def _dir_entry(self, repo: Repo, path: str, branch: str) -> dict[str, Any]:
        url = f"https://api.github.com/repos/{repo.full_name}/contents/{path}"
        html = f"https://github.com/{repo.full_name}/tree/{branch}/{path}"
        sha = hashlib.sha1(path.encode()).hexdigest()  # noqa: S324 - a stand-in tree id
        git = f"https://api.github.com/repos/{repo.full_name}/git/trees/{sha}"
        return {
            "type": "dir",
            "size": 0,
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            "url": url,
            "git_url": git,
            "html_url": html,
            "download_url": None,
            "_links": {"self": url, "git": git, "html": html},
        }

    def _environment(
        self, request: Request, token: Token, repo: Repo, name: str, env: Environment | None
    ) -> Response:
        if request.method == "GET":
            denied = self._need(token, "actions")
            if denied or env is None:
                return denied or _error(404, "Not Found")
            return Response(200, self._environment_body(repo, env))
        if request.method == "PUT":
            denied = self._need(token, "administration", request)
            if denied:
                return denied
            env = self.environment(repo.full_name, name)
            return Response(200, self._environment_body(repo, env))
        return _error(404, "Not Found")

    def _environment_body(self, repo: Repo, env: Environment) -> dict[str, Any]:
        url = f"https://api.github.com/repos/{repo.full_name}/environments/{env.name}"
        return {
            "id": env.id,
            "node_id": f"EN_{env.id}",
            "name": env.name,
            "url": url,
            "html_url": f"https://github.com/{repo.full_name}/deployments/activity_log",
            "created_at": env.created_at,
            "updated_at": env.created_at,
            "protection_rules": [],
            "deployment_branch_policy": None,
        }

    def _scoped(
        self, request: Request, token: Token, scope: Scope, rest: list[str], *, environment: bool
    ) -> Response:
        """Fine-grained tokens: Secrets / Variables for a repository, Environments for both
        kinds inside an environment."""
        if rest[:1] == ["secrets"]:
            denied = self._need(token, "environments" if environment else "secrets", request)
            return denied or self._secrets(request, scope, rest[1:])
        if rest[:1] == ["variables"]:
            denied = self._need(token, "environments" if environment else "variables", request)
            return denied or self._variables(request, scope, rest[1:])
        return _error(404, "Not Found")

    def _secrets(self, request: Request, scope: Scope, rest: list[str]) -> Response:
        m = request.method
        if rest == ["public-key"] and m == "GET":
            return Response(200, {"key_id": scope.key_id, "key": scope.public_key})
        if not rest and m == "GET":
            items = [dict(v) for v in scope.secrets.values()]
            return Response(200, {"total_count": len(items), "secrets": items})
        if len(rest) != 1:
            return _error(404, "Not Found")
        name = rest[0]
        if m == "GET":
            found = scope.secrets.get(name)
            return Response(200, dict(found)) if found else _error(404, "Not Found")
        if m == "PUT":
            body = request.body or {}
            if body.get("key_id") != scope.key_id:
                return _error(422, "Bad request: key_id does not match the current public key")
            try:
                sealed = base64.b64decode(body["encrypted_value"])
                value = SealedBox(scope.private_key).decrypt(sealed).decode()
            except Exception:
                return _error(422, "Bad request: encrypted_value could not be decrypted")
            now = self.clock.tick()
            existed = name in scope.secrets
            created = scope.secrets[name]["created_at"] if existed else now
            scope.secrets[name] = {"name": name, "created_at": created, "updated_at": now}
            scope.plaintext[name] = value
            return Response(204) if existed else Response(201, {})
        if m == "DELETE":
            if name not in scope.secrets:
                return _error(404, "Not Found")
            del scope.secrets[name]
            scope.plaintext.pop(name, None)
            self.clock.tick()
            return Response(204)
        return _error(404, "Not Found")

    def _variables(self, request: Request, scope: Scope, rest: list[str]) -> Response:
        m, body = request.method, request.body or {}
        if not rest:
            if m == "GET":
                items = [dict(v) for v in scope.variables.values()]
                return Response(200, {"total_count": len(items), "variables": items})
            if m == "POST":
                name = body.get("name", "")
                if name in scope.variables:
                    return _error(409, "Already exists - Variable already exists")
                now = self.clock.tick()
                scope.variables[name] = {
                    "name": name,
                    "value": body.get("value", ""),
                    "created_at": now,
                    "updated_at": now,
                }
                return Response(201, {})
            return _error(404, "Not Found")
        name = rest[0]
        found = scope.variables.get(name)
        if found is None:
            return _error(404, "Not Found")
        if m == "GET":
            return Response(200, dict(found))
        if m == "PATCH":
            found.update(value=body.get("value", found["value"]), updated_at=self.clock.tick())
            return Response(204)
        if m == "DELETE":
            del scope.variables[name]
            self.clock.tick()
            return Response(204)
        return _error(404, "Not Found")


def raw_token(repository: str, path: str) -> str:
    """The token GitHub signs a private repository's raw file URL with (`download_url`):
    anyone holding the URL may read the file."""
    return "A" + hashlib.sha256(f"{repository}/{path}".encode()).hexdigest()[:28].upper()


def _git_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's id


def _sub_claim_prefix(repo: Repo, orgs: dict[str, dict[str, Any]]) -> str:
    """The prefix GitHub reports, worked out here independently of ghbootstrap's code."""
    oidc = repo.oidc
    immutable = oidc.get("use_immutable_subject")
    if immutable is None:  # not set on the repository: its organization's setting
        immutable = orgs.get(repo.owner.lower(), {}).get("use_immutable_subject", False)
    repo_value = (
        f"{repo.owner}@{repo.owner_id}/{repo.name}@{repo.id}" if immutable else repo.full_name
    )
    if oidc.get("use_default", True) or not oidc.get("include_claim_keys"):
        return f"repo:{repo_value}"
    values = {
        "repo": repo_value,
        "repository": repo.full_name,
        "repository_owner": repo.owner,
        "repository_id": str(repo.id),
        "repository_owner_id": str(repo.owner_id),
    }
    keys = [k for k in oidc["include_claim_keys"] if k != "context"]
    return ":".join(f"{k}:{values.get(k, '*')}" for k in keys)


def _page(items: list[Any], request: Request) -> list[Any]:
    """One page of a list, as `per_page` (default 30, at most 100) and `page` ask."""
    query = {k: v[0] for k, v in parse_qs(request.query).items()}
    size = min(int(query.get("per_page", "30")), 100)
    start = (int(query.get("page", "1")) - 1) * size
    return items[start : start + size]


def _conditional(request: Request, answer: Response) -> Response:
    """GitHub's conditional requests: a 200 to a GET carries its ETag; the same GET naming
    that ETag in If-None-Match is answered 304, with no body."""
    if request.method != "GET" or answer.status != 200:
        return answer
    etag = 'W/"' + hashlib.sha256(answer.encoded()).hexdigest() + '"'
    answer.headers["ETag"] = etag
    asked = {k.lower(): v for k, v in request.headers.items()}.get("if-none-match")
    if asked == etag:
        return Response(304, None, {"ETag": etag})
    return answer


def _can_see(token: Token, repo: Repo) -> bool:
    return token.repositories is None or repo.full_name.lower() in token.repositories


def _error(status: int, message: str) -> Response:
    return Response(
        status, {"message": message, "documentation_url": "https://docs.github.com/rest"}
    )


_SPEC_CACHE: dict[str, Any] = {}


def spec() -> dict[str, Any]:
    if not _SPEC_CACHE:
        _SPEC_CACHE.update(json.loads(SPEC.read_text()))
    return _SPEC_CACHE


def _example(name: str) -> Any:
    return spec()["components"]["examples"][name]["value"]
