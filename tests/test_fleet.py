"""fleet.py: the `apply` file read into entries, and every way an entry is refused, each
with its exact message. Plain data in, entries or one UsageError out: no AWS, no GitHub.
(tests/test_apply.py runs bad files through the command line and checks that no call
is made before the refusal.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ghbootstrap.errors import UsageError
from ghbootstrap.fleet import KEYS_ALLOWED, Entry, load, parse
from ghbootstrap.subjects import Scopes
from ghbootstrap.target import Names, RepoRef

API = RepoRef("acme", "api")
WEB = RepoRef("acme", "web")
LEGACY = RepoRef("acme", "legacy")
PLATFORM = "acme/platform/.github/workflows/build.yml@refs/heads/main"


def entry(index: int, ref: RepoRef, **given: Any) -> Entry:
    """An entry as the file would give it with nothing else said: oidc, default names,
    the default branch, a pull request for the workflow."""
    fields: dict[str, Any] = {
        "index": index,
        "ref": ref,
        "method": "oidc",
        "profile": None,
        "region": None,
        "names": Names.resolve(ref),
        "scopes": Scopes(),
        "mutable_tags": False,
        "rotation_schedule": None,
        "workflow": "pull-request",
    }
    return Entry(**{**fields, **given})


def refusal(document: dict[str, Any]) -> str:
    with pytest.raises(UsageError) as refused:
        parse(document)
    return str(refused.value)


def one(**given: Any) -> dict[str, Any]:
    """A file with one repository, acme/api, and these keys."""
    return {"repository": [{"name": "acme/api", **given}]}


# -- good files ---------------------------------------------------------------------------


def test_a_name_alone_is_an_oidc_setup_with_every_default() -> None:
    assert parse({"repository": [{"name": "acme/api"}]}) == [entry(1, API)]


def test_every_key_an_oidc_entry_takes() -> None:
    given = {
        "name": "acme/api",
        "method": "oidc",
        "region": "eu-west-1",
        "profile": "ops",
        "ecr_repo": "team/api",
        "policy_name": "api-push",
        "role_name": "api-ci",
        "branches": ["release/*", "main", "main"],
        "tags": ["v*"],
        "environments": ["prod: eu", "staging"],
        "pull_requests": True,
        "mutable_tags": True,
        "workflow": "none",
        "job_workflows": [PLATFORM, PLATFORM],
    }
    assert parse({"repository": [given]}) == [
        entry(
            1,
            API,
            region="eu-west-1",
            profile="ops",
            names=Names.resolve(API, ecr_repository="team/api", policy="api-push", role="api-ci"),
            scopes=Scopes(("main", "release/*"), ("v*",), ("prod: eu", "staging"), True),
            mutable_tags=True,
            workflow="none",
            job_workflows=(PLATFORM,),
        )
    ]


def test_every_key_a_keys_entry_takes() -> None:
    given = {
        "name": "acme/legacy",
        "method": "keys",
        "user_name": "legacy-ci",
        "ecr_repo": "legacy",
        "environments": ["prod"],
        "rotation_schedule": "17  4 * *   1",
        "workflow": "ci/ecr.yaml",
    }
    [found] = parse({"repository": [given]})
    assert found == entry(
        1,
        LEGACY,
        method="keys",
        names=Names.resolve(LEGACY, ecr_repository="legacy", user="legacy-ci"),
        scopes=Scopes(environments=("prod",)),
        rotation_schedule="17 4 * * 1",
        workflow="ci/ecr.yaml",
    )
    assert (found.environment, found.workflow_path) == ("prod", Path("ci/ecr.yaml"))


def test_defaults_apply_to_each_entry_whose_method_takes_them() -> None:
    document = {
        "defaults": {
            "region": "eu-west-1",
            "profile": "ops",
            "workflow": "none",
            "branches": ["main"],  # oidc only
            "rotation_schedule": "17 4 * * 1",  # keys only
            "environments": ["prod"],  # both
        },
        "repository": [
            {"name": "acme/api"},
            {"name": "acme/web", "region": "us-east-2", "branches": ["dev"]},
            {"name": "acme/legacy", "method": "keys"},
        ],
    }
    common = {"region": "eu-west-1", "profile": "ops", "workflow": "none"}
    assert parse(document) == [
        entry(1, API, **common, scopes=Scopes(("main",), (), ("prod",))),
        entry(2, WEB, **{**common, "region": "us-east-2"}, scopes=Scopes(("dev",), (), ("prod",))),
        entry(
            3,
            LEGACY,
            **common,
            method="keys",
            scopes=Scopes(environments=("prod",)),
            rotation_schedule="17 4 * * 1",
        ),
    ]


def test_the_method_may_come_from_the_defaults() -> None:
    document = {"defaults": {"method": "keys"}, "repository": [{"name": "acme/api"}]}
    assert [e.method for e in parse(document)] == ["keys"]


def test_an_entry_is_labelled_as_people_count_and_as_the_file_spells_it() -> None:
    document = {"repository": [{"name": "acme/api"}, {"name": "Acme/Web"}]}
    assert [e.label for e in parse(document)] == [
        "repository[1] acme/api",
        "repository[2] Acme/Web",
    ]


@pytest.mark.parametrize(
    ("workflow", "path"),
    [
        ("pull-request", Path(".github/workflows/ecr-build-push.yml")),
        ("none", None),
        ("../web/.github/workflows/ecr.yml", Path("../web/.github/workflows/ecr.yml")),
    ],
)
def test_where_the_workflow_goes(workflow: str, path: Path | None) -> None:
    [found] = parse(one(workflow=workflow))
    assert (found.workflow, found.workflow_path) == (workflow, path)


def test_names_may_repeat_where_they_cannot_collide() -> None:
    """Another account (profile) or another region for ECR; a role and a user may share
    a name; many entries may open pull requests or write no workflow."""
    document = {
        "repository": [
            {"name": "acme/api", "ecr_repo": "shared", "region": "eu-west-1", "role_name": "ci"},
            {"name": "acme/web", "ecr_repo": "shared", "region": "us-east-2", "policy_name": "p"},
            {"name": "acme/legacy", "method": "keys", "user_name": "ci", "workflow": "none"},
            {"name": "acme/docs", "ecr_repo": "shared", "policy_name": "p", "profile": "other"},
        ]
    }
    assert [e.label for e in parse(document)] == [
        "repository[1] acme/api",
        "repository[2] acme/web",
        "repository[3] acme/legacy",
        "repository[4] acme/docs",
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])  # with a BOM, as Notepad saves
def test_load_reads_toml(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(
        '# our repositories\n[defaults]\nregion = "eu-west-1"\n\n'
        '[[repository]]\nname = "acme/api"\nenvironments = ["prod"]\n',
        encoding=encoding,
    )
    assert load(path) == [entry(1, API, region="eu-west-1", scopes=Scopes(environments=("prod",)))]


# -- the file as a whole ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"repositories": [{"name": "acme/api"}]},
            "the file: unknown table 'repositories': the file holds [defaults] and "
            "[[repository]] entries",
        ),
        ({"defaults": "eu-west-1"}, "the file: 'defaults' must be a table: write it as [defaults]"),
        (
            {"repository": {"name": "acme/api"}},
            "the file: 'repository' must be [[repository]] tables",
        ),
        ({"repository": ["acme/api"]}, "the file: 'repository' must be [[repository]] tables"),
        (
            {"repository": []},
            "the file lists no repositories: add [[repository]] entries, each with name = "
            '"OWNER/REPO"',
        ),
        (
            {"defaults": {"regoin": "eu-west-1"}, "repository": [{"name": "acme/api"}]},
            "[defaults]: unknown key 'regoin': did you mean 'region'?",
        ),
        (
            {"defaults": {"mutable_tags": "yes"}, "repository": [{"name": "acme/api"}]},
            "[defaults]: 'mutable_tags' must be true or false: for example mutable_tags = true",
        ),
        (
            {"defaults": {"name": "acme/api"}, "repository": [{"name": "acme/api"}]},
            "[defaults]: 'name' names one repository: set name in each [[repository]] entry",
        ),
    ],
    ids=[
        "unknown-table",
        "defaults-not-a-table",
        "repository-a-table",
        "repository-strings",
        "no-repositories",
        "defaults-unknown-key",
        "defaults-wrong-type",
        "defaults-name",
    ],
)
def test_a_bad_file(document: dict[str, Any], message: str) -> None:
    assert refusal(document) == message


def test_the_file_is_named_where_it_is_known() -> None:
    with pytest.raises(UsageError) as refused:
        parse({"repository": []}, "fleet.toml")
    assert refused.value.what == "fleet.toml lists no repositories"


def test_load_names_a_file_it_cannot_read_or_decode(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as refused:
        load(tmp_path)
    assert str(refused.value) == (
        f"cannot read {tmp_path}: Is a directory: give the path of an apply file (TOML)"
    )
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'[[repository]]\nname = "acme/caf\xe9"\n')
    with pytest.raises(UsageError) as refused:
        load(latin)
    assert str(refused.value) == (
        f"cannot read {latin}: UnicodeDecodeError: give the path of an apply file (TOML)"
    )


def test_load_says_where_the_toml_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text("[[repository]]\nname = acme/api\n", encoding="utf-8")  # no quotes
    with pytest.raises(UsageError) as refused:
        load(path)
    assert str(refused.value) == (
        f"{path} is not valid TOML: Invalid value (at line 2, column 8): fix the file and run again"
    )


# -- one bad entry ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"colour": "blue"},
            "repository[1] acme/api: unknown key 'colour': known keys: " + ", ".join(KEYS_ALLOWED),
        ),
        (
            {"environment": ["prod"]},
            "repository[1] acme/api: unknown key 'environment': did you mean 'environments'?",
        ),
        (
            {"region": 1},
            "repository[1] acme/api: 'region' must be a string: for example region = \"...\"",
        ),
        (
            {"tags": ["v1", 2]},
            "repository[1] acme/api: 'tags' must be a list of strings: for example "
            'tags = ["..."]',
        ),
        (
            {"mutable_tags": 1},
            "repository[1] acme/api: 'mutable_tags' must be true or false: for example "
            "mutable_tags = true",
        ),
        (
            {"environments": []},
            "repository[1] acme/api: 'environments' is empty: give a value, or leave the key "
            "out for the default",
        ),
        (
            {"branches": ["main", " "]},
            "repository[1] acme/api: 'branches' is empty: give a value, or leave the key out "
            "for the default",
        ),
        (
            {"profile": "  "},
            "repository[1] acme/api: 'profile' is empty: give a value, or leave the key out "
            "for the default",
        ),
        (
            {"method": "saml"},
            'repository[1] acme/api: method \'saml\' is not known: use "oidc", "keys" or "migrate"',
        ),
        (
            {"user_name": "ci"},
            "repository[1] acme/api: 'user_name' does not apply to method \"oidc\": remove "
            'it, or set the method that takes it ("keys" or "migrate")',
        ),
        (
            {"method": "keys", "pull_requests": True},
            "repository[1] acme/api: 'pull_requests' does not apply to method \"keys\": "
            'remove it, or set the method that takes it ("oidc" or "migrate")',
        ),
        (
            {"branches": ["a..b"]},
            "repository[1] acme/api: --branch 'a..b' is not a valid git ref name: use a name "
            "such as main or release/1.x ('*' and '?' are wildcards)",
        ),
        (
            {"ecr_repo": "Team/Img"},
            "repository[1] acme/api: 'Team/Img' is not a valid ECR repository name: use 2-256 "
            "lower-case letters and digits, separated by '.', '_', '-' or '/'",
        ),
        (
            {"method": "keys", "rotation_schedule": "* * *"},
            "repository[1] acme/api: '* * *' is not a valid five-field cron expression: use "
            "MINUTE HOUR DAY MONTH WEEKDAY, for example '17 4 * * 1' (Mondays 04:17 UTC)",
        ),
        (
            {"job_workflows": ["acme/platform/.github/workflows/build.yml@main"]},
            "repository[1] acme/api: job_workflows "
            "'acme/platform/.github/workflows/build.yml@main' is not a workflow as GitHub's "
            "job_workflow_ref names it: give OWNER/REPO/.github/workflows/FILE.yml@refs/heads/"
            "BRANCH (or @refs/tags/TAG), e.g. acme/platform/.github/workflows/build.yml@refs/"
            "heads/main (no wildcards)",
        ),
        (
            {"method": "keys", "job_workflows": [PLATFORM]},
            "repository[1] acme/api: 'job_workflows' does not apply to method \"keys\": "
            'remove it, or set the method that takes it ("oidc")',
        ),
        (
            {"workflow": "ci/ecr.json"},
            "repository[1] acme/api: workflow 'ci/ecr.json' is neither \"pull-request\", "
            '"none" nor a .yml path: use "pull-request" (the default), "none", or the path '
            "of a workflow file",
        ),
    ],
    ids=[
        "unknown-key",
        "unknown-key-close",
        "not-a-string",
        "not-a-list-of-strings",
        "not-a-flag",
        "empty-list",
        "blank-in-list",
        "blank-string",
        "unknown-method",
        "key-of-keys-on-oidc",
        "key-of-oidc-on-keys",
        "bad-branch",
        "bad-ecr-name",
        "bad-cron",
        "bad-job-workflow",
        "job-workflows-on-keys",
        "workflow-not-yml",
    ],
)
def test_a_bad_entry(given: dict[str, Any], message: str) -> None:
    assert refusal(one(**given)) == message


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"region": "eu-west-1"}, "repository[2]: no 'name': add name = \"OWNER/REPO\""),
        (
            {"name": ["acme/web"]},
            "repository[2]: 'name' must be a string: for example name = \"...\"",
        ),
        (
            {"name": "acme/web.git"},
            "repository[2]: 'acme/web.git' ends in .git: give the repository as OWNER/REPO, "
            "for example octo-org/hello-world",
        ),
        (
            {"name": "https://github.com/acme/web"},
            "repository[2]: 'https://github.com/acme/web' is not OWNER/REPO: give the "
            "repository as OWNER/REPO, for example octo-org/hello-world",
        ),
    ],
    ids=["no-name", "name-not-a-string", "dot-git", "a-url"],
)
def test_an_entry_without_a_usable_name_is_named_by_its_place(
    given: dict[str, Any], message: str
) -> None:
    assert refusal({"repository": [{"name": "acme/api"}, given]}) == message


def test_keys_takes_one_environment_even_from_the_defaults() -> None:
    document = {
        "defaults": {"environments": ["prod", "staging"]},
        "repository": [{"name": "acme/api"}, {"name": "acme/legacy", "method": "keys"}],
    }
    assert refusal(document) == (
        'repository[2] acme/legacy: method "keys" keeps its secrets in one environment, and '
        "'environments' lists 2: list at most one environment for this repository"
    )


def test_the_first_bad_entry_is_the_one_reported() -> None:
    document = {
        "repository": [
            {"name": "acme/api"},
            {"name": "acme/web", "tags": ["v..1"]},
            {"name": "acme/x", "brnches": ["main"]},
        ]
    }
    assert refusal(document).startswith("repository[2] acme/web: --tag 'v..1' ")


# -- two entries on one thing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (
            {"name": "acme/api"},
            {"name": "Acme/API"},
            "repository[2] Acme/API: listed twice (first as repository[1] acme/api): list "
            "each repository once",
        ),
        (
            {"name": "acme/api", "ecr_repo": "shared", "region": "eu-west-1"},
            {"name": "acme/web", "ecr_repo": "shared", "region": "eu-west-1", "method": "keys"},
            "repository[2] acme/web: ECR repository 'shared' is also used by repository[1] "
            "acme/api: give each repository its own name for it",
        ),
        (
            {"name": "acme/api", "policy_name": "push"},
            {"name": "acme/web", "policy_name": "push"},
            "repository[2] acme/web: IAM policy 'push' is also used by repository[1] "
            "acme/api: give each repository its own name for it",
        ),
        (
            {"name": "acme/api", "role_name": "ci", "profile": "ops"},
            {"name": "acme/web", "role_name": "ci", "profile": "ops"},
            "repository[2] acme/web: IAM role 'ci' is also used by repository[1] acme/api: "
            "give each repository its own name for it",
        ),
        (
            {"name": "acme/api", "method": "keys", "user_name": "ci"},
            {"name": "acme/web", "method": "keys", "user_name": "ci"},
            "repository[2] acme/web: IAM user 'ci' is also used by repository[1] acme/api: "
            "give each repository its own name for it",
        ),
        (
            {"name": "acme/api", "workflow": "api.yml"},
            {"name": "acme/web", "workflow": "web.yml"},
            "repository[2] acme/web: a workflow path is for one repository only "
            "(repository[1] acme/api has one): the path is the checkout of one repository: "
            'use "pull-request" or "none" for others',
        ),
    ],
    ids=["repository", "ecr-repository", "policy", "role", "user", "workflow-path"],
)
def test_two_entries_on_one_resource(
    first: dict[str, Any], second: dict[str, Any], message: str
) -> None:
    assert refusal({"repository": [first, second]}) == message
