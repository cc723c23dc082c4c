"""Git checkouts for tests: the default workflow path is the checkout of OWNER/REPO."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git_checkout(
    path: Path, full_name: str, host: str = "github.com", *, ssh: bool = False
) -> Path:
    """`git init` at `path` with an `origin` remote for `full_name` on `host`."""
    path.mkdir(parents=True, exist_ok=True)
    url = f"git@{host}:{full_name}.git" if ssh else f"https://{host}/{full_name}.git"
    subprocess.run(["git", "init", "--quiet", str(path)], check=True)
    subprocess.run(["git", "-C", str(path), "remote", "add", "origin", url], check=True)
    return path
