"""Reading a workflow's jobs for `migrate --finish`: each job's environment, and which of the
key's secrets its expressions read. Whatever cannot be placed counts as a read."""

from __future__ import annotations

import pytest

from ghbootstrap.jobs import ALL_SECRETS, jobs, reads_variable, secrets_read
from ghbootstrap.subjects import Scopes
from ghbootstrap.workflow import KEYS_TEMPLATE, OIDC_TEMPLATE, build_workflow

KEY = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def job_environments(text: str) -> list[tuple[str, str | None, bool]]:
    return [(j.name, j.environment, j.known) for j in jobs(text)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("    environment: prod", ("prod", True)),
        ("    environment: prod # the live one", ("prod", True)),
        ('    environment: "prod (eu)"', ("prod (eu)", True)),
        ('    environment: "pr\\u00f6d"', ("pr\u00f6d", True)),
        ("    environment: 'it''s'", ("it's", True)),
        ("    environment: {name: prod, url: 'https://x'}", ("prod", True)),
        ("    environment:\n      url: https://x\n      name: prod", ("prod", True)),
        ("    environment: ${{ inputs.where }}", (None, False)),
        ("    environment:\n      name: ${{ matrix.env }}", (None, False)),
        ("    environment: \"${{ '${{' }}x\"", ("${{x", True)),
    ],
)
def test_a_jobs_environment(line: str, expected: tuple[str | None, bool]) -> None:
    text = f"on: push\njobs:\n  build:  # builds\n    runs-on: x\n{line}\n    steps: []\n"
    assert job_environments(text) == [("build", *expected)]


def test_jobs_without_an_environment_and_nested_keys_that_are_not_the_jobs() -> None:
    text = (
        "on: push\r\njobs:\r\n  a:\r\n    runs-on: x\r\n    steps:\r\n"
        "      - environment: prod\r\n  'b':\r\n    environment: prod\r\nenv:\r\n  X: 1\r\n"
    )
    assert job_environments(text) == [("a", None, True), ("b", "prod", True)]


def test_the_templates_read_back() -> None:
    keys = build_workflow(KEYS_TEMPLATE, "o/r", Scopes(environments=("prod: eu",)), "main")
    [job] = [j for j in jobs(keys) if j.name]  # and the rest: `concurrency` has ${{ }}
    assert (job.name, job.environment, job.known) == ("build-push", "prod: eu", True)
    assert secrets_read(job, KEY) == list(KEY)
    assert not reads_variable(job, "AWS_ROLE_ARN")
    [job] = [j for j in jobs(build_workflow(OIDC_TEMPLATE, "o/r", Scopes(), "main")) if j.name]
    assert (job.environment, job.known) == (None, True)
    assert secrets_read(job, KEY) == []
    assert reads_variable(job, "AWS_ROLE_ARN")


@pytest.mark.parametrize(
    ("expression", "read"),
    [
        ("${{ secrets.AWS_ACCESS_KEY_ID }}", ["AWS_ACCESS_KEY_ID"]),
        ("${{ Secrets.aws_access_key_id }}", ["AWS_ACCESS_KEY_ID"]),
        ("${{ secrets [ 'AWS_SECRET_ACCESS_KEY' ] }}", ["AWS_SECRET_ACCESS_KEY"]),
        ("${{ format('{0}', secrets[\"AWS_ACCESS_KEY_ID\"]) }}", ["AWS_ACCESS_KEY_ID"]),
        ("${{ toJSON(secrets) }}", [ALL_SECRETS]),
        ("${{ secrets.AWS_ACCESS_KEY_ID_OLD }}", []),
        ("${{ mysecrets.AWS_ACCESS_KEY_ID }}", []),
        ("secrets.AWS_ACCESS_KEY_ID", []),  # prose, not an expression
    ],
)
def test_which_secrets_a_job_reads(expression: str, read: list[str]) -> None:
    text = f"jobs:\n  a:\n    steps:\n      - run: echo {expression}\n"
    [job] = jobs(text)
    assert secrets_read(job, KEY) == read


def test_comments_are_not_reads_and_text_outside_the_jobs_is_a_job_of_any_environment() -> None:
    text = (
        "# once read ${{ secrets.AWS_ACCESS_KEY_ID }}\n"
        "env:\n  KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n"
        "jobs:\n  a:\n    environment: staging\n    steps: []\n"
    )
    [job, outside] = jobs(text)
    assert secrets_read(job, KEY) == []
    assert (outside.name, outside.known) == ("", False)
    assert outside.in_environment("prod")
    assert secrets_read(outside, KEY) == ["AWS_SECRET_ACCESS_KEY"]
    assert not job.in_environment("prod")
    assert jobs(text.replace("staging", "PROD"))[0].in_environment("prod")


def test_a_file_without_jobs_is_read_whole() -> None:
    [whole] = jobs("on: push\nweird: ${{ secrets.AWS_ACCESS_KEY_ID }}\n")
    assert (whole.name, whole.known) == ("", False)
    assert secrets_read(whole, KEY) == ["AWS_ACCESS_KEY_ID"]
