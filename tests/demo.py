"""`make demo`: the whole tool on local emulators, with no accounts and no network.

Starts moto's server and the GitHub stand-in on free loopback ports, runs the installed
`ghbootstrap` as a user would, shows what each step made, and stops both servers.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import time
from pathlib import Path

from tests.checkouts import git_checkout
from tests.e2e import SCRIPT, Stack, stack
from tests.fakes.github import FakeGitHub

OIDC_REPO = "octo-org/hello-world"
KEYS_REPO = "octo-org/legacy-app"


def banner(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


def step(running: Stack, title: str, *args: str, cwd: Path) -> None:
    banner(f"{title}\n$ ghbootstrap {shlex.join(args)}")
    done = running.run(*args, cwd=cwd)
    print(done.stdout, end="")
    if done.returncode != 0:
        print(done.stderr, end="", file=sys.stderr)
        raise SystemExit(f"demo step failed with exit code {done.returncode}")


def github_holdings(fake: FakeGitHub) -> None:
    banner("What GitHub now holds (secret names only: GitHub itself never returns values)")
    for repo in fake.repos.values():
        scopes = [(repo.full_name, repo.scope)]
        scopes += [
            (f"{repo.full_name} environment {e.name}", e.scope) for e in repo.environments.values()
        ]
        for label, scope in scopes:
            for name, variable in sorted(scope.variables.items()):
                print(f"  {label}: variable {name} = {variable['value']}")
            for name, secret in sorted(scope.secrets.items()):
                print(f"  {label}: secret {name} (updated {secret['updated_at']})")


def main() -> None:
    started = time.monotonic()
    fake = FakeGitHub()
    fake.add_repo("Octo-Org/Hello-World")
    fake.add_repo("Octo-Org/Legacy-App", default_branch="trunk")
    with stack(fake) as running, tempfile.TemporaryDirectory() as scratch:
        work = git_checkout(Path(scratch), "Octo-Org/Hello-World", "127.0.0.1")
        banner(
            f"moto's AWS server at {running.aws_url}, the GitHub stand-in at "
            f"{running.github_url}; using {SCRIPT}"
        )
        step(
            running,
            "1. OIDC: a role only main of hello-world may assume",
            "oidc",
            OIDC_REPO,
            cwd=work,
        )
        step(running, "2. The same again: nothing to change", "oidc", OIDC_REPO, cwd=work)
        step(
            running,
            "3. The workshop's path, done safely: an access key sealed into Actions secrets",
            "keys",
            KEYS_REPO,
            "--rotation-schedule",
            "17 4 * * 1",
            "--workflow-path",
            str(work / "legacy/.github/workflows/ecr-build-push.yml"),
            cwd=work,
        )
        step(
            running,
            "4. Rotate that key: new key, stored, old one deactivated",
            "rotate",
            KEYS_REPO,
            cwd=work,
        )
        step(running, "5. Status: everything as set up", "status", OIDC_REPO, cwd=work)
        step(
            running,
            "6. Status of the key setup: key ages, and which key GitHub holds",
            "status",
            KEYS_REPO,
            cwd=work,
        )
        step(running, "7. Audit the account's GitHub trusts and old keys", "audit", cwd=work)
        github_holdings(fake)
        banner("Workflows written")
        for path in sorted(work.rglob("*.yml")):
            print(f"  {path.relative_to(work)}")
    banner(f"Done in {time.monotonic() - started:.1f} s; both servers stopped.")


if __name__ == "__main__":
    main()
