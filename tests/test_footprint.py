"""The records ghbootstrap keeps in tags: any name fits IAM's rules and reads back the same."""

from __future__ import annotations

import re

import pytest

from ghbootstrap.errors import UsageError
from ghbootstrap.footprint import (
    RECORD_TAGS_MAX,
    KeysGiven,
    OidcGiven,
    environments_record,
    read_record,
    role_tags,
    stale_tags,
    write_record,
)
from ghbootstrap.subjects import Scopes

# IAM's documented rules for tags (letters, digits, spaces and _ . : / = + - @), in ASCII.
TAG_KEY = re.compile(r"[A-Za-z0-9 _.:/=+\-@]{1,128}")
TAG_VALUE = re.compile(r"[A-Za-z0-9 _.:/=+\-@]{0,256}")
AWKWARD = ["prod (eu)", "prod #1", "prod: eu", "a+b", "a@b", "x=y", "ünïcödé", "a,b", "*?", ""]


@pytest.mark.parametrize("name", AWKWARD)
def test_any_name_round_trips_and_fits_iam(name: str) -> None:
    tags = write_record("ghbootstrap:environments", [name, "staging"], "environments")
    assert all(TAG_KEY.fullmatch(k) and TAG_VALUE.fullmatch(v) for k, v in tags.items())
    assert read_record(tags, "ghbootstrap:environments") == ([name] if name else []) + ["staging"]


def test_a_long_record_spreads_over_numbered_tags() -> None:
    names = [f"prod-{i:02}-" + "x" * 40 for i in range(30)]
    tags = write_record("ghbootstrap:environments", names, "environments")
    assert list(tags) == [
        "ghbootstrap:environments",
        "ghbootstrap:environments:2",
        "ghbootstrap:environments:3",
        "ghbootstrap:environments:4",
        "ghbootstrap:environments:5",
        "ghbootstrap:environments:6",
    ]
    assert all(len(v) <= 256 for v in tags.values())
    assert read_record(tags, "ghbootstrap:environments") == names
    assert stale_tags(tags, {"ghbootstrap:environments": ""}, ["ghbootstrap:environments"]) == [
        "ghbootstrap:environments:2",
        "ghbootstrap:environments:3",
        "ghbootstrap:environments:4",
        "ghbootstrap:environments:5",
        "ghbootstrap:environments:6",
    ]


def test_a_record_beyond_the_limit_is_refused() -> None:
    with pytest.raises(UsageError, match="do not fit in the 20 IAM tags"):
        write_record("ghbootstrap:environments", ["e" * 255] * 30, "environments")


def test_the_setup_record_reads_back_the_command_it_came_from() -> None:
    setup = OidcGiven(
        region="eu-west-1",
        ecr_repository="team/img",
        policy="Push+Policy",
        role="CI-Role.x",
        scopes=Scopes(
            branches=("main", "release/*"),
            tags=("v*",),
            environments=("prod (eu)", "x=y"),
            pull_requests=True,
        ),
        mutable_tags=True,
        issuer="https://ghes.example.com/_services/token",
        ecr_named=True,
    )
    tags = role_tags("octo-org/hello-world", "f" * 32, setup, ["staging", "prod (eu)"])
    assert tags == {
        "ghbootstrap:repository": "octo-org/hello-world",
        "ghbootstrap:trust": "f" * 32,
        "ghbootstrap:scopes": "region=eu-west-1+ecr=team/img+policy=Push@2BPolicy+branch=main"
        "+branch=release/@2A+tag=v@2A+environment=prod@20@28eu@29+environment=x=y"
        "+pull-requests+ecr-named+mutable-tags+issuer=https://ghes.example.com/_services/token",
        "ghbootstrap:environments": "staging+prod@20@28eu@29",
    }
    assert OidcGiven.from_tags(tags, "CI-Role.x") == setup
    assert environments_record(tags) == ["staging", "prod (eu)"]


def test_the_environments_tag_of_earlier_releases_still_reads() -> None:
    assert environments_record({"ghbootstrap:environments": "staging,prod"}) == ["staging", "prod"]
    assert environments_record({}) == []


def test_the_keys_record_keeps_the_workflow_path_within_iam_limits() -> None:
    path = ".github/workflows/" + "bäu (ci) #1 + x=y/" * 40 + "build.yml"
    setup = KeysGiven("eu-west-1", "team/img", "Push+Policy", "ci-user", workflow=path)
    tags = setup.to_tags()
    assert 1 < len(tags) <= RECORD_TAGS_MAX
    assert all(TAG_KEY.fullmatch(k) and TAG_VALUE.fullmatch(v) for k, v in tags.items())
    assert KeysGiven.from_tags(tags, "ci-user") == setup
    assert KeysGiven.from_tags(
        KeysGiven("eu-west-1", "team/img", "P", "u").to_tags(), "u"
    ) == KeysGiven("eu-west-1", "team/img", "P", "u", workflow=None)


@pytest.mark.parametrize("environment", ["ops@DE", "a+b", "a b@41"])
def test_one_environment_0_1_0_recorded_as_it_is_reads_as_that_name(environment: str) -> None:
    """0.1.0 wrote a role's environments as they are, comma-separated, beside no scopes
    record. One name has no comma, and its `@DE` or `+` read as today's escaping: status
    and destroy stopped on `ops@DE` (UnicodeDecodeError) and took `a+b` for two."""
    made_by_0_1_0 = {
        "ghbootstrap:repository": "octo-org/hello-world",
        "ghbootstrap:trust": "f" * 32,
        "ghbootstrap:environments": environment,
    }
    assert environments_record(made_by_0_1_0) == [environment]
