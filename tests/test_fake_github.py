"""The GitHub stand-in over real HTTP on 127.0.0.1, its answers checked by the contract."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import requests

from tests.contract import Contract
from tests.fakes.github import FakeGitHub
from tests.fakes.serve import serving


@pytest.fixture
def served(contract: Contract) -> Iterator[tuple[FakeGitHub, str, dict[str, str]]]:
    fake = FakeGitHub()
    fake.add_repo("Octo/Hello")
    fake.observers.append(contract.observe)
    with serving(fake) as url:
        yield fake, url, {"Authorization": f"token {fake.token}"}


def test_file_contents_round_trip(served: tuple[FakeGitHub, str, dict[str, str]]) -> None:
    fake, url, auth = served
    path = f"{url}/repos/Octo/Hello/contents/.github%2Fworkflows%2Fci.yml"
    assert requests.get(path, headers=auth, timeout=5).status_code == 404
    body = {"message": "add ci", "content": base64.b64encode(b"name: ci\n").decode()}
    created = requests.put(path, json=body, headers=auth, timeout=5)
    assert created.status_code == 201
    sha = created.json()["content"]["sha"]
    got = requests.get(path, headers=auth, timeout=5).json()
    assert base64.b64decode(got["content"]) == b"name: ci\n"
    assert got["path"] == ".github/workflows/ci.yml"
    stale = requests.put(path, json={**body, "sha": "0" * 40}, headers=auth, timeout=5)
    assert stale.status_code == 409
    updated = requests.put(path, json={**body, "sha": sha}, headers=auth, timeout=5)
    assert updated.status_code == 200
    assert fake.repo("Octo/Hello").files[".github/workflows/ci.yml"] == b"name: ci\n"


def test_oidc_template_reports_the_prefix(served: tuple[FakeGitHub, str, dict[str, str]]) -> None:
    fake, url, auth = served
    repo = fake.repo("octo/hello")
    answer = requests.get(
        f"{url}/repos/octo/hello/actions/oidc/customization/sub", headers=auth, timeout=5
    ).json()
    assert answer == {"use_default": True, "sub_claim_prefix": "repo:Octo/Hello"}
    requests.put(
        f"{url}/repos/octo/hello/actions/oidc/customization/sub",
        json={"use_default": False, "include_claim_keys": ["repository_id", "context"]},
        headers=auth,
        timeout=5,
    ).raise_for_status()
    answer = requests.get(
        f"{url}/repos/octo/hello/actions/oidc/customization/sub", headers=auth, timeout=5
    ).json()
    assert answer["sub_claim_prefix"] == f"repository_id:{repo.id}"


def test_bad_tokens_and_invisible_repositories(
    served: tuple[FakeGitHub, str, dict[str, str]],
) -> None:
    _, url, auth = served
    assert requests.get(f"{url}/repos/octo/hello", timeout=5).status_code == 401
    bad = {"Authorization": "token nope"}
    assert requests.get(f"{url}/repos/octo/hello", headers=bad, timeout=5).status_code == 401
    assert requests.get(f"{url}/repos/octo/other", headers=auth, timeout=5).status_code == 404


def test_an_owners_lists_come_in_pages_and_only_what_the_token_sees(
    served: tuple[FakeGitHub, str, dict[str, str]],
) -> None:
    fake, url, auth = served
    for n in range(3):
        fake.add_repo(f"Octo/svc-{n}").visibility = "private"
    fake.add_repo("octo/hidden")
    fake.tokens[fake.token].repositories = frozenset(
        {"octo/hello", "octo/svc-0", "octo/svc-1", "octo/svc-2"}
    )

    def names(path: str) -> list[str]:
        answer = requests.get(f"{url}{path}", headers=auth, timeout=5)
        answer.raise_for_status()
        return [r["full_name"] for r in answer.json()]

    assert names("/orgs/octo/repos?per_page=3") == ["Octo/Hello", "Octo/svc-0", "Octo/svc-1"]
    assert names("/orgs/octo/repos?per_page=3&page=2") == ["Octo/svc-2"]
    assert names("/users/octo/repos") == ["Octo/Hello"]  # a user's public ones only
    fake.users.add("octo")
    assert requests.get(f"{url}/orgs/octo/repos", headers=auth, timeout=5).status_code == 404


def test_organization_secrets_reach_the_repositories_their_visibility_names(
    served: tuple[FakeGitHub, str, dict[str, str]],
) -> None:
    fake, url, auth = served
    fake.add_repo("Octo/Private").visibility = "private"
    fake.add_repo("Octo/Chosen")
    fake.put_org_secret("octo", "EVERYONE")
    fake.put_org_secret("octo", "PRIVATE_ONLY", visibility="private")
    fake.put_org_secret("octo", "CHOSEN_ONLY", visibility="selected", repositories=("octo/chosen",))

    def visible(repo: str) -> list[str]:
        path = f"{url}/repos/octo/{repo}/actions/organization-secrets"
        return [s["name"] for s in requests.get(path, headers=auth, timeout=5).json()["secrets"]]

    assert visible("hello") == ["EVERYONE"]
    assert visible("private") == ["EVERYONE", "PRIVATE_ONLY"]
    assert visible("chosen") == ["EVERYONE", "CHOSEN_ONLY"]
    listed = requests.get(f"{url}/orgs/octo/actions/secrets", headers=auth, timeout=5).json()
    assert [(s["name"], s["visibility"]) for s in listed["secrets"]] == [
        ("EVERYONE", "all"),
        ("PRIVATE_ONLY", "private"),
        ("CHOSEN_ONLY", "selected"),
    ]
    fake.tokens[fake.token].permissions -= {"organization_secrets"}
    assert requests.get(
        f"{url}/orgs/octo/actions/secrets", headers=auth, timeout=5
    ).status_code == (403)


def test_environments_and_workflows_are_listed(
    served: tuple[FakeGitHub, str, dict[str, str]],
) -> None:
    fake, url, auth = served
    fake.environment("octo/hello", "prod")
    repo = fake.repo("octo/hello")
    repo.commit("main", {".github/workflows/ci.yml": b"name: CI\non: push\n", "README": b"hi"})
    environments = requests.get(f"{url}/repos/octo/hello/environments", headers=auth, timeout=5)
    assert [e["name"] for e in environments.json()["environments"]] == ["prod"]
    workflows = requests.get(
        f"{url}/repos/octo/hello/actions/workflows", headers=auth, timeout=5
    ).json()
    assert [(w["name"], w["path"]) for w in workflows["workflows"]] == [
        ("CI", ".github/workflows/ci.yml")
    ]


def test_a_get_naming_the_etag_it_got_is_answered_304_until_the_answer_changes(
    served: tuple[FakeGitHub, str, dict[str, str]],
) -> None:
    fake, url, auth = served
    path = f"{url}/repos/octo/hello/actions/secrets"
    first = requests.get(path, headers=auth, timeout=5)
    etag = first.headers["ETag"]
    again = requests.get(path, headers={**auth, "If-None-Match": etag}, timeout=5)
    assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", etag)
    fake.put_secret("octo/hello", "AWS_ACCESS_KEY_ID", "AKIA")
    changed = requests.get(path, headers={**auth, "If-None-Match": etag}, timeout=5)
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_a_304_to_an_unconditional_request_is_a_violation() -> None:
    from tests.fakes.github import Request, Response

    contract = Contract()
    contract.observe(Request("GET", "/repos/o/r/actions/secrets", "", {}, None), Response(304))
    assert contract.violations == [
        "response GET /repos/o/r/actions/secrets: 304 to an unconditional request"
    ]
    contract = Contract()
    asked = {"If-None-Match": 'W/"1"'}
    contract.observe(Request("GET", "/repos/o/r/actions/secrets", "", asked, None), Response(304))
    assert contract.violations == []
