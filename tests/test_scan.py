"""`scan` in-process: moto for AWS, the GitHub fake behind `responses`, the real entry point."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult
from tests.fakes.github import FakeGitHub, Request, Response, _error

Cli = Callable[..., CliResult]

ROLE_WORKFLOW = b"""name: push
on: push
permissions:
  id-token: write
  contents: read
jobs:
  push:
    runs-on: ubuntu-latest
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: ${{ vars.AWS_ROLE_ARN }}
          aws-region: us-east-1
"""
OTHER_WORKFLOW = b"""name: deploy
on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: prod
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          aws-access-key-id: ${{ secrets.PROD_AWS_ACCESS_KEY_ID }}
          aws-secret-access-key: ${{ secrets.PROD_AWS_SECRET_ACCESS_KEY }}
          aws-region: us-east-1
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ETags kept between runs live here, not in the user's cache folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def org(moto: None, fake_github: FakeGitHub, cache: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, cli: Cli) -> FakeGitHub:
    monkeypatch.chdir(tmp_path)
    for name in ("acme/api", "acme/legacy", "acme/web", "acme/docs", "acme/vault"):
        fake_github.add_repo(name)
    made = cli("keys", "acme/api", "--open-pr")
    assert made.code == 0, made.err
    fake_github.merge("acme/api", 1)
    legacy = fake_github.repo("acme/legacy")
    legacy.commit("main", {".github/workflows/deploy.yml": OTHER_WORKFLOW})
    fake_github.environment("acme/legacy", "prod")
    fake_github.put_secret("acme/legacy", "PROD_AWS_ACCESS_KEY_ID", "AKIAOTHER", "prod")
    fake_github.put_secret("acme/legacy", "PROD_AWS_SECRET_ACCESS_KEY", "x", "prod")
    fake_github.repo("acme/web").commit("main", {".github/workflows/push.yml": ROLE_WORKFLOW})

    def vault(request: Request) -> Response | None:
        if request.path.startswith("/repos/acme/vault/actions/secrets"):
            return _error(403, "Resource not accessible by personal access token")
        return None

    fake_github.faults.append(vault)
    return fake_github


def test_smoke(cli: Cli, org: FakeGitHub) -> None:
    done = cli("scan", "acme")
    done2 = cli("scan", "acme", "--json")
    raise AssertionError(done.out + done.err + str(done.code) + str(done2.code))
