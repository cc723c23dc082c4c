"""verdict.judge on trust documents written out by hand: whether STS would admit a job's
claims, the first reason it would refuse, and what fixes it (a scope to add, the role
rewritten as it is, or a change on the job's side). No AWS, no GitHub: each verdict is
compared whole, its reason word for word."""

from __future__ import annotations

from typing import Any

import pytest

from ghbootstrap.subjects import Scopes
from ghbootstrap.verdict import Provider, Verdict, judge

HOST = "token.actions.githubusercontent.com"
ISSUER = f"https://{HOST}"
ARN = f"arn:aws:iam::123456789012:oidc-provider/{HOST}"
ENTERPRISE = f"{HOST}/octo-enterprise"
ENTERPRISE_ISSUER = f"https://{ENTERPRISE}"
ENTERPRISE_ARN = f"arn:aws:iam::123456789012:oidc-provider/{ENTERPRISE}"
STS = "sts.amazonaws.com"
PROVIDER = Provider(ARN, exists=True, audiences=(STS,))
REPO = "repo:Octo-Org/Hello"
MAIN = f"{REPO}:ref:refs/heads/main"
AUDIENCE_FIX = (
    "the job asks for a token with audience '{aud}': ask for sts.amazonaws.com instead "
    "(aws-actions/configure-aws-credentials' default: remove its `audience:` input)"
)


def statement(
    sid: str | None, operator: str, subjects: list[str], effect: str = "Allow", arn: str = ARN
) -> dict[str, Any]:
    """One statement as `ghbootstrap oidc` writes them: audience and subjects."""
    found: dict[str, Any] = {
        "Effect": effect,
        "Principal": {"Federated": arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{HOST}:aud": STS}},
    }
    found["Condition"].setdefault(operator, {})[f"{HOST}:sub"] = subjects
    return found if sid is None else {"Sid": sid, **found}


def trust(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def exact(*subjects: str) -> dict[str, Any]:
    return trust(statement("Exact", "StringEquals", list(subjects)))


def claims(sub: str, aud: str = STS) -> dict[str, str]:
    return {"sub": sub, "aud": aud, "iss": ISSUER}


# -- admitted -----------------------------------------------------------------------------------


def test_an_admitted_subject_names_the_statement_that_admits_it() -> None:
    assert judge(exact(MAIN), PROVIDER, ISSUER, claims(MAIN)) == Verdict(
        True, "statement Exact of the trust admits it"
    )


def test_a_statement_without_sid_is_named_by_its_position() -> None:
    document = trust(
        statement("Exact", "StringEquals", [f"{REPO}:pull_request"]),
        statement(None, "StringLike", [f"{REPO}:ref:refs/tags/v*"]),
    )
    verdict = judge(document, PROVIDER, ISSUER, claims(f"{REPO}:ref:refs/tags/v1.2"))
    assert verdict == Verdict(True, "statement number 2 of the trust admits it")


@pytest.mark.parametrize(
    ("pattern", "sub", "admitted"),
    [
        (f"{REPO}:ref:refs/tags/v*", f"{REPO}:ref:refs/tags/v2.0.1", True),
        (f"{REPO}:ref:refs/heads/release/*", f"{REPO}:ref:refs/heads/release/1.x/hotfix", True),
        (f"{REPO}:ref:refs/heads/rel-?", f"{REPO}:ref:refs/heads/rel-7", True),
        (f"{REPO}:ref:refs/heads/rel-?", f"{REPO}:ref:refs/heads/rel-10", False),
        (f"{REPO}:ref:refs/tags/v*", f"{REPO}:ref:refs/heads/v2", False),
        (f"{REPO}:*", f"{REPO}:environment:prod", True),
        (f"{REPO}:*", "repo:Octo-Org/Hello-Other:environment:prod", False),
    ],
)
def test_stringlike_patterns(pattern: str, sub: str, admitted: bool) -> None:
    document = trust(statement("Patterns", "StringLike", [pattern]))
    assert judge(document, PROVIDER, ISSUER, claims(sub)).admitted is admitted


def test_stringequals_takes_a_star_literally() -> None:
    """The same pattern under StringEquals admits only a tag named `v*`."""
    document = exact(f"{REPO}:ref:refs/tags/v*")
    literal = judge(document, PROVIDER, ISSUER, claims(f"{REPO}:ref:refs/tags/v*"))
    assert literal == Verdict(True, "statement Exact of the trust admits it")
    assert judge(document, PROVIDER, ISSUER, claims(f"{REPO}:ref:refs/tags/v1")) == Verdict(
        False,
        f"nearest admitted subject {REPO}:ref:refs/tags/v*: the trust admits no tag v1",
        scope=Scopes(tags=("v1",)),
        rewrite=True,
    )


def test_an_environment_with_a_colon_is_admitted_as_github_writes_it() -> None:
    document = exact(f"{REPO}:environment:eu%3Awest")
    verdict = judge(document, PROVIDER, ISSUER, claims(f"{REPO}:environment:eu%3Awest"))
    assert verdict == Verdict(True, "statement Exact of the trust admits it")


# -- the provider and the issuer -------------------------------------------------------------


@pytest.mark.parametrize("exists", [False, True])
def test_a_token_from_an_issuer_the_role_does_not_trust_gets_no_fix(exists: bool) -> None:
    """Claims are evidence, never configuration: no rewrite moves the role to the token's
    issuer, whether or not the account has a provider for it."""
    provider = Provider(ENTERPRISE_ARN, exists=exists, audiences=(STS,))
    verdict = judge(exact(MAIN), provider, ENTERPRISE_ISSUER, claims(MAIN))
    assert verdict == Verdict(
        False, f"the token comes from {ENTERPRISE_ISSUER}; the role trusts {ISSUER}"
    )


def test_a_role_that_trusts_no_github_provider() -> None:
    elsewhere = "arn:aws:iam::123456789012:oidc-provider/oidc.example.com"
    document = trust(statement("Other", "StringEquals", [MAIN], arn=elsewhere))
    verdict = judge(document, PROVIDER, ISSUER, claims(MAIN))
    assert verdict == Verdict(
        False, f"the token comes from {ISSUER}; the role trusts no GitHub OIDC provider"
    )


def test_the_trusted_provider_is_missing_from_the_account() -> None:
    verdict = judge(exact(MAIN), Provider(ARN, exists=False), ISSUER, claims(MAIN))
    assert verdict == Verdict(
        False,
        f"the role trusts OIDC provider {ARN}, which does not exist in the account",
        rewrite=True,
    )


# -- the audience ---------------------------------------------------------------------------


def test_the_provider_lacks_the_sts_audience_a_rerun_adds() -> None:
    other_only = Provider(ARN, exists=True, audiences=("other",))
    verdict = judge(exact(MAIN), other_only, ISSUER, claims(MAIN))
    assert verdict == Verdict(
        False, f"the OIDC provider for {HOST} lacks the audience {STS}", rewrite=True
    )


def test_a_job_asking_for_an_audience_the_provider_does_not_accept() -> None:
    aud = "https://github.com/Octo-Org"
    verdict = judge(exact(MAIN), PROVIDER, ISSUER, claims(MAIN, aud))
    assert verdict == Verdict(
        False,
        f"the OIDC provider for {HOST} does not accept the audience '{aud}'",
        workflow=AUDIENCE_FIX.format(aud=aud),
    )


def test_an_audience_the_provider_accepts_and_the_trust_does_not() -> None:
    both = Provider(ARN, exists=True, audiences=("custom", STS))
    verdict = judge(exact(MAIN), both, ISSUER, claims(MAIN, "custom"))
    assert verdict == Verdict(
        False,
        f"the trust admits the audience {STS}, not 'custom'",
        workflow=AUDIENCE_FIX.format(aud="custom"),
    )


def test_a_wrong_audience_and_a_subject_not_admitted_are_both_said() -> None:
    both = Provider(ARN, exists=True, audiences=("custom", STS))
    verdict = judge(exact(MAIN), both, ISSUER, claims(f"{REPO}:ref:refs/heads/dev", "custom"))
    assert verdict == Verdict(
        False,
        f"nearest admitted subject {MAIN}: the trust admits no branch dev; "
        "and the audience 'custom' is wrong too",
        scope=Scopes(branches=("dev",)),
        rewrite=True,
        workflow=AUDIENCE_FIX.format(aud="custom"),
    )


# -- an explicit Deny ----------------------------------------------------------------------


def test_a_deny_statement_wins_and_is_named_by_its_sid() -> None:
    deny = {**statement("NoMain", "StringEquals", [MAIN], effect="Deny")}
    document = trust(statement("Exact", "StringEquals", [MAIN]), deny)
    assert judge(document, PROVIDER, ISSUER, claims(MAIN)) == Verdict(
        False, "statement NoMain of the trust denies it explicitly"
    )


def test_a_deny_statement_without_sid_is_named_by_its_position() -> None:
    deny = statement(None, "StringLike", [f"{REPO}:*"], effect="Deny")
    document = trust(statement("Exact", "StringEquals", [MAIN]), deny)
    assert judge(document, PROVIDER, ISSUER, claims(MAIN)) == Verdict(
        False, "statement number 2 of the trust denies it explicitly"
    )


def test_a_deny_that_does_not_apply_leaves_the_job_admitted() -> None:
    deny = statement("NoPullRequests", "StringEquals", [f"{REPO}:pull_request"], effect="Deny")
    document = trust(statement("Exact", "StringEquals", [MAIN]), deny)
    assert judge(document, PROVIDER, ISSUER, claims(MAIN)) == Verdict(
        True, "statement Exact of the trust admits it"
    )


# -- a subject the trust does not admit: the nearest one, and what differs -------------------


@pytest.mark.parametrize(
    ("admitted", "sub", "nearest", "reason", "scope"),
    [
        (
            [MAIN],
            f"{REPO}:ref:refs/heads/dev",
            MAIN,
            "the trust admits no branch dev",
            Scopes(branches=("dev",)),
        ),
        (
            [MAIN],
            f"{REPO}:ref:refs/tags/v1",
            MAIN,
            "the trust admits no tag v1",
            Scopes(tags=("v1",)),
        ),
        (
            [f"{REPO}:ref:refs/tags/v1"],
            f"{REPO}:ref:refs/heads/v1",
            f"{REPO}:ref:refs/tags/v1",
            "the job runs for branch v1 (ref:refs/heads/v1); the trust admits tag v1, "
            "not branch v1",
            Scopes(branches=("v1",)),
        ),
        (
            [MAIN],
            f"{REPO}:ref:refs/tags/main",
            MAIN,
            "the job runs for tag main (ref:refs/tags/main); the trust admits branch main, "
            "not tag main",
            Scopes(tags=("main",)),
        ),
        (
            [MAIN],
            f"{REPO}:pull_request",
            MAIN,
            "a pull request job's sub ends in pull_request, not in its branch, and the trust "
            "admits no pull requests",
            Scopes(pull_requests=True),
        ),
        (
            [MAIN],
            f"{REPO}:environment:prod%3A eu",
            MAIN,
            "the job runs in environment prod: eu, so its sub names the environment "
            "(environment:prod%3A eu), not its branch or tag: an environment takes "
            "precedence, and the trust admits no environment",
            Scopes(environments=("prod: eu",)),
        ),
        (
            [f"{REPO}:environment:prod", MAIN],
            f"{REPO}:environment:staging",
            f"{REPO}:environment:prod",
            "the trust does not admit environment staging",
            Scopes(environments=("staging",)),
        ),
        (
            # written by hand, or by a tool that does not know GitHub's %3A
            [f"{REPO}:environment:eu:west"],
            f"{REPO}:environment:eu%3Awest",
            f"{REPO}:environment:eu:west",
            "GitHub writes ':' in environment names as %3A, so the job's sub ends in "
            "environment:eu%3Awest, and the trust names environment:eu:west",
            Scopes(environments=("eu:west",)),
        ),
    ],
    ids=[
        "other-branch",
        "a-tag",
        "branch-not-tag",
        "tag-not-branch",
        "pull-request",
        "environment-none-admitted",
        "other-environment",
        "colon-not-encoded",
    ],
)
def test_a_context_the_trust_does_not_admit(
    admitted: list[str], sub: str, nearest: str, reason: str, scope: Scopes
) -> None:
    verdict = judge(exact(*admitted), PROVIDER, ISSUER, claims(sub))
    assert verdict == Verdict(
        False, f"nearest admitted subject {nearest}: {reason}", scope=scope, rewrite=True
    )


def test_a_job_outside_the_only_admitted_environment_is_fixed_in_the_workflow() -> None:
    document = exact(f"{REPO}:environment:prod%3A eu", f"{REPO}:environment:staging")
    verdict = judge(document, PROVIDER, ISSUER, claims(MAIN))
    assert verdict == Verdict(
        False,
        f"nearest admitted subject {REPO}:environment:staging: the job runs in no "
        "environment, so its sub names ref:refs/heads/main; the trust admits environments "
        "(prod: eu, staging) and not this",
        workflow='run the job in environment prod: eu: add `environment: "prod: eu"` to '
        "the job in the workflow",
    )


@pytest.mark.parametrize(
    ("sub", "reason"),
    [
        (
            "repo:octo-org/hello:ref:refs/heads/main",
            "the repository is named repo:octo-org/hello now, and the trust names "
            f"{REPO}: GitHub's subjects are case-sensitive (an owner or repository renamed "
            "in case)",
        ),
        (
            "repo:Octo-Org@11/Hello@22:ref:refs/heads/main",
            "the repository uses immutable subjects (repo:Octo-Org@11/Hello@22), and the "
            f"trust names the mutable form {REPO}",
        ),
        (
            "repo:Octo-Org/Greeter:ref:refs/heads/main",
            f"the token names repo:Octo-Org/Greeter, and the trust {REPO}: the repository "
            "was renamed or moved, or its OIDC subject template changed",
        ),
    ],
    ids=["case", "immutable-token", "renamed"],
)
def test_the_same_context_under_another_repository_name_is_rewritten_as_it_is(
    sub: str, reason: str
) -> None:
    verdict = judge(exact(MAIN), PROVIDER, ISSUER, claims(sub))
    assert verdict == Verdict(False, f"nearest admitted subject {MAIN}: {reason}", rewrite=True)


def test_a_mutable_token_against_an_immutable_trust() -> None:
    immutable = "repo:Octo-Org@11/Hello@22:ref:refs/heads/main"
    verdict = judge(exact(immutable), PROVIDER, ISSUER, claims(MAIN))
    assert verdict == Verdict(
        False,
        f"nearest admitted subject {immutable}: the trust names the immutable form "
        f"repo:Octo-Org@11/Hello@22, and the repository's subjects are in the mutable form "
        f"{REPO}",
        rewrite=True,
    )


def test_another_name_and_a_context_admitted_under_no_name() -> None:
    verdict = judge(exact(MAIN), PROVIDER, ISSUER, claims("repo:Octo-Org/Greeter:pull_request"))
    assert verdict == Verdict(
        False,
        f"nearest admitted subject {MAIN}: the token names repo:Octo-Org/Greeter, and the "
        f"trust {REPO}: the repository was renamed or moved, or its OIDC subject template "
        "changed; and the trust admits no pull_request under any name",
        scope=Scopes(pull_requests=True),
        rewrite=True,
    )


def test_a_trust_that_admits_no_github_subject() -> None:
    """Its only Allow tests a claim the job's token lacks, and names no `sub`."""
    document = trust(
        {
            "Sid": "ById",
            "Effect": "Allow",
            "Principal": {"Federated": ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{HOST}:aud": STS, f"{HOST}:repository_id": "22"}},
        }
    )
    verdict = judge(document, PROVIDER, ISSUER, claims(f"{REPO}:environment:prod"))
    assert verdict == Verdict(
        False,
        "the trust admits no GitHub subject at all",
        scope=Scopes(environments=("prod",)),
        rewrite=True,
    )
