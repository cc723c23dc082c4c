"""OWNER/REPO parsing and the AWS names derived from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ghbootstrap.errors import UsageError
from ghbootstrap.target import (
    IAM_ROLE_MAX,
    Names,
    RepoRef,
    check_ecr_name,
    check_iam_name,
    check_region,
    default_ecr_name,
    parse_repo,
)


@pytest.mark.parametrize(
    ("text", "owner", "name"),
    [
        ("octo-org/hello-world", "octo-org", "hello-world"),
        ("Octo/.github", "Octo", ".github"),
        ("a/b", "a", "b"),
        ("user1/repo_with.dots-and_underscores", "user1", "repo_with.dots-and_underscores"),
    ],
)
def test_parse_repo_accepts_github_names(text: str, owner: str, name: str) -> None:
    assert parse_repo(text) == RepoRef(owner, name)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("octo", "'octo' is not OWNER/REPO"),
        ("octo/", "'octo/' is not OWNER/REPO"),
        ("/repo", "'/repo' is not OWNER/REPO"),
        ("a/b/c", "'a/b/c' is not OWNER/REPO"),
        ("octo org/repo", "'octo org' is not a GitHub owner name"),
        ("-octo/repo", "'-octo' is not a GitHub owner name"),
        ("octo/re po", "'re po' is not a GitHub repository name"),
        ("octo/..", "'..' is not a GitHub repository name"),
        ("octo/repo;rm", "'repo;rm' is not a GitHub repository name"),
        ("octo/$(id)", "'$(id)' is not a GitHub repository name"),
        ("ôcto/repo", "'\\xf4cto' is not a GitHub owner name"),
        ("octo/re\npo", "'re\\npo' is not a GitHub repository name"),
        ("octo/" + "r\x1b" * 40, "'" + "r\\x1b" * 15 + "r...' is not a GitHub repository"),
        ("octo/repo.git", "'octo/repo.git' ends in .git"),
        ("o" * 40 + "/repo", "is not a GitHub owner name"),
    ],
)
def test_parse_repo_rejects_with_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_repo(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


def test_default_names_derive_from_owner_and_repo() -> None:
    names = Names.resolve(RepoRef("Octo-Org", "Hello-World"))
    assert names == Names(
        ecr_repository="octo-org/hello-world",
        policy="ghbootstrap-ecr-push-octo-org-hello-world",
        role="ghbootstrap-octo-org-hello-world",
        user="ghbootstrap-octo-org-hello-world",
    )


@pytest.mark.parametrize(
    ("owner", "name", "expected"),
    [
        ("Octo", ".github", "octo/github"),
        ("octo", "a..b__c--d", "octo/a-b-c-d"),
        ("octo", "_x_", "octo/x"),
    ],
)
def test_default_ecr_name_follows_ecr_rules(owner: str, name: str, expected: str) -> None:
    derived = default_ecr_name(RepoRef(owner, name))
    assert derived == expected
    assert check_ecr_name(derived) == expected


def test_long_names_are_shortened_deterministically_within_iam_limits() -> None:
    ref = RepoRef("o" * 39, "r" * 100)
    names = Names.resolve(ref)
    assert len(names.role) == IAM_ROLE_MAX
    assert len(names.user) == IAM_ROLE_MAX
    assert len(names.policy) == 128
    assert names == Names.resolve(RepoRef("O" * 39, "R" * 100))  # case-insensitive like GitHub
    assert names.role != Names.resolve(RepoRef("o" * 39, "r" * 99 + "s")).role


def test_repository_with_no_usable_characters_needs_an_explicit_ecr_name() -> None:
    with pytest.raises(UsageError, match="pass --ecr-repo NAME"):
        Names.resolve(RepoRef("a", "_"))


@pytest.mark.parametrize("bad", ["A", "x", "Upper/case", "a//b", "-a", "a-", "a" * 257, "a b"])
def test_ecr_names_outside_aws_rules_are_refused(bad: str) -> None:
    with pytest.raises(UsageError, match="is not a valid ECR repository name"):
        Names.resolve(RepoRef("o", "r"), ecr_repository=bad)


@pytest.mark.parametrize("bad", ["", "a" * 65, "has space", "semi;colon", "ünïcode"])
def test_iam_names_outside_aws_rules_are_refused(bad: str) -> None:
    with pytest.raises(UsageError, match="is not a valid IAM role name"):
        check_iam_name(bad, "role", 64)


def test_iam_name_at_the_limit_is_accepted() -> None:
    assert check_iam_name("a" * 64, "role", 64) == "a" * 64


def test_region_must_be_known() -> None:
    known = frozenset({"us-east-1", "eu-west-1"})
    assert check_region("eu-west-1", known) == "eu-west-1"
    with pytest.raises(UsageError, match="'us-east-9' is not an AWS region"):
        check_region("us-east-9", known)
    with pytest.raises(UsageError, match="no AWS region given"):
        check_region(None, known)


def test_aws_region_is_honoured_after_region_and_before_the_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ghbootstrap.aws.session import connect

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # botocore's own variable
    assert connect(None, None).region == "us-east-1"
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # what the rotation workflow sets
    assert connect(None, None).region == "eu-west-1"
    assert connect(None, "ap-south-1").region == "ap-south-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert connect(None, None).region == "eu-west-1"
    monkeypatch.setenv("AWS_REGION", "")
    with pytest.raises(UsageError) as caught:
        connect(None, None)
    assert str(caught.value) == (
        "AWS_REGION is set but empty: set it to a region such as us-east-1, unset it, "
        "or pass --region"
    )
    assert connect(None, "ap-south-1").region == "ap-south-1"


def test_known_regions_are_read_once_a_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """`apply` connects once a repository: the endpoint data is not read again each time."""
    import boto3

    from ghbootstrap.aws.session import connect

    connect(None, "us-east-1")
    reads = []
    original = boto3.session.Session.get_available_partitions

    def counted(self: boto3.session.Session) -> list[str]:
        reads.append(1)
        return original(self)

    monkeypatch.setattr(boto3.session.Session, "get_available_partitions", counted)
    assert connect(None, "eu-west-1").region == "eu-west-1"
    assert reads == []


def test_a_data_path_of_its_own_gets_its_own_regions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Endpoint data from AWS_DATA_PATH (here: one more region) is read, not a cached
    answer from botocore's own data."""
    import botocore

    from ghbootstrap.aws.session import connect

    data = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    aws = next(p for p in data["partitions"] if p["partition"] == "aws")
    aws["regions"]["xx-test-1"] = {"description": "a region only this data path knows"}
    aws["services"]["api.ecr"]["endpoints"]["xx-test-1"] = {}  # ECR's endpoint prefix
    (tmp_path / "endpoints.json").write_text(json.dumps(data))

    with pytest.raises(UsageError, match="'xx-test-1' is not an AWS region"):
        connect(None, "xx-test-1")
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    assert connect(None, "xx-test-1").region == "xx-test-1"
    assert connect(None, "us-east-1").region == "us-east-1"
