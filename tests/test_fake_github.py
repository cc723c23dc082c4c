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
