"""The installed console script against moto's server and the served GitHub fake."""

from __future__ import annotations

import fcntl
import json
import os
import platform
import pty
import select
import shlex
import signal
import subprocess
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ghbootstrap.documents import push_policy
from tests.checkouts import git_checkout
from tests.contract import Contract
from tests.e2e import SCRIPT, Stack, stack
from tests.fakes.github import FakeGitHub

pytestmark = pytest.mark.slow  # the installed script as a subprocess, against served emulators

ACCOUNT = "123456789012"
ROLE = "ghbootstrap-octo-org-hello-world"
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/ghbootstrap-ecr-push-octo-org-hello-world"


@pytest.fixture(scope="module")
def served() -> Iterator[Stack]:
    fake = FakeGitHub()
    with stack(fake) as running:
        yield running


@pytest.fixture
def e2e(served: Stack, contract: Contract) -> Stack:
    served.reset()
    served.github.repos.clear()
    served.github.requests.clear()
    served.github.observers[:] = [contract.observe]
    served.github.add_repo("Octo-Org/Hello-World")
    return served


def test_oidc_twice_on_emulators(e2e: Stack, tmp_path: Path) -> None:
    git_checkout(tmp_path, "octo-org/hello-world", "127.0.0.1", ssh=True)
    first = e2e.run("oidc", "octo-org/hello-world", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    assert first.stdout.endswith("Done: 10 created.\n")

    iam = e2e.client("iam")
    role = iam.get_role(RoleName=ROLE)["Role"]
    subjects = role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]
    assert subjects["token.actions.githubusercontent.com:sub"] == [
        "repo:Octo-Org/Hello-World:ref:refs/heads/main",
        "repo:Octo-Org@1001/Hello-World@1000:ref:refs/heads/main",
    ]
    assert subjects["token.actions.githubusercontent.com:repository_id"] == "1000"
    document = iam.get_policy_version(PolicyArn=POLICY_ARN, VersionId="v1")
    assert document["PolicyVersion"]["Document"] == push_policy(
        f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/octo-org/hello-world"
    )
    assert e2e.github.variables("Octo-Org/Hello-World")["AWS_ROLE_ARN"] == role["Arn"]
    workflow = tmp_path / ".github/workflows/ecr-build-push.yml"
    assert workflow.is_file()

    writes_before = len(e2e.github.writes())
    second = e2e.run("oidc", "octo-org/hello-world", "--json", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    result = json.loads(second.stdout)
    assert result["changed"] is False
    assert {r["action"] for r in result["resources"]} == {"no change"}
    assert e2e.github.writes()[writes_before:] == []
    versions = iam.list_policy_versions(PolicyArn=POLICY_ARN)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v1"]


def test_bad_input_through_the_installed_script(e2e: Stack) -> None:
    done = e2e.run("oidc", "not-a-repo")
    assert done.returncode == 2
    assert done.stderr == (
        "error: 'not-a-repo' is not OWNER/REPO: give the repository as OWNER/REPO, "
        "for example octo-org/hello-world\n"
    )
    assert e2e.github.requests == []


def test_unreachable_github_fails_fast_with_one_line(e2e: Stack, tmp_path: Path) -> None:
    done = e2e.run(
        "oidc", "octo-org/hello-world", "--no-workflow", GITHUB_API_URL="http://127.0.0.1:9"
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot reach GitHub at http://127.0.0.1:9")
    assert done.stderr.count("\n") == 1


def test_keys_rotate_rotate_on_emulators(e2e: Stack, tmp_path: Path) -> None:
    from tests.conftest import moto_secret

    user = "ghbootstrap-octo-org-hello-world"
    repo = "Octo-Org/Hello-World"
    iam = e2e.client("iam")

    def states() -> dict[str, str]:
        found = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        return {k["AccessKeyId"]: k["Status"] for k in found}

    def github_holds() -> str:
        key_id = e2e.github.secret(repo, "AWS_ACCESS_KEY_ID")
        assert key_id is not None
        assert states()[key_id] == "Active"
        assert e2e.github.secret(repo, "AWS_SECRET_ACCESS_KEY") == moto_secret(user, key_id)
        return key_id

    git_checkout(tmp_path, "Octo-Org/Hello-World", "127.0.0.1")
    done = e2e.run("keys", "octo-org/hello-world", "--rotation-schedule", "0 4 * * 1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    first = github_holds()
    assert states() == {first: "Active"}
    assert (tmp_path / ".github/workflows/rotate-aws-keys.yml").is_file()

    again = e2e.run(
        "keys", "octo-org/hello-world", "--rotation-schedule", "0 4 * * 1", cwd=tmp_path
    )
    assert again.stdout.endswith("No changes: everything already matches.\n")

    done = e2e.run("rotate", "octo-org/hello-world", "--propagation-timeout", "10")
    assert done.returncode == 0, done.stderr
    second = github_holds()
    assert states() == {first: "Inactive", second: "Active"}

    done = e2e.run("rotate", "octo-org/hello-world")
    assert done.returncode == 0, done.stderr
    third = github_holds()
    assert states() == {second: "Inactive", third: "Active"}
    for secret in (moto_secret(user, second), moto_secret(user, third)):
        assert secret not in done.stdout + done.stderr


def test_status_destroy_audit_on_emulators(e2e: Stack, tmp_path: Path) -> None:
    git_checkout(tmp_path, "Octo-Org/Hello-World", "127.0.0.1")
    assert e2e.run("oidc", "octo-org/hello-world", cwd=tmp_path).returncode == 0
    assert e2e.run("keys", "octo-org/hello-world", "--no-workflow").returncode == 0

    status = e2e.run("status", "octo-org/hello-world")
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.endswith("Everything matches.\n")

    iam = e2e.client("iam")
    iam.create_role(
        RoleName="wide-open",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {
                            "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/"
                            "token.actions.githubusercontent.com"
                        },
                        "Action": "sts:AssumeRoleWithWebIdentity",
                    }
                ],
            }
        ),
    )
    audit = e2e.run("audit", "--json")
    assert audit.returncode == 3
    assert [f["role"] for f in json.loads(audit.stdout)["findings"]] == ["wide-open"]

    refused = e2e.run("destroy", "octo-org/hello-world")
    assert refused.returncode == 2
    gone = e2e.run("destroy", "octo-org/hello-world", "--yes")
    assert gone.returncode == 0, gone.stderr
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["wide-open"]
    assert iam.list_users()["Users"] == []
    # another role still trusts the provider: it stays
    assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1
    assert e2e.run("status", "octo-org/hello-world").returncode == 3


def test_open_pr_on_emulators(e2e: Stack, tmp_path: Path) -> None:
    """The installed command over real HTTP: %2F-encoded paths, refs and pulls."""
    first = e2e.run("oidc", "octo-org/hello-world", "--open-pr", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Pull request    https://github.com/Octo-Org/Hello-World/pull/1\n" in first.stdout
    assert list(tmp_path.iterdir()) == []
    repo = e2e.github.repo("Octo-Org/Hello-World")
    branch = repo.branch_files("ghbootstrap/ecr-build-push")
    assert b"role-to-assume" in branch[".github/workflows/ecr-build-push.yml"]
    writes = len(e2e.github.writes())
    again = e2e.run("oidc", "octo-org/hello-world", "--open-pr", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert e2e.github.writes()[writes:] == []
    e2e.github.merge("Octo-Org/Hello-World", 1)
    status = e2e.run("status", "octo-org/hello-world")
    assert status.returncode == 0, status.stdout
    assert "current" in status.stdout


def _controlling_terminal() -> None:
    """In the child: make the pseudo-terminal on stdin its controlling terminal, so a
    typed ^C reaches it as SIGINT, as at a real terminal. An interactive shell gives its
    foreground job SIGINT's default action; do the same, since this test may itself run
    with SIGINT ignored (a background job of a non-interactive shell, as CI runs it), a
    disposition every child would otherwise inherit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _read_until(master: int, wanted: bytes, seen: bytearray, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, seen.decode(errors="replace")
        ready, _, _ = select.select([master], [], [], left)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                return
            if not chunk:
                return
            seen += chunk


# read(2)'s number, to see in /proc/PID/syscall that a process waits on its terminal
_READ_SYSCALLS = {"x86_64": "0", "aarch64": "63"}


def _wait_reading_its_terminal(pid: int) -> None:
    """Until the child blocks in read(0, ...), as a person types after the question has
    settled. A ^C typed sooner can land after CPython's last signal check and before its
    read(): the handler has run, so nothing interrupts that read, and the ^C is lost."""
    read = _READ_SYSCALLS.get(platform.machine())
    where = Path(f"/proc/{pid}/syscall")
    if read is None or not where.exists():
        pytest.skip("needs Linux's /proc/PID/syscall to see the child wait on its terminal")
    delay = 0.001
    deadline = time.monotonic() + 60
    while True:
        state = where.read_text().split()
        if state[:2] == [read, "0x0"]:
            return
        assert time.monotonic() < deadline, state
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _answer_at_a_terminal(e2e: Stack, keys: bytes) -> tuple[int, str]:
    """Run `destroy` on a pseudo-terminal, wait for its question, type `keys`."""
    master, slave = pty.openpty()
    child = subprocess.Popen(
        [str(SCRIPT), "destroy", "octo-org/hello-world"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=e2e.env(),
        start_new_session=True,
        preexec_fn=_controlling_terminal,
    )
    os.close(slave)
    seen = bytearray()
    try:
        _read_until(master, b"[y/N]: ", seen, timeout=60)
        _wait_reading_its_terminal(child.pid)
        os.write(master, keys)
        _read_until(master, b"\x00never", seen, timeout=60)  # read to the end
        code = child.wait(timeout=60)
    finally:
        os.close(master)
        if child.poll() is None:
            child.kill()
    return code, seen.decode().replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("keys", "code", "line"),
    [
        (b"n\n", 1, "error: nothing was deleted: run again and answer y, or pass --yes\n"),
        (b"\x04", 1, "error: nothing was deleted: run again and answer y, or pass --yes\n"),
        (b"\x03", 130, "error: interrupted at the question: nothing was deleted\n"),
    ],
    ids=["no", "ctrl-d", "ctrl-c"],
)
def test_destroy_declined_or_aborted_at_its_question_deletes_nothing(
    e2e: Stack, tmp_path: Path, keys: bytes, code: int, line: str
) -> None:
    assert e2e.run("oidc", "octo-org/hello-world", "--no-workflow").returncode == 0
    iam = e2e.client("iam")
    roles = iam.list_roles()["Roles"]
    variables = dict(e2e.github.variables("Octo-Org/Hello-World"))
    writes = len(e2e.github.writes())

    exit_code, screen = _answer_at_a_terminal(e2e, keys)

    assert exit_code == code, screen
    assert screen.endswith(line), screen
    assert "Traceback" not in screen
    assert screen.count("error: ") == 1
    assert iam.list_roles()["Roles"] == roles
    assert e2e.client("ecr").describe_repositories()["repositories"] != []
    assert e2e.github.variables("Octo-Org/Hello-World") == variables
    assert len(e2e.github.writes()) == writes


def test_apply_a_file_through_the_installed_script(e2e: Stack, tmp_path: Path) -> None:
    e2e.github.add_repo("Octo-Org/Legacy-App")
    (tmp_path / "fleet.toml").write_text(
        '[defaults]\nworkflow = "none"\n\n'
        '[[repository]]\nname = "octo-org/hello-world"\nenvironments = ["prod"]\n\n'
        '[[repository]]\nname = "octo-org/legacy-app"\nmethod = "keys"\n'
    )
    done = e2e.run("apply", "fleet.toml", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    result = json.loads(done.stdout)
    assert [(r["name"], r["state"]) for r in result["repositories"]] == [
        ("octo-org/hello-world", "changed"),
        ("octo-org/legacy-app", "changed"),
    ]
    iam = e2e.client("iam")
    assert (
        iam.get_role(RoleName=ROLE)["Role"]["Arn"]
        == (e2e.github.variables("Octo-Org/Hello-World", "prod")["AWS_ROLE_ARN"])
    )
    key_id = e2e.github.secret("Octo-Org/Legacy-App", "AWS_ACCESS_KEY_ID")
    keys = iam.list_access_keys(UserName="ghbootstrap-octo-org-legacy-app")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [key_id]

    again = e2e.run("apply", "fleet.toml", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.endswith("2 repositories: 2 unchanged.\n")


def test_status_repairs_reach_the_account_and_github_the_user_named(
    e2e: Stack, tmp_path: Path
) -> None:
    """No default credentials, region or GitHub URL: only --profile and --github-api-url
    reach them. Every repair status prints must carry both, and run as printed."""
    credentials = tmp_path / "credentials"
    credentials.write_text("[ci]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    env = e2e.env(AWS_SHARED_CREDENTIALS_FILE=str(credentials))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        del env[name]
    del env["GITHUB_API_URL"]
    where = ["--profile", "ci", "--region", "eu-west-1", "--github-api-url", e2e.github_url]

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), *argv], capture_output=True, text=True, env=env, cwd=tmp_path,
            timeout=120, check=False,
        )  # fmt: skip

    setup = run("keys", "octo-org/hello-world", *where, "--environment", "prod", "--no-workflow")
    assert setup.returncode == 0, setup.stderr
    prod = e2e.github.scope("Octo-Org/Hello-World", "prod")
    prod.variables.pop("ECR_REPOSITORY")
    prod.secrets.pop("AWS_SECRET_ACCESS_KEY")
    status = run("status", "octo-org/hello-world", *where, "--json")
    assert status.returncode == 3, status.stderr
    fixes = sorted({c["fix"] for c in json.loads(status.stdout)["checks"] if c["fix"]})
    assert fixes == [
        "ghbootstrap keys octo-org/hello-world --region eu-west-1 --profile ci "
        f"--github-api-url {e2e.github_url} --environment prod --no-workflow",
        "ghbootstrap rotate octo-org/hello-world --region eu-west-1 --profile ci "
        f"--github-api-url {e2e.github_url} --environment prod",
    ]
    for fix in reversed(fixes):  # the key first, then the variable
        ran = run(*shlex.split(fix)[1:])
        assert ran.returncode == 0, (fix, ran.stderr)
    again = run("status", "octo-org/hello-world", *where)
    assert again.returncode == 0, again.stdout


def test_migrate_both_phases_through_the_installed_script(e2e: Stack, tmp_path: Path) -> None:
    """keys → migrate (pull request) → merge → the printed `--finish`, run as printed."""
    repo = "Octo-Org/Hello-World"
    keys = e2e.run("keys", "octo-org/hello-world", "--open-pr", cwd=tmp_path)
    assert keys.returncode == 0, keys.stderr
    e2e.github.merge(repo, 1)
    first = e2e.run("migrate", "octo-org/hello-world", "--open-pr", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert e2e.github.secret(repo, "AWS_ACCESS_KEY_ID") is not None  # CI still has its key
    [finish] = [
        line.split(": ", 2)[2]
        for line in first.stdout.splitlines()
        if line.startswith("note: then remove the key")
    ]
    e2e.github.merge(repo, 2)
    done = e2e.run(*shlex.split(finish)[1:], "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    iam = e2e.client("iam")
    assert iam.list_users()["Users"] == []
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == [ROLE]
    assert e2e.github.secret(repo, "AWS_ACCESS_KEY_ID") is None
    assert e2e.github.secret(repo, "AWS_SECRET_ACCESS_KEY") is None
    assert e2e.github.variables(repo)["AWS_ROLE_ARN"] == iam.get_role(RoleName=ROLE)["Role"]["Arn"]
    status = e2e.run("status", "octo-org/hello-world")
    assert status.returncode == 0, status.stdout
