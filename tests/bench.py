"""`make bench`: how fast, and how many calls, on the local emulators.

Prints `ghbootstrap --help` against a bare `import typer`, and the wall time and the number
of AWS and GitHub calls (writes among them) of a fresh `oidc`, a repeated `oidc`, a fresh
`keys` and a `rotate`. AWS calls are counted from `-v` (one line per API call); GitHub
calls by the stand-in itself. Figures, not assertions: the README records them.
"""

from __future__ import annotations

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
from tests.fakes.github import FakeGitHub

RUNS = 21
READS = ("Get", "List", "Describe")


def median_seconds(command: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


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
    help_time = median_seconds([str(SCRIPT), "--help"])
    typer_time = median_seconds([sys.executable, "-c", "import typer"])
    ratio = help_time / typer_time
    print(
        f"ghbootstrap --help: {help_time * 1000:.0f} ms; python -c 'import typer': "
        f"{typer_time * 1000:.0f} ms; ratio {ratio:.2f} (target <= 1.5) (median of {RUNS})"
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


if __name__ == "__main__":
    main()
