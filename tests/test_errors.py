"""AWS and GitHub errors reach the user as one line that says what to do."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from botocore.stub import Stubber

from ghbootstrap.aws import role
from ghbootstrap.aws.session import Aws
from ghbootstrap.errors import AwsError, UsageError
from ghbootstrap.github.connect import api_url, find_token


def test_access_denied_names_the_missing_action(aws: Aws) -> None:
    with Stubber(aws.iam.raw) as stub:
        stub.add_client_error(
            "create_role",
            service_error_code="AccessDenied",
            service_message="User: arn:aws:iam::123456789012:user/bob is not authorized to "
            "perform: iam:CreateRole on resource: arn:aws:iam::123456789012:role/x",
            http_status_code=403,
        )
        with pytest.raises(AwsError) as caught:
            role.create_role(aws.iam, "x", {}, {}, "d")
    assert str(caught.value) == (
        "AWS denied iam:CreateRole: grant iam:CreateRole to the identity ghbootstrap runs as "
        "(User: arn:aws:iam::123456789012:user/bob is not authorized to perform: "
        "iam:CreateRole on resource: arn:aws:iam::123456789012:role/x)"
    )
    assert caught.value.code == "AccessDenied"


def test_expired_credentials_say_how_to_refresh(aws: Aws) -> None:
    with Stubber(aws.sts.raw) as stub:
        stub.add_client_error("get_caller_identity", service_error_code="ExpiredToken")
        with pytest.raises(AwsError) as caught:
            aws.sts.get_caller_identity()
    assert str(caught.value) == (
        "AWS rejected the credentials (ExpiredToken) on sts:GetCallerIdentity: refresh them: "
        "`aws sso login`, a new session token, or check AWS_PROFILE"
    )


def test_acronyms_in_action_names_come_from_the_api(aws: Aws) -> None:
    with Stubber(aws.iam.raw) as stub:
        stub.add_client_error("get_open_id_connect_provider", service_error_code="AccessDenied")
        with pytest.raises(AwsError, match=r"iam:GetOpenIDConnectProvider"):
            aws.iam.get_open_id_connect_provider(OpenIDConnectProviderArn="arn:aws:iam::1:x/y")


def _fake_gh(directory: Path, output: str, code: int = 0) -> None:
    script = directory / "gh"
    script.write_text(f"#!/bin/sh\necho '{output}' \nexit {code}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_token_comes_from_env_then_gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_token(api_url(None), {"GH_TOKEN": " t1 "}).reveal() == "t1"
    assert find_token(api_url(None), {"GITHUB_TOKEN": "t0", "GH_TOKEN": "t1"}).reveal() == "t0"
    _fake_gh(tmp_path, "from-gh")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert find_token(api_url(None), {}).reveal() == "from-gh"


def test_no_token_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_gh(tmp_path, "", code=1)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError, match="no GitHub token found"):
        find_token(api_url(None), {})


def test_api_url_from_option_env_or_default() -> None:
    assert api_url(None, {}) == "https://api.github.com"
    assert api_url(None, {"GITHUB_API_URL": "https://ghe.example/api/v3/"}) == (
        "https://ghe.example/api/v3"
    )
    assert api_url("http://127.0.0.1:8080", {"GITHUB_API_URL": "x"}) == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("verb", "path", "permission"),
    [
        ("GET", "/repos/o/r", "Metadata: read"),
        ("GET", "/repos/o/r/actions/oidc/customization/sub", "Actions: read"),
        ("PUT", "/repos/o/r/actions/secrets/X", "Secrets: read and write"),
        ("POST", "/repos/o/r/actions/variables", "Variables: read and write"),
        ("GET", "/repos/o/r/environments/prod", "Actions: read"),
        ("PUT", "/repos/o/r/environments/prod", "Administration: read and write"),
        ("PUT", "/repos/o/r/environments/prod/secrets/X", "Environments: read and write"),
        ("PATCH", "/repos/o/r/environments/prod/variables/X", "Environments: read and write"),
    ],
)
def test_403_names_the_fine_grained_permission(verb: str, path: str, permission: str) -> None:
    from ghbootstrap.github.api import needed_permission

    assert needed_permission(verb, path).startswith(permission)
