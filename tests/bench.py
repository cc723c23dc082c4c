"""`make bench`: how fast, and how many calls, on the local emulators.

Prints `ghbootstrap --help` against a bare `import typer`, and the wall time and the number
of AWS and GitHub calls (writes among them) of a fresh `oidc`, a repeated `oidc`, a fresh
`keys` and a `rotate`. AWS calls are counted from `-v` (one line per API call); GitHub
calls by the stand-in itself. Figures, not assertions: the README records them.

Then a fleet: 24 repositories set up by one `ghbootstrap apply FILE`, against the same 24
set up by one `ghbootstrap oidc|keys` process each, with the GitHub stand-in answering
like GitHub under load (FLEET_LIMITS: latency, a cap on requests in flight, a cap on
writes a second, 403/429 with retry-after past them).

Last, `ghbootstrap scan` of an organization of 200 repositories on the same stand-in:
wall time and GitHub requests per repository, first and again (the re-scan asks with
the ETags the first one kept: a 304 costs nothing against the rate limit).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.checkouts import git_checkout
from tests.e2e import SCRIPT, Stack, stack
from tests.fakes.github import SECONDARY_LIMIT, FakeGitHub, Limits, Traffic
from tests.other_workflows import keys_workflow, role_workflow

FLEET_SIZE = 24
FLEET_LIMITS = Limits(latency=0.040, max_in_flight=6, writes_per_second=40, retry_after=1)
ROTATION = "17 4 * * 1"
WORKFLOW = "pull-request"  # each repository gets its workflow as a branch and pull request

RUNS = 21
READS = ("Get", "List", "Describe")


def median_seconds(*commands: list[str]) -> list[float]:
    """Each command's median wall time as a whole process. The commands take turns, so a
    machine busy with something else slows each alike; one run each first to warm up. The
    bytecode cache is on, as an installed package has it (pip compiles at install; Typer's
    is compiled), even where PYTHONDONTWRITEBYTECODE is set."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times: list[list[float]] = [[] for _ in commands]
    for run in range(RUNS + 1):
        for command, taken in zip(commands, times, strict=True):
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True, env=env)
            if run:
                taken.append(time.perf_counter() - started)
    return [statistics.median(taken) for taken in times]


def measure(running: Stack, label: str, *args: str, cwd: Path) -> list[str]:
    before = len(running.github.requests)
    started = time.perf_counter()
    done = running.run(*args, "-v", cwd=cwd)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{label} failed: {done.stderr}")
    aws = [
        line.split()[-1] for line in done.stderr.splitlines() if line.startswith("ghbootstrap.aws:")
    ]
    aws_writes = [c for c in aws if not c.split(".")[1].startswith(READS)]
    github = running.github.requests[before:]
    github_writes = [r for r, _ in github if r.is_write]
    return [
        label,
        f"{wall:.2f} s",
        f"{len(aws)} ({len(aws_writes)} writes)",
        f"{len(github)} ({len(github_writes)} writes)",
    ]


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
    )


def main() -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )
    help_time, typer_time = median_seconds(
        [str(SCRIPT), "--help"], [sys.executable, "-c", "import typer"]
    )
    ratio = help_time / typer_time
    print(
        f"ghbootstrap --help: {help_time * 1000:.0f} ms; python -c 'import typer': "
        f"{typer_time * 1000:.0f} ms; ratio {ratio:.2f} (target <= 1.15) (median of {RUNS})"
    )
    fake = FakeGitHub()
    fake.add_repo("Octo-Org/Hello-World")
    fake.add_repo("Octo-Org/Legacy-App")
    with stack(fake) as running, tempfile.TemporaryDirectory() as scratch:
        work = git_checkout(Path(scratch), "Octo-Org/Hello-World", "127.0.0.1")
        rows = [["run", "wall", "AWS calls", "GitHub calls"]]
        rows.append(measure(running, "oidc, fresh", "oidc", "octo-org/hello-world", cwd=work))
        rows.append(measure(running, "oidc, repeated", "oidc", "octo-org/hello-world", cwd=work))
        legacy = git_checkout(work / "legacy", "Octo-Org/Legacy-App", "127.0.0.1")
        rows.append(measure(running, "keys, fresh", "keys", "octo-org/legacy-app", cwd=legacy))
        rows.append(measure(running, "rotate", "rotate", "octo-org/legacy-app", cwd=legacy))
    print(table(rows))
    fleet()
    scan()


def fleet_names() -> list[str]:
    return [f"acme/svc-{n:02d}" for n in range(1, FLEET_SIZE + 1)]


def single_command(name: str, index: int) -> list[str]:
    """The one command a shell loop would run for this repository."""
    if index % 2 == 0:
        return ["oidc", name, "--environment", "prod", "--tag", "v*", "--open-pr"]
    return ["keys", name, "--rotation-schedule", ROTATION, "--open-pr"]


def fleet_file() -> str:
    lines = ["[defaults]", 'region = "us-east-1"', f'workflow = "{WORKFLOW}"', ""]
    for index, name in enumerate(fleet_names()):
        lines += ["[[repository]]", f'name = "{name}"']
        if index % 2 == 0:
            lines += ['environments = ["prod"]', 'tags = ["v*"]']
        else:
            lines += ['method = "keys"', f'rotation_schedule = "{ROTATION}"']
        lines.append("")
    return "\n".join(lines)


def fresh(running: Stack) -> None:
    running.reset()
    running.github.repos.clear()
    running.github.requests.clear()
    for name in fleet_names():
        running.github.add_repo(name)
    running.github.traffic = Traffic()


def fleet() -> None:
    print(
        f"\nFleet of {FLEET_SIZE} (half oidc with an environment and a tag pattern, half keys "
        f"with a rotation schedule; workflow {WORKFLOW!r}); GitHub stand-in: "
        f"{FLEET_LIMITS.latency * 1000:.0f} ms a request, at most "
        f"{FLEET_LIMITS.max_in_flight} in flight, {FLEET_LIMITS.writes_per_second} writes a "
        f"second, retry-after {FLEET_LIMITS.retry_after} s"
    )
    github = FakeGitHub()
    github.limits = FLEET_LIMITS
    rows = [["run", "wall", "failed", "limit answers", "peak in flight", "GitHub requests"]]
    with stack(github) as running, tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        fresh(running)
        started = time.perf_counter()
        failed = 0
        for index, name in enumerate(fleet_names()):
            done = running.run(*single_command(name, index), cwd=work)
            failed += done.returncode != 0
        loop = time.perf_counter() - started
        rows.append(row(f"{FLEET_SIZE} single commands", loop, failed, running.github))

        fresh(running)
        (work / "fleet.toml").write_text(fleet_file())
        started = time.perf_counter()
        done = running.run("apply", "fleet.toml", "--json", cwd=work)
        applied = time.perf_counter() - started
        failed = FLEET_SIZE if done.returncode not in (0, 1) else 0
        if done.returncode in (0, 1):
            failed = sum(not r["ok"] for r in json.loads(done.stdout)["repositories"])
        rows.append(row("apply FILE (--jobs 8)", applied, failed, running.github))
    print(table(rows))
    print(f"ratio apply / single commands: {applied / loop:.2f} (target <= 0.25)")


SCAN_SIZE = 200


def scan_organization(github: FakeGitHub) -> tuple[int, int]:
    """200 repositories, each with one workflow file; every 5th holds AWS key secrets,
    every 10th has an environment. Returns (without environments, with one)."""
    plain = with_environment = 0
    for n in range(1, SCAN_SIZE + 1):
        name = f"acme/app-{n:03d}"
        repo = github.add_repo(name)
        holds_keys = n % 5 == 0
        workflow = keys_workflow() if holds_keys else role_workflow()
        repo.commit("main", {".github/workflows/build.yml": workflow})
        if holds_keys:
            github.put_secret(name, "AWS_ACCESS_KEY_ID", "AKIA")
            github.put_secret(name, "AWS_SECRET_ACCESS_KEY", "x")
        if n % 10 == 0:
            github.environment(name, "prod")
            with_environment += 1
        else:
            plain += 1
    return plain, with_environment


def scan() -> None:
    print(
        f"\nscan of an organization of {SCAN_SIZE} repositories (one workflow file each; "
        "every 10th with an environment); same GitHub stand-in"
    )
    github = FakeGitHub()
    github.limits = FLEET_LIMITS
    rows = [["run", "wall", "GitHub requests", "per repository", "answered 304", "limit answers"]]
    with stack(github) as running, tempfile.TemporaryDirectory() as scratch:
        plain, with_environment = scan_organization(github)
        cache = {"XDG_CACHE_HOME": scratch}
        for label in ("scan acme (--jobs 8)", "scan acme again"):
            github.requests.clear()
            github.traffic = Traffic()
            started = time.perf_counter()
            done = running.run("scan", "acme", "--json", **cache)
            wall = time.perf_counter() - started
            if done.returncode != 3:
                raise SystemExit(f"scan failed: {done.stderr}")
            answers = [response.status for _, response in github.requests]
            rows.append(
                [
                    label,
                    f"{wall:.1f} s",
                    str(len(answers)),
                    f"{len(answers) / SCAN_SIZE:.2f}",
                    str(answers.count(304)),
                    str(github.traffic.limit_answers),
                ]
            )
            per_repo = requests_per_repository(github)
    print(table(rows))
    env_repo, plain_repo = f"acme/app-{10:03d}", f"acme/app-{1:03d}"
    print(
        f"requests for a repository without environments: {per_repo[plain_repo]} (target <= 6 "
        f"+ 1 per workflow file read: 7 here); with one environment: {per_repo[env_repo]}; "
        f"{plain} and {with_environment} such repositories"
    )


def requests_per_repository(github: FakeGitHub) -> dict[str, int]:
    """The requests each repository took, a limit answer's retry not counted twice."""
    counted: dict[str, int] = {}
    for request, response in github.requests:
        if isinstance(response.body, dict) and response.body.get("message") == SECONDARY_LIMIT:
            continue
        parts = request.path.split("/")
        if parts[1] == "repos":
            key = f"{parts[2]}/{parts[3]}"
            counted[key] = counted.get(key, 0) + 1
    return counted


def row(label: str, wall: float, failed: int, github: FakeGitHub) -> list[str]:
    traffic = github.traffic
    return [
        label,
        f"{wall:.1f} s",
        str(failed),
        str(traffic.limit_answers),
        str(traffic.peak_in_flight),
        str(len(github.requests)),
    ]


if __name__ == "__main__":
    main()
