"""identity.py: what a trust pins beside `sub` (the repository's id for github.com's issuer,
the job workflows), the subject forms it admits while GitHub switches, IAM's size quota,
and the words for each change. No AWS, no GitHub."""

from __future__ import annotations

from typing import Any

import pytest

from ghbootstrap.documents import TRUST_POLICY_QUOTA, trust_policy, trust_size
from ghbootstrap.errors import ConflictError, UsageError
from ghbootstrap.identity import (
    check_job_workflow,
    check_job_workflows,
    check_size,
    refuse_another_repository,
    trust_change,
    trust_for,
    uses_line,
)
from ghbootstrap.subjects import GitHubRepo, Scopes, Subjects, SubjectTemplate

HOST = "token.actions.githubusercontent.com"
ISSUER = f"https://{HOST}"
PROVIDER = f"arn:aws:iam::123456789012:oidc-provider/{HOST}"
REPO = GitHubRepo("Octo-Org", "Hello", owner_id=11, repo_id=22, default_branch="main")
PLATFORM = "octo-org/platform/.github/workflows/build.yml@refs/heads/main"
GRAMMAR = (
    "give OWNER/REPO/.github/workflows/FILE.yml@refs/heads/BRANCH (or @refs/tags/TAG), e.g. "
    "acme/platform/.github/workflows/build.yml@refs/heads/main (no wildcards)"
)


@pytest.mark.parametrize(
    "value",
    [
        PLATFORM,
        "octo-org/platform/.github/workflows/build.yaml@refs/tags/v1.2",
        "o/r.x/.github/workflows/a_b-c.yml@refs/heads/release/1.x",
    ],
)
def test_a_job_workflow_as_github_names_it(value: str) -> None:
    assert check_job_workflow(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "octo-org/platform/.github/workflows/build.yml",  # no ref
        "octo-org/platform/.github/workflows/build.yml@main",  # a short ref
        "octo-org/platform/.github/workflows/build.yml@refs/heads/*",  # a wildcard
        "octo-org/platform/.github/workflows/build.json@refs/heads/main",
        "octo-org/platform/workflows/build.yml@refs/heads/main",
        "octo-org/platform/.github/workflows/ci/build.yml@refs/heads/main",  # a sub-folder
        "octo-org/.github/workflows/build.yml@refs/heads/main",  # no repository
        "-octo/platform/.github/workflows/build.yml@refs/heads/main",  # not an owner name
        "octo-org/platform/.github/workflows/build.yml@refs/heads/a..b",  # not a ref name
        "octo-org/platform/.github/workflows/build.yml@refs/main",
        "octo-org/platform/.github/workflows/b$x.yml@refs/heads/main",
    ],
)
def test_anything_else_is_refused(value: str) -> None:
    with pytest.raises(UsageError) as refused:
        check_job_workflow(value)
    assert str(refused.value) == (
        f"--job-workflow '{value}' is not a workflow as GitHub's job_workflow_ref names it: "
        + GRAMMAR
    )


def test_job_workflows_are_a_set_and_the_fleet_names_its_key() -> None:
    assert check_job_workflows([PLATFORM, PLATFORM]) == (PLATFORM,)
    with pytest.raises(UsageError, match=r"^job_workflows 'x' is not"):
        check_job_workflows(["x"], "job_workflows")


def test_how_a_job_calls_a_reusable_workflow() -> None:
    assert uses_line(PLATFORM) == "uses: octo-org/platform/.github/workflows/build.yml@main"


def conditions(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s["Condition"] for s in document["Statement"]]


def test_github_com_pins_the_id_and_admits_both_forms_until_the_switch() -> None:
    before = trust_for(PROVIDER, ISSUER, REPO, SubjectTemplate(), Scopes.parse(tags=["v*"]))
    assert (before.pinned, before.prefixes) == (
        True,
        ("repo:Octo-Org/Hello", "repo:Octo-Org@11/Hello@22"),
    )
    assert conditions(before.document) == [
        {
            "StringEquals": {f"{HOST}:aud": "sts.amazonaws.com", f"{HOST}:repository_id": "22"},
            "StringLike": {
                f"{HOST}:sub": [
                    "repo:Octo-Org/Hello:ref:refs/tags/v*",
                    "repo:Octo-Org@11/Hello@22:ref:refs/tags/v*",
                ]
            },
        }
    ]
    switched = SubjectTemplate(sub_claim_prefix="repo:Octo-Org@11/Hello@22")
    after = trust_for(PROVIDER, ISSUER, REPO, switched, Scopes())
    assert after.prefixes == ("repo:Octo-Org@11/Hello@22",)


def test_a_custom_template_keeps_its_one_prefix_and_is_pinned() -> None:
    custom = SubjectTemplate(use_default=False, include_claim_keys=("repository_id", "context"))
    written = trust_for(PROVIDER, ISSUER, REPO, custom, Scopes())
    assert written.prefixes == ("repository_id:22",)
    assert conditions(written.document)[0]["StringEquals"][f"{HOST}:repository_id"] == "22"


@pytest.mark.parametrize(
    "issuer",
    [
        "https://github.example.com/_services/token",  # GitHub Enterprise Server
        "https://token.actions.octo.ghe.com",  # a GHE.com tenant
        f"{ISSUER}/octo-enterprise",  # an enterprise-slug issuer
    ],
)
def test_other_issuers_get_no_pin_and_todays_one_form(issuer: str) -> None:
    written = trust_for(PROVIDER, issuer, REPO, SubjectTemplate(), Scopes())
    assert (written.pinned, written.prefixes) == (False, ("repo:Octo-Org/Hello",))
    assert "repository_id" not in str(written.document)


def test_job_workflows_are_required_in_every_statement() -> None:
    scopes = Scopes.parse(branches=["main"], tags=["v*"])
    written = trust_for(PROVIDER, ISSUER, REPO, SubjectTemplate(), scopes, (PLATFORM,))
    assert [
        c["StringEquals"][f"{HOST}:job_workflow_ref"] for c in conditions(written.document)
    ] == [
        [PLATFORM],
        [PLATFORM],
    ]


def many_branches(count: int) -> Scopes:
    return Scopes.parse(branches=[f"feature-{n:03d}" for n in range(count)])


def test_a_trust_over_iams_quota_is_refused_naming_the_quota_and_the_scopes() -> None:
    """Both forms of 15 branches fit; of 16 they do not (moto would take it; IAM not). One
    form of 16 fits."""
    fits = trust_for(PROVIDER, ISSUER, REPO, SubjectTemplate(), many_branches(15))
    assert trust_size(fits.document) <= TRUST_POLICY_QUOTA
    check_size(fits, many_branches(15), REPO.full_name)
    scopes = many_branches(16)
    over = trust_for(PROVIDER, ISSUER, REPO, SubjectTemplate(), scopes)
    size = trust_size(over.document)
    assert size > TRUST_POLICY_QUOTA
    with pytest.raises(UsageError) as refused:
        check_size(over, scopes, REPO.full_name)
    branches = ", ".join(f"--branch feature-{n:03d}" for n in range(16))
    assert str(refused.value) == (
        f"the trust policy for Octo-Org/Hello would be {size:,} characters, over IAM's quota "
        "on a role's trust policy (2,048 characters by default; ghbootstrap keeps within it): "
        f"it admits {branches}, each in both subject forms (name and immutable) until GitHub "
        "moves the repository to immutable subjects: admit fewer scopes (one pattern such as "
        "'release/*' covers many branches), or move the repository to immutable subjects "
        "first (its OIDC settings' use_immutable_subject): then one form is enough"
    )
    switched = SubjectTemplate(use_immutable_subject=True)
    check_size(trust_for(PROVIDER, ISSUER, REPO, switched, scopes), scopes, REPO.full_name)


def test_the_words_for_each_change_of_the_trust() -> None:
    scopes = Scopes()
    pinned = trust_for(PROVIDER, ISSUER, REPO, SubjectTemplate(), scopes).document
    name_only = Subjects(("repo:Octo-Org/Hello:ref:refs/heads/main",), ())
    before_pin = trust_policy(PROVIDER, ISSUER, name_only)  # what 0.1.0 and 0.2.0 wrote
    assert trust_change(before_pin, pinned, HOST) == (
        "trust policy differs: pins it to repository id 22; admits the immutable subject "
        "form too, until the repository switches"
    )
    switched = SubjectTemplate(use_immutable_subject=True)
    after = trust_for(PROVIDER, ISSUER, REPO, switched, scopes).document
    assert trust_change(pinned, after, HOST) == (
        "trust policy differs: drops the name form: the repository uses immutable subjects now"
    )
    limited = trust_for(PROVIDER, ISSUER, REPO, switched, scopes, (PLATFORM,)).document
    assert trust_change(after, limited, HOST) == (
        f"trust policy differs: admits only jobs running {PLATFORM}"
    )
    assert trust_change(limited, after, HOST) == (
        "trust policy differs: no longer limits the workflows jobs run"
    )
    wider = trust_for(PROVIDER, ISSUER, REPO, switched, Scopes.parse(tags=["v*"])).document
    assert trust_change(after, wider, HOST) == "trust policy differs"


def test_a_role_pinned_to_another_repository_id_is_not_taken_over() -> None:
    made_for = trust_for(PROVIDER, ISSUER, REPO, SubjectTemplate(), Scopes()).document
    refuse_another_repository(made_for, REPO, ISSUER, "ci")
    recreated = GitHubRepo("Octo-Org", "Hello", owner_id=11, repo_id=99, default_branch="main")
    with pytest.raises(ConflictError) as refused:
        refuse_another_repository(made_for, recreated, ISSUER, "ci")
    assert str(refused.value) == (
        "IAM role ci trusts repository id 22, and Octo-Org/Hello is repository id 99: this is "
        "another repository with the same name (the one the role was made for was deleted and "
        "re-created, or transferred): check who owns Octo-Org/Hello now; only if the role is "
        "meant for it, run this command again with --force"
    )
