"""Which `sub` claims a role admits, from GitHub's subject settings and the scope options."""

from __future__ import annotations

import pytest

from ghbootstrap.errors import ConflictError, UsageError
from ghbootstrap.subjects import (
    GitHubRepo,
    Scopes,
    Subjects,
    SubjectTemplate,
    build_subjects,
    subject_prefix,
)

REPO = GitHubRepo(owner="Octo-Org", name="Hello", owner_id=11, repo_id=22, default_branch="main")


def test_default_template_uses_canonical_owner_and_name() -> None:
    assert subject_prefix(REPO, SubjectTemplate()) == "repo:Octo-Org/Hello"


def test_immutable_subject_uses_ids() -> None:
    template = SubjectTemplate(use_immutable_subject=True)
    assert subject_prefix(REPO, template) == "repo:Octo-Org@11/Hello@22"


def test_sub_claim_prefix_from_github_wins() -> None:
    template = SubjectTemplate(
        use_immutable_subject=True, sub_claim_prefix="repo:Octo-Org@11/Hello@22"
    )
    assert subject_prefix(REPO, template) == "repo:Octo-Org@11/Hello@22"


def test_custom_template_with_repository_id_is_rebuilt() -> None:
    template = SubjectTemplate(
        use_default=False, include_claim_keys=("repository_owner_id", "repository_id", "context")
    )
    assert subject_prefix(REPO, template) == "repository_owner_id:11:repository_id:22"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            SubjectTemplate(use_default=False, include_claim_keys=("repository_owner", "context")),
            "do not name the repository",
        ),
        (
            SubjectTemplate(sub_claim_prefix="repository_owner:Octo-Org"),
            "do not name the repository",
        ),
        (
            SubjectTemplate(sub_claim_prefix="repo:Octo-Org/Hello-Other"),
            "do not name the repository",
        ),
        (
            SubjectTemplate(use_default=False, include_claim_keys=("context", "repo")),
            "does not end with 'context'",
        ),
        (
            SubjectTemplate(use_default=False, include_claim_keys=("repo", "actor", "context")),
            "includes 'actor'",
        ),
    ],
)
def test_templates_that_cannot_pin_the_repository_are_refused(
    template: SubjectTemplate, message: str
) -> None:
    with pytest.raises(ConflictError, match=message):
        subject_prefix(REPO, template)


def test_no_scopes_means_the_default_branch_alone() -> None:
    assert build_subjects("repo:o/r", Scopes(), "trunk") == Subjects(
        exact=("repo:o/r:ref:refs/heads/trunk",), patterns=()
    )


def test_every_scope_kind_and_which_become_patterns() -> None:
    scopes = Scopes.parse(
        branches=["main", "release/*"],
        tags=["v1.0.0", "v*"],
        environments=["prod", "eu:west"],
        pull_requests=True,
    )
    assert build_subjects("repo:o/r", scopes, "main") == Subjects(
        exact=(
            "repo:o/r:ref:refs/heads/main",
            "repo:o/r:ref:refs/tags/v1.0.0",
            "repo:o/r:environment:eu%3Awest",  # scopes are sets, kept sorted
            "repo:o/r:environment:prod",
            "repo:o/r:pull_request",
        ),
        patterns=("repo:o/r:ref:refs/heads/release/*", "repo:o/r:ref:refs/tags/v*"),
    )


def test_an_environment_name_with_a_star_stays_exact() -> None:
    subjects = build_subjects("repo:o/r", Scopes.parse(environments=["prod*"]), "main")
    assert subjects.exact == ("repo:o/r:environment:prod*",)
    assert subjects.patterns == ()


def test_repeated_scopes_are_kept_once() -> None:
    assert Scopes.parse(branches=["main", "main"]).branches == ("main",)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"branches": [""]}, "--branch '' is not a valid git ref name"),
        ({"branches": ["a..b"]}, "is not a valid git ref name"),
        ({"branches": ["has space"]}, "is not a valid git ref name"),
        ({"tags": ["v1:2"]}, "--tag 'v1:2' is not a valid git ref name"),
        ({"tags": ["-v1"]}, "is not a valid git ref name"),
        ({"environments": [" "]}, "is not a valid environment name"),
        ({"environments": ["x" * 256]}, "is not a valid environment name"),
    ],
)
def test_bad_scope_values_are_usage_errors(kwargs: dict[str, list[str]], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Scopes.parse(**kwargs)  # type: ignore[arg-type]
