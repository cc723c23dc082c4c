"""The OIDC workflow's explain step, run the way GitHub runs it: its `run:` script with
bash, vars substituted, in a clean environment, against a local token endpoint."""

from __future__ import annotations

import io
import json
import shlex
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from ghbootstrap.subjects import Scopes
from ghbootstrap.workflow import OIDC_TEMPLATE, build_workflow
from tests.conftest import ACCOUNT, REGION
from tests.fakes.github import FakeGitHub
from tests.test_explain_flow import Cli, jwt

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ghbootstrap-octo-org-hello-world"
REQUEST_TOKEN = "actions-request-token-0123456789"
CLAIMS = {
    "sub": "repo:Octo-Org/Hello-World:pull_request",
    "aud": "sts.amazonaws.com",
    "iss": "https://token.actions.githubusercontent.com",
    "repository": "Octo-Org/Hello-World",
    "ref": "refs/pull/7/merge",
    "event_name": "pull_request",
    "exp": 1764553200,
}
SIGNATURE = b"\xfb\xff-signature-bytes-that-must-never-be-printed-\xfe"
TOKEN = jwt(CLAIMS, SIGNATURE)
EXPLAIN_LINE = (
    "ghbootstrap explain Octo-Org/Hello-World --role-name ghbootstrap-octo-org-hello-world "
    f"--region {REGION} --claims -"
)


def workflow_steps() -> list[dict[str, Any]]:
    text = build_workflow(OIDC_TEMPLATE, "Octo-Org/Hello-World", Scopes(), "main")
    steps: list[dict[str, Any]] = yaml.safe_load(text)["jobs"]["build-push"]["steps"]
    return steps


def explain_step() -> dict[str, Any]:
    return next(s for s in workflow_steps() if s.get("name") == "Explain why AWS refused the role")


@contextmanager
def token_endpoint(seen: list[dict[str, Any]]) -> Iterator[str]:
    """GitHub's ID token endpoint: checks the bearer request token, answers with a JWT."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(
                {
                    "auth": self.headers.get("Authorization"),
                    "query": parse_qs(urlsplit(self.path).query),
                }
            )
            ok = self.headers.get("Authorization") == f"bearer {REQUEST_TOKEN}"
            body = json.dumps({"value": TOKEN} if ok else {"message": "Unauthorized"}).encode()
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/_apis/token?api-version=2.0"
    finally:
        server.shutdown()
        server.server_close()


def run_step(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """As the runner does: the script in a file, `bash --noprofile --norc -eo pipefail`,
    the step's env with `${{ vars.X }}` substituted, plus the runner's own variables."""
    step = explain_step()
    variables = {"AWS_ROLE_ARN": ROLE_ARN, "AWS_REGION": REGION}
    step_env = {
        name: variables[value.removeprefix("${{ vars.").removesuffix(" }}")]
        for name, value in step["env"].items()
    }
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    return subprocess.run(
        ["/bin/bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **step_env, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_step_runs_only_when_the_credentials_step_failed() -> None:
    steps = workflow_steps()
    credentials = next(s for s in steps if s.get("name") == "Configure AWS credentials")
    step = explain_step()
    assert credentials["id"] == "credentials"
    assert step["if"] == "failure() && steps.credentials.outcome == 'failure'"
    assert "uses" not in step
    assert steps.index(step) == steps.index(credentials) + 1


def test_the_step_prints_the_claims_and_the_explain_line_never_the_token(
    tmp_path: Path, cli: Cli, moto: None, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []
    with token_endpoint(seen) as url:
        done = run_step(
            tmp_path,
            {
                "GITHUB_REPOSITORY": "Octo-Org/Hello-World",
                "ACTIONS_ID_TOKEN_REQUEST_URL": url,
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
            },
        )

    assert done.returncode == 0, done.stderr
    assert seen == [
        {
            "auth": f"bearer {REQUEST_TOKEN}",
            "query": {"api-version": ["2.0"], "audience": ["sts.amazonaws.com"]},
        }
    ]
    lines = done.stdout.splitlines()
    assert lines[0] == "This job's OIDC token claims (the token itself is not shown):"
    assert lines[-2] == "Paste the claims above into this command, on a machine with AWS access:"
    assert lines[-1] == EXPLAIN_LINE
    printed = "\n".join(lines[1:-2])
    assert json.loads(printed) == CLAIMS
    output = done.stdout + done.stderr
    header, payload, signature = TOKEN.split(".")
    for secret in (TOKEN, header, payload, signature, REQUEST_TOKEN):
        assert secret not in output

    # The printed line, run as printed, with the printed claims on stdin.
    assert cli("oidc", "Octo-Org/Hello-World", "--no-workflow").code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(printed))
    result = cli(*shlex.split(lines[-1])[1:], "--json")
    assert result.code == 3, result.err
    answer = json.loads(result.out)
    assert answer["sub"] == CLAIMS["sub"]
    assert answer["admitted"] is False
    assert answer["fix"] == (
        f"ghbootstrap oidc Octo-Org/Hello-World --region {REGION} --branch main "
        "--pull-requests --no-workflow"
    )


def test_without_id_token_permission_the_step_says_so(tmp_path: Path) -> None:
    done = run_step(tmp_path, {"GITHUB_REPOSITORY": "Octo-Org/Hello-World"})
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == ("no OIDC token for this job: give it `permissions: id-token: write`\n")
