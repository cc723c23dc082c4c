"""`scan` in-process: moto for AWS, the GitHub fake behind `responses`, the real entry point."""

from __future__ import annotations

import json
import re
import shlex
import stat
import sys
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from ghbootstrap import fleet
from ghbootstrap.keyrecord import TAG_SCOPE, scope_tag
from tests.conftest import ACCOUNT, REGION, AwsCalls, CliResult
from tests.fakes.github import FakeGitHub, Request, Response, _error, raw_token
from tests.other_workflows import keys_workflow, role_workflow
from tests.test_apply import recorded  # noqa: F401 - a fixture
from tests.test_inventory import CONFIGURE

Cli = Callable[..., CliResult]

KEY_LINE = re.compile(
    r"key: AKIA[0-9A-Z]{16} of IAM user (\S+) \(Active, 0 days old, last used (\S+)\)"
)
VAULT_DENIED = "the token may not list the secrets of acme/vault: give it Secrets: read"


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ETags kept between runs live here, not in the user's cache folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def deny_secrets(fake: FakeGitHub, repository: str) -> None:
    """The token may not read this repository's secrets (GitHub answers 403)."""

    def denied(request: Request) -> Response | None:
        if request.path.startswith(f"/repos/{repository}/actions/secrets"):
            return _error(403, "Resource not accessible by personal access token")
        return None

    fake.faults.append(denied)


@pytest.fixture
def org(moto: None, fake_github: FakeGitHub, here: Path, cli: Cli) -> FakeGitHub:
    """acme: keys ghbootstrap made (api), another tool's keys in an environment (legacy), a
    role (web), nothing (docs), and a repository whose secrets the token may not list."""
    for name in ("acme/api", "acme/legacy", "acme/web", "acme/docs", "acme/vault"):
        fake_github.add_repo(name)
    made = cli("keys", "acme/api", "--open-pr")
    assert made.code == 0, made.err
    fake_github.merge("acme/api", 1)
    fake_github.repo("acme/legacy").commit(
        "main", {".github/workflows/deploy.yml": keys_workflow("PROD_")}
    )
    fake_github.environment("acme/legacy", "prod")
    fake_github.put_secret("acme/legacy", "PROD_AWS_ACCESS_KEY_ID", "AKIAOTHER", "prod")
    fake_github.put_secret("acme/legacy", "PROD_AWS_SECRET_ACCESS_KEY", "hidden", "prod")
    fake_github.repo("acme/web").commit("main", {".github/workflows/push.yml": role_workflow()})
    deny_secrets(fake_github, "acme/vault")
    return fake_github


def test_an_organization_is_scanned_and_nothing_is_written(
    cli: Cli,
    org: FakeGitHub,
    recorded: AwsCalls,  # noqa: F811
) -> None:
    writes = len(org.writes())
    done = cli("scan", "acme")
    assert done.code == 3, done.err
    assert done.err == ""  # no progress line when stderr is not a terminal
    lines = done.out.splitlines()
    users = [KEY_LINE.fullmatch(line.strip()) for line in lines if "key: " in line]
    assert [m.group(1) for m in users if m] == ["ghbootstrap-acme-api"]
    assert [line for line in lines if "key: " not in line] == [
        f"ghbootstrap scan acme: 5 repositories, AWS account {ACCOUNT}",
        "  REPOSITORY   VERDICT             WHY",
        "  acme/api     keys (ghbootstrap)  made by ghbootstrap (IAM user ghbootstrap-acme-api): "
        "move it to OIDC with `ghbootstrap migrate acme/api --region us-east-1 --open-pr`",
        "                                   secrets: AWS_ACCESS_KEY_ID (repository), "
        "AWS_SECRET_ACCESS_KEY (repository)",
        "                                   workflows: .github/workflows/ecr-build-push.yml",
        "  acme/docs    none",
        "  acme/legacy  keys (other tool)   AWS key secrets PROD_AWS_ACCESS_KEY_ID (environment "
        "prod), PROD_AWS_SECRET_ACCESS_KEY (environment prod), read by "
        ".github/workflows/deploy.yml",
        f"  acme/vault   unreadable          {VAULT_DENIED}",
        "  acme/web     oidc                assumes a role: .github/workflows/push.yml",
        "5 repositories: 2 hold long-lived AWS keys (1 made by ghbootstrap), 1 uses a role, "
        "1 unreadable",
    ]
    assert org.writes()[writes:] == []
    assert recorded.writes == []
    assert "AKIAOTHER" not in done.out
    assert "hidden" not in done.out


def test_json_has_a_row_per_repository_and_a_summary(cli: Cli, org: FakeGitHub) -> None:
    done = cli("scan", "acme", "--json")
    assert done.code == 3, done.err
    result = json.loads(done.out)
    assert list(result) == ["repositories", "summary"]
    rows = {row["name"]: row for row in result["repositories"]}
    assert list(rows) == ["acme/api", "acme/docs", "acme/legacy", "acme/vault", "acme/web"]
    for row in rows.values():
        assert list(row) == ["name", "verdict", "secrets", "workflows", "keys", "reason"]
    assert {name: row["verdict"] for name, row in rows.items()} == {
        "acme/api": "keys",
        "acme/docs": "none",
        "acme/legacy": "keys-other",
        "acme/vault": "unreadable",
        "acme/web": "oidc",
    }
    assert rows["acme/legacy"]["secrets"] == [
        {"name": "PROD_AWS_ACCESS_KEY_ID", "scope": "environment prod"},
        {"name": "PROD_AWS_SECRET_ACCESS_KEY", "scope": "environment prod"},
    ]
    assert rows["acme/legacy"]["workflows"] == [".github/workflows/deploy.yml"]
    assert rows["acme/legacy"]["keys"] == []  # never guessed onto a repository
    [key] = rows["acme/api"]["keys"]
    held = org.secret("acme/api", "AWS_ACCESS_KEY_ID")
    assert {k: key[k] for k in ("id", "user", "status", "age_days")} == {
        "id": held,
        "user": "ghbootstrap-acme-api",
        "status": "Active",
        "age_days": 0,
    }
    assert rows["acme/vault"]["reason"] == VAULT_DENIED
    assert result["summary"] == {
        "repositories": 5,
        "long_lived": 2,
        "keys": 1,
        "keys_other": 1,
        "oidc": 1,
        "none": 1,
        "unreadable": 1,
        "failed": 0,
        "account": ACCOUNT,
        "unmatched_keys": [],
    }


def test_the_printed_migrate_command_runs_as_printed(cli: Cli, org: FakeGitHub) -> None:
    done = cli("scan", "acme", "--repository", "acme/api", "--json")
    [row] = json.loads(done.out)["repositories"]
    command = row["reason"].split("`")[1]
    migrated = cli(*shlex.split(command)[1:])
    assert migrated.code == 0, migrated.err
    assert [p.state for p in org.repo("acme/api").pulls] == ["closed", "open"]


def requests_by_repository(fake: FakeGitHub, start: int) -> Counter[str]:
    counted: Counter[str] = Counter()
    for request, _ in fake.requests[start:]:
        parts = request.path.split("/")
        counted["/".join(parts[2:4]) if parts[1] == "repos" else request.path] += 1
    return counted


def test_requests_per_repository_and_304s_on_a_rescan(cli: Cli, org: FakeGitHub) -> None:
    start = len(org.requests)
    assert cli("scan", "acme").code == 3
    assert requests_by_repository(org, start) == {
        "/orgs/acme/repos": 1,
        "/orgs/acme/actions/secrets": 1,  # the organization's own: none is an AWS key
        "acme/docs": 3,  # secrets, environments, workflows
        "acme/vault": 3,
        "acme/web": 4,  # and its one workflow file
        "acme/api": 4,
        "acme/legacy": 5,  # and its one environment's secrets
    }
    start = len(org.requests)
    assert cli("scan", "acme").code == 3
    again = org.requests[start:]
    assert len(again) == 21
    answers = Counter(response.status for _, response in again)
    assert answers == {304: 20, 403: 1}  # the vault's secrets: refused again

    org.put_secret("acme/docs", "AWS_ACCESS_KEY_ID", "AKIANEW")
    start = len(org.requests)
    done = cli("scan", "acme", "--json")
    changed = [r.path for r, answer in org.requests[start:] if answer.status == 200]
    assert changed == ["/repos/acme/docs/actions/secrets"]
    rows = {r["name"]: r["verdict"] for r in json.loads(done.out)["repositories"]}
    assert rows["acme/docs"] == "keys-other"


def test_the_cache_is_the_user_s_alone_and_holds_no_secret_value(
    cli: Cli, org: FakeGitHub, cache: Path
) -> None:
    assert cli("scan", "acme").code == 3
    [kept] = list((cache / "ghbootstrap").iterdir())
    assert kept.name == "scan-api.github.com-acme.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    text = kept.read_text()
    assert "AWS_ACCESS_KEY_ID" in text
    for value in ("AKIAOTHER", "hidden", org.secret("acme/api", "AWS_SECRET_ACCESS_KEY")):
        assert value is not None
        assert value not in text


def test_the_cache_keeps_no_signed_download_url(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path, cache: Path
) -> None:
    """A private repository's file comes with a `download_url` GitHub signs with a token
    (read access to the file, for anyone holding the URL): the cache never writes it, and
    drops those an earlier release wrote."""
    fake_github.add_repo("acme/api").visibility = "private"
    fake_github.repo("acme/api").commit("main", {".github/workflows/ci.yml": role_workflow()})
    token = raw_token("acme/api", ".github/workflows/ci.yml")
    assert cli("scan", "acme").code == 0
    [kept] = list((cache / "ghbootstrap").iterdir())
    assert token not in kept.read_text()
    assert "download_url" not in kept.read_text()

    signed = f"https://raw.githubusercontent.com/acme/api/HEAD/ci.yml?token={token}"
    earlier = json.loads(kept.read_text())
    for _, body in earlier.values():
        if isinstance(body, dict) and body.get("type") == "file":
            body["download_url"] = signed
    kept.write_text(json.dumps(earlier))
    done = cli("scan", "acme")
    assert (done.code, done.err) == (0, "")
    assert token not in kept.read_text()


def _foreign(kept: dict[str, list[object]]) -> object:
    return {url: {"etag": entry[0], "body": entry[1]} for url, entry in kept.items()}


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(_foreign, id="another-format"),
        pytest.param(lambda kept: {url: [e[0], None] for url, e in kept.items()}, id="null-body"),
        pytest.param(lambda kept: {url: [e[0], "x"] for url, e in kept.items()}, id="text-body"),
        pytest.param(lambda kept: {url: [e[0], 7] for url, e in kept.items()}, id="number-body"),
        pytest.param(lambda kept: {url: [e[0]] for url, e in kept.items()}, id="no-body"),
        pytest.param(lambda kept: {url: [7, e[1]] for url, e in kept.items()}, id="number-etag"),
        pytest.param(lambda kept: [[]] * 3, id="a-list"),
    ],
)
def test_a_damaged_or_foreign_cache_is_asked_again_never_believed(
    damage: Callable[[dict[str, list[object]]], object],
    cli: Cli,
    moto: None,
    fake_github: FakeGitHub,
    here: Path,
    cache: Path,
) -> None:
    """The cache only saves requests: whatever its file holds, the scan says what a scan
    without it says (a null body kept for the repository list had read as 'no
    repositories', exit 0; others failed every scan until the file was deleted)."""
    fake_github.add_repo("acme/web")
    fake_github.add_repo("acme/legacy")
    fake_github.put_secret("acme/legacy", "AWS_ACCESS_KEY_ID", "AKIAOTHER")
    fresh = cli("scan", "acme")
    assert fresh.code == 3, fresh.err
    [kept] = list((cache / "ghbootstrap").iterdir())
    kept.write_text(json.dumps(damage(json.loads(kept.read_text()))))
    done = cli("scan", "acme")
    assert (done.code, done.err, done.out) == (3, "", fresh.out)
    start = len(fake_github.requests)
    assert cli("scan", "acme").out == fresh.out  # the file was written anew, and serves
    assert {answer.status for _, answer in fake_github.requests[start:]} == {304}


def test_a_cache_nested_too_deep_for_python_is_no_cache(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path, cache: Path
) -> None:
    fake_github.add_repo("acme/web")
    (cache / "ghbootstrap").mkdir(parents=True)
    (cache / "ghbootstrap" / "scan-api.github.com-acme.json").write_text("[" * 100_000)
    done = cli("scan", "acme")
    assert (done.code, done.err) == (0, "")
    assert "1 repository: 0 hold long-lived AWS keys" in done.out


def test_no_long_lived_key_is_exit_0_even_with_an_unreadable_repository(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    fake_github.add_repo("acme/web").commit("main", {".github/workflows/p.yml": role_workflow()})
    fake_github.add_repo("acme/vault")
    deny_secrets(fake_github, "acme/vault")
    done = cli("scan", "acme")
    assert done.code == 0, done.err
    assert done.out.endswith(
        "2 repositories: 0 hold long-lived AWS keys (0 made by ghbootstrap), 1 uses a role, "
        "1 unreadable\n"
    )


def test_one_repository_failing_does_not_stop_the_others(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    fake_github.add_repo("acme/web")
    fake_github.add_repo("acme/down")

    def down(request: Request) -> Response | None:
        if request.path.startswith("/repos/acme/down/environments"):
            return _error(422, "Unprocessable")
        return None

    fake_github.faults.append(down)
    done = cli("scan", "acme", "--json")
    assert done.code == 1
    rows = {r["name"]: r for r in json.loads(done.out)["repositories"]}
    assert rows["acme/web"]["verdict"] == "none"
    assert rows["acme/down"]["verdict"] == "unreadable"
    assert rows["acme/down"]["reason"].startswith(
        "GitHub refused to list the environments of acme/down: GET "
        "/repos/acme/down/environments returned 422"
    )


def test_repositories_named_archived_ones_and_bad_input(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    fake_github.add_repo("acme/web")
    fake_github.add_repo("acme/old").archived = True
    fake_github.add_repo("acme/api")

    def names(*args: str) -> list[str]:
        done = cli("scan", "acme", *args, "--json")
        assert done.code == 0, done.err
        return [r["name"] for r in json.loads(done.out)["repositories"]]

    assert names() == ["acme/api", "acme/web"]
    assert names("--include-archived") == ["acme/api", "acme/old", "acme/web"]
    assert names("--repository", "acme/web", "--repository", "ACME/web") == ["acme/web"]

    start = len(fake_github.requests)
    other = cli("scan", "acme", "--repository", "octo/web")
    assert other.code == 2
    assert other.err == (
        "error: --repository octo/web is not a repository of acme: give repositories of "
        "acme, or scan octo\n"
    )
    bad = cli("scan", "ac/me")
    assert bad.code == 2
    assert bad.err.startswith("error: 'ac/me' is not a GitHub owner name")
    missing = cli("scan", "nobody")
    assert missing.code == 1
    assert missing.err == (
        "error: GitHub has no organization or user nobody: check OWNER, and that the token "
        "can see it\n"
    )
    assert fake_github.requests[start:][0][0].path == "/orgs/nobody/repos"


def test_a_user_s_public_repositories_and_no_organization_secrets(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    fake_github.users.add("octocat")
    fake_github.add_repo("octocat/site")
    fake_github.add_repo("octocat/private").visibility = "private"
    start = len(fake_github.requests)
    done = cli("scan", "octocat", "--json")
    assert done.code == 0, done.err
    assert [r["name"] for r in json.loads(done.out)["repositories"]] == ["octocat/site"]
    paths = [r.path for r, _ in fake_github.requests[start:]]
    assert paths[:2] == ["/orgs/octocat/repos", "/users/octocat/repos"]
    assert not any("organization-secrets" in p or "/orgs/octocat/actions" in p for p in paths)

    # Named one by one, the owner's kind is unknown: GitHub's 404 for its secrets says a user.
    start = len(fake_github.requests)
    named = cli("scan", "octocat", "--repository", "octocat/private", "--json")
    assert named.code == 0, named.err
    assert json.loads(named.out)["repositories"][0]["verdict"] == "none"
    paths = [r.path for r, _ in fake_github.requests[start:]]
    assert paths[:2] == ["/repos/octocat/private", "/orgs/octocat/actions/secrets"]
    assert not any("organization-secrets" in p for p in paths)


def test_organization_secrets_visible_to_a_repository(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    fake_github.add_repo("acme/web")
    fake_github.add_repo("acme/api").visibility = "private"
    fake_github.put_org_secret("acme", "CI_AWS_ACCESS_KEY_ID", visibility="private")
    fake_github.put_org_secret("acme", "CI_AWS_SECRET_ACCESS_KEY", visibility="private")
    done = cli("scan", "acme", "--json")
    assert done.code == 3
    rows = {r["name"]: r for r in json.loads(done.out)["repositories"]}
    assert rows["acme/api"]["verdict"] == "keys-other"
    assert rows["acme/api"]["secrets"] == [
        {"name": "CI_AWS_ACCESS_KEY_ID", "scope": "organization"},
        {"name": "CI_AWS_SECRET_ACCESS_KEY", "scope": "organization"},
    ]
    assert rows["acme/web"]["verdict"] == "none"  # public: the secrets do not reach it

    # A token that may not list the organization's secrets asks each repository.
    fake_github.tokens[fake_github.token].permissions -= {"organization_secrets"}
    start = len(fake_github.requests)
    again = cli("scan", "acme", "--json")
    assert json.loads(again.out)["repositories"] == json.loads(done.out)["repositories"]
    asked = [r.path for r, _ in fake_github.requests[start:] if "organization-secrets" in r.path]
    assert sorted(asked) == [
        "/repos/acme/api/actions/organization-secrets",
        "/repos/acme/web/actions/organization-secrets",
    ]


# test_inventory's reader of DEPLOY_ID and DEPLOY_SECRET, with the names in other cases
LOWER_CASE_READER = (
    CONFIGURE.replace("secrets.DEPLOY_ID", "secrets.deploy_id")
    .replace("'DEPLOY_SECRET'", "'Deploy_Secret'")
    .encode()
)


def test_secrets_read_in_another_case_are_found(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    """GitHub's secret names do not depend on case: `secrets.deploy_id` reads DEPLOY_ID,
    which GitHub lists upper-cased. Compared as written, neither the repository's pair nor
    the organization's was found, and the scan said `none`, exit 0."""
    workflow = {".github/workflows/deploy.yml": LOWER_CASE_READER}
    fake_github.add_repo("acme/api").commit("main", workflow)
    fake_github.put_secret("acme/api", "DEPLOY_ID", "AKIAOTHER")
    fake_github.put_secret("acme/api", "DEPLOY_SECRET", "hidden")
    fake_github.add_repo("acme/web").commit("main", workflow)
    fake_github.put_org_secret("acme", "DEPLOY_ID")
    fake_github.put_org_secret("acme", "DEPLOY_SECRET")
    done = cli("scan", "acme", "--repository", "acme/web", "--json")
    assert done.code == 3, done.err
    [row] = json.loads(done.out)["repositories"]
    assert (row["verdict"], row["secrets"], row["workflows"]) == (
        "keys-other",
        [
            {"name": "DEPLOY_ID", "scope": "organization"},
            {"name": "DEPLOY_SECRET", "scope": "organization"},
        ],
        [".github/workflows/deploy.yml"],
    )
    fake_github.org_secrets.clear()
    done = cli("scan", "acme", "--repository", "acme/api")
    assert done.code == 3, done.err
    assert done.out.splitlines()[2] == (
        "  acme/api  keys (other tool)   AWS key secrets DEPLOY_ID (repository), "
        "DEPLOY_SECRET (repository), read by .github/workflows/deploy.yml"
    )


def test_keys_of_other_users_are_listed_never_matched(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    fake_github.add_repo("acme/legacy")
    iam = boto3.client("iam", region_name=REGION)
    # a user whose name and tags look like the repository's, made by someone else
    iam.create_user(UserName="acme-legacy-deploy", Tags=[{"Key": "repo", "Value": "acme/legacy"}])
    made = iam.create_access_key(UserName="acme-legacy-deploy")["AccessKey"]["AccessKeyId"]
    done = cli("scan", "acme", "--json")
    assert done.code == 0, done.err
    result = json.loads(done.out)
    assert result["repositories"][0]["keys"] == []
    [key] = result["summary"]["unmatched_keys"]
    assert (key["id"], key["user"], key["last_used"]) == (made, "acme-legacy-deploy", None)
    text = cli("scan", "acme").out
    assert (
        "IAM access keys no scanned repository holds (by age and last use; never guessed "
        f"onto a repository):\n  {made} of IAM user acme-legacy-deploy (Active, 0 days old, "
        "last used never)\n"
    ) in text


def test_a_setup_in_an_environment_beside_secrets_someone_else_wrote(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    fake_github.add_repo("acme/api")
    made = cli("keys", "acme/api", "--environment", "prod", "--no-workflow")
    assert made.code == 0, made.err
    fake_github.put_secret("acme/api", "AWS_ACCESS_KEY_ID", "AKIAOLD")  # the repository's
    done = cli("scan", "acme", "--json")
    [row] = json.loads(done.out)["repositories"]
    assert row["verdict"] == "keys"
    assert row["reason"] == (
        "made by ghbootstrap (IAM user ghbootstrap-acme-api): move it to OIDC with "
        "`ghbootstrap migrate acme/api --region us-east-1 --open-pr`; also AWS key secrets "
        "ghbootstrap did not write: AWS_ACCESS_KEY_ID (repository)"
    )


def test_every_key_setup_ghbootstrap_made_for_a_repository_is_its_own(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    """Two key setups of one repository (prod by the default user, staging by another):
    only the first user's was matched, so the second's key was listed as one no scanned
    repository holds, and its secrets as ones ghbootstrap did not write."""
    fake_github.add_repo("acme/api")
    prod = cli("keys", "acme/api", "--environment", "prod", "--no-workflow")
    assert prod.code == 0, prod.err
    staging = cli(
        "keys",
        "acme/api",
        "--environment",
        "staging",
        "--no-workflow",
        "--user-name",
        "api-staging",
        "--policy-name",
        "api-staging-push",
        "--ecr-repo",
        "api-staging",
    )
    assert staging.code == 0, staging.err
    done = cli("scan", "acme", "--json", "--write", "retire.toml")
    assert done.code == 3, done.err
    result = json.loads(done.out)
    [row] = result["repositories"]
    assert [k["user"] for k in row["keys"]] == ["ghbootstrap-acme-api", "api-staging"]
    assert result["summary"]["unmatched_keys"] == []
    assert row["reason"] == (
        "made by ghbootstrap (IAM user ghbootstrap-acme-api): move it to OIDC with "
        "`ghbootstrap migrate acme/api --region us-east-1 --open-pr`; also made by "
        "ghbootstrap (IAM user api-staging): scan again once that one is moved"
    )
    entries = (here / "retire.toml").read_text().split("[[repository]]\n")[1:]
    assert entries == [
        'name = "acme/api"\n'
        'method = "migrate"\n'
        'region = "us-east-1"\n'
        "# its key's secrets live in environment prod; IAM user ghbootstrap-acme-api\n"
        "# also IAM user api-staging's key setup (a file lists a repository once): scan "
        "--write again after --finish\n"
    ]


def test_a_hashed_environment_the_scan_cannot_match_gives_no_command_and_no_entry(
    cli: Cli, moto: None, fake_github: FakeGitHub, here: Path
) -> None:
    """A record from before the escaped form names its environment by a hash; when the
    environments cannot be listed, none matches it. The scan printed a migrate command
    without --environment (it fails: migrate needs the name), wrote that entry (apply
    fails it), and said the secrets live in the repository."""
    fake_github.add_repo("acme/api")
    made = cli("keys", "acme/api", "--environment", "ops\u2603", "--no-workflow")
    assert made.code == 0, made.err
    iam = boto3.client("iam", region_name=REGION)
    hashed = [{"Key": TAG_SCOPE, "Value": scope_tag("ops\u2603")}]
    iam.tag_user(UserName="ghbootstrap-acme-api", Tags=hashed)

    def denied(request: Request) -> Response | None:
        if request.path == "/repos/acme/api/environments":
            return _error(403, "Resource not accessible by personal access token")
        return None

    fake_github.faults.append(denied)
    done = cli("scan", "acme", "--json", "--write", "retire.toml")
    assert done.code == 3, done.err
    [row] = json.loads(done.out)["repositories"]
    assert row["reason"] == (
        "made by ghbootstrap (IAM user ghbootstrap-acme-api): its record names the "
        "environment holding its secrets only by a hash, and no environment the scan could "
        "list matches it (migrate needs its name); not read: the token may not list the "
        "environments of acme/api: give it Actions: read"
    )
    text = (here / "retire.toml").read_text()
    assert "[[repository]]" not in text
    assert text.endswith(
        "# Access-key setups ghbootstrap made that have no entry: the scan could not tell\n"
        "# where their secrets live. Scan again once it can (--write a new file).\n"
        f"# acme/api: {row['reason']}\n"
    )
    fake_github.faults.remove(denied)
    again = cli("scan", "acme", "--json")
    [row] = json.loads(again.out)["repositories"]
    command = row["reason"].split("`")[1]
    assert command == (
        "ghbootstrap migrate acme/api --region us-east-1 --environment 'ops\u2603' --open-pr"
    )
    migrated = cli(*shlex.split(command)[1:])
    assert migrated.code == 0, migrated.err


def test_progress_line_on_a_terminal(
    cli: Cli, org: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    done = cli("scan", "acme")
    assert done.code == 3
    assert "\r\x1b[Kscan: 5/5 done, 0 failed" in done.err
    assert done.err.endswith("\r\x1b[K")


# -- --write: the file apply takes ----------------------------------------------------------


def test_write_gives_a_migrate_entry_per_ghbootstrap_setup(
    cli: Cli, org: FakeGitHub, here: Path
) -> None:
    custom = cli(
        "keys",
        "acme/docs",
        "--user-name",
        "ci-docs",
        "--region",
        "eu-west-1",
        "--environment",
        "prod",
        "--no-workflow",
    )
    assert custom.code == 0, custom.err
    done = cli("scan", "acme", "--write", "retire.toml")
    assert done.code == 3, done.err
    assert (
        'note: wrote retire.toml: 2 method = "migrate" entries; next: ghbootstrap apply '
        "retire.toml\n"
    ) in done.out
    text = (here / "retire.toml").read_text()
    assert text == (
        "# Written by `ghbootstrap scan acme --write retire.toml` (AWS account "
        f"{ACCOUNT}).\n"
        "# 2 access-key setup(s) ghbootstrap made, to move to OIDC in two phases:\n"
        "#   ghbootstrap apply retire.toml\n"
        "#     adds each role and its variable, and opens a pull request with the OIDC\n"
        "#     workflow; removes nothing\n"
        "#   merge each pull request, and let the workflow run once on the default branch\n"
        "#   ghbootstrap apply --finish retire.toml\n"
        "#     removes each key, its secrets and its IAM user (it checks the default\n"
        "#     branch first, and asks once)\n"
        "\n"
        "[defaults]\n"
        'workflow = "pull-request"\n'
        "\n"
        "[[repository]]\n"
        'name = "acme/api"\n'
        'method = "migrate"\n'
        'region = "us-east-1"\n'
        "# its key's secrets live in the repository; IAM user ghbootstrap-acme-api\n"
        "\n"
        "[[repository]]\n"
        'name = "acme/docs"\n'
        'method = "migrate"\n'
        'region = "eu-west-1"\n'
        'user_name = "ci-docs"\n'
        "# its key's secrets live in environment prod; IAM user ci-docs\n"
        "\n"
        "# AWS keys of other tools: ghbootstrap did not make them and does not migrate\n"
        "# them. Look at each: the secrets, and the workflow files that read them.\n"
        "# acme/legacy: AWS key secrets PROD_AWS_ACCESS_KEY_ID (environment prod), "
        "PROD_AWS_SECRET_ACCESS_KEY (environment prod), read by .github/workflows/deploy.yml\n"
    )
    entries = fleet.load(here / "retire.toml")
    assert [(e.ref.full_name, e.method, e.region, e.names.user, e.workflow) for e in entries] == [
        ("acme/api", "migrate", "us-east-1", "ghbootstrap-acme-api", "pull-request"),
        ("acme/docs", "migrate", "eu-west-1", "ci-docs", "pull-request"),
    ]
    assert tomllib.loads(text)["defaults"] == {"workflow": "pull-request"}


def test_write_never_replaces_a_file(cli: Cli, org: FakeGitHub, here: Path) -> None:
    (here / "retire.toml").write_text("# mine\n")
    start = len(org.requests)
    done = cli("scan", "acme", "--write", "retire.toml")
    assert done.code == 2
    assert done.err == (
        "error: retire.toml exists: scan --write never replaces a file: give the path of a "
        "new file, or move that one away\n"
    )
    assert org.requests[start:] == []
    assert (here / "retire.toml").read_text() == "# mine\n"
