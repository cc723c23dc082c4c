"""`make dist`: each built distribution, installed on its own into a fresh virtualenv (not
editable), runs every command against moto's server and the served GitHub fake, and
writes the same workflow files as the source tree.

    python -m tests.dist_check dist/ghbootstrap-X-py3-none-any.whl dist/ghbootstrap-X.tar.gz
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.checkouts import git_checkout
from tests.e2e import Stack, stack
from tests.fakes.github import FakeGitHub

OIDC_REPO = "octo-org/hello-world"
KEYS_REPO = "octo-org/legacy-app"
WORKFLOWS = (
    "oidc/.github/workflows/ecr-build-push.yml",
    "keys/.github/workflows/ecr-build-push.yml",
    "keys/.github/workflows/rotate-aws-keys.yml",
)


def install(distribution: Path, into: Path) -> Path:
    """A fresh virtualenv holding only `distribution` and its dependencies."""
    venv.create(into, with_pip=True)
    python = into / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(distribution),
        ],
        check=True,
    )
    where = subprocess.run(
        [str(python), "-c", "import ghbootstrap; print(ghbootstrap.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=into,
    ).stdout.strip()
    if not Path(where).is_relative_to(into):
        raise SystemExit(f"{distribution.name}: ghbootstrap imports from {where}, not the venv")
    script = into / "bin" / "ghbootstrap"
    # The rotation workflow installs ghbootstrap==__version__: the package must carry it.
    shown = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    version = distribution.name.removesuffix(".tar.gz").split("-")[1]
    if shown.stdout != f"ghbootstrap {version}\n":
        raise SystemExit(f"{distribution.name}: --version says {shown.stdout!r}")
    return script


def expect(running: Stack, code: int, *args: str, cwd: Path) -> str:
    done = running.run(*args, cwd=cwd)
    if done.returncode != code:
        raise SystemExit(
            f"{running.script}: `ghbootstrap {' '.join(args)}` exited {done.returncode}, "
            f"expected {code}\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def every_command(running: Stack, work: Path) -> dict[str, bytes]:
    """oidc, keys with a rotation schedule (all three templates), rotate, status, audit,
    explain, migrate's first phase, destroy; checks the state they left on both emulators.
    Returns the workflows written: the three templates, and the build workflow migrate
    rendered in place of the keys one."""
    running.reset()
    running.github.repos.clear()
    running.github.add_repo("Octo-Org/Hello-World")
    running.github.add_repo("Octo-Org/Legacy-App", default_branch="trunk")
    git_checkout(work / "oidc", OIDC_REPO, "127.0.0.1")
    git_checkout(work / "keys", KEYS_REPO, "127.0.0.1")
    expect(running, 0, "--help", cwd=work)
    expect(running, 0, "oidc", OIDC_REPO, cwd=work / "oidc")
    expect(running, 0, "keys", KEYS_REPO, "--rotation-schedule", "17 4 * * 1", cwd=work / "keys")
    expect(running, 0, "rotate", KEYS_REPO, cwd=work)
    expect(running, 0, "status", OIDC_REPO, cwd=work)
    expect(running, 0, "status", KEYS_REPO, cwd=work)
    expect(running, 0, "audit", cwd=work)
    expect(running, 0, "explain", OIDC_REPO, cwd=work)  # main may assume the role
    expect(running, 3, "explain", OIDC_REPO, "--pull-request", cwd=work)  # a PR may not
    role = running.client("iam").get_role(RoleName="ghbootstrap-octo-org-hello-world")["Role"]
    if running.github.variables("Octo-Org/Hello-World").get("AWS_ROLE_ARN") != role["Arn"]:
        raise SystemExit(f"{running.script}: AWS_ROLE_ARN does not name the role")
    keys = running.client("iam").list_access_keys(UserName="ghbootstrap-octo-org-legacy-app")
    held = running.github.secret("Octo-Org/Legacy-App", "AWS_ACCESS_KEY_ID")
    active = [k["AccessKeyId"] for k in keys["AccessKeyMetadata"] if k["Status"] == "Active"]
    if active != [held]:
        raise SystemExit(f"{running.script}: GitHub holds {held}, active keys are {active}")
    before_migrate = written(work)
    expect(running, 0, "migrate", KEYS_REPO, cwd=work / "keys")
    build = (work / "keys" / ".github/workflows/ecr-build-push.yml").read_text()
    rotation = work / "keys" / ".github/workflows/rotate-aws-keys.yml"
    if "role-to-assume: ${{ vars.AWS_ROLE_ARN }}" not in build or rotation.exists():
        raise SystemExit(f"{running.script}: migrate did not replace the keys workflows")
    expect(running, 0, "destroy", OIDC_REPO, "--yes", cwd=work)
    expect(running, 0, "destroy", KEYS_REPO, "--yes", cwd=work)
    if running.client("iam").list_roles()["Roles"] or running.client("iam").list_users()["Users"]:
        raise SystemExit(f"{running.script}: destroy left a role or a user")
    return {**before_migrate, "keys/ (migrated) ecr-build-push.yml": build.encode()}


def written(work: Path) -> dict[str, bytes]:
    return {name: (work / name).read_bytes() for name in WORKFLOWS}


def main(distributions: list[Path]) -> None:
    if not distributions:
        raise SystemExit("usage: python -m tests.dist_check DIST [DIST ...]")
    with (
        tempfile.TemporaryDirectory() as scratch,
        stack(FakeGitHub()) as running,
        ThreadPoolExecutor() as pool,
    ):
        root = Path(scratch)
        # Installing is most of the time and needs no emulator: every distribution installs
        # into its own virtualenv while the source tree runs; then each runs in turn.
        started = time.monotonic()
        installs = [pool.submit(install, d, root / f"venv-{kind(d)}") for d in distributions]
        reference = every_command(running, root / "source")
        for distribution, installing in zip(distributions, installs, strict=True):
            running.script = installing.result()
            if every_command(running, root / kind(distribution)) != reference:
                raise SystemExit(f"{distribution.name}: its workflows differ from the source's")
            print(
                f"{distribution.name} ({distribution.stat().st_size:,} bytes): installed alone, "
                "ran oidc, keys, rotate, status, audit, explain, migrate and destroy, wrote the "
                f"same {len(reference)} workflows as the source "
                f"({time.monotonic() - started:.0f} s since the installs began)"
            )


def kind(distribution: Path) -> str:
    return "wheel" if distribution.suffix == ".whl" else "sdist"


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]])
