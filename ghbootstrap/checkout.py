"""Where a workflow file goes on this machine: the git checkout of OWNER/REPO, nowhere else.

Without --workflow-path the build workflow goes to .github/workflows/ecr-build-push.yml at
the root of the checkout the command runs in (from any folder inside it), and only when
that checkout has a remote pointing to OWNER/REPO on the GitHub host in use. git itself
reads its configuration (worktrees, includes and `insteadOf` rewrites included).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from ghbootstrap.errors import UsageError, shown
from ghbootstrap.target import RepoRef

TIMEOUT = 10
_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(\[[^\]]+\]|[^:/]+):(?!//)(.+)$")  # git@host:owner/repo
_ELSEWHERE = "pass --workflow-path PATH, --open-pr (a pull request instead) or --no-workflow"


def remote_repository(url: str) -> tuple[str, str] | None:
    """(host, "owner/repo") in lower case for an https, ssh or scp-like remote URL."""
    if "://" in url:
        parts = urlsplit(url)
        host, path = parts.hostname or "", parts.path
    else:
        scp = _SCP_LIKE.match(url)
        if scp is None:
            return None
        host, path = scp.group(1).strip("[]"), scp.group(2)
    path = path.strip("/").removesuffix(".git").strip("/")
    if not host or path.count("/") != 1:
        return None
    return host.lower(), path.lower()


def _git(*args: str, cwd: Path) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(
            [git, *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def checkout_root(start: Path, ref: RepoRef, host: str) -> Path:
    """The root of the checkout of `ref` on `host` that `start` is in; else a usage error."""
    where = f"{ref.full_name} on {host}"
    top = _git("rev-parse", "--show-toplevel", cwd=start)
    if not top or not top.strip():
        raise UsageError(
            f"{start} is not inside a git checkout, so there is no checkout of {where} "
            "to write the workflow into",
            f"run from that checkout, or {_ELSEWHERE}",
        )
    root = Path(top.strip())
    remotes = _git("remote", "-v", cwd=root) or ""
    wanted = (host.lower(), ref.tag_value)
    for line in remotes.splitlines():
        fields = line.split()
        if len(fields) >= 2 and remote_repository(fields[1]) == wanted:
            return root
    raise UsageError(
        f"the git checkout at {root} has no remote pointing to {where}",
        f"run from a checkout of {ref.full_name}, or {_ELSEWHERE}",
    )


def in_repository(path: Path, flag: str) -> Path:
    """A path inside the repository, for --open-pr: relative, and never above its root."""
    posix = PurePosixPath(path.as_posix())
    if posix.is_absolute() or ".." in posix.parts or not posix.parts or str(posix) == ".":
        raise UsageError(
            f"{flag} '{shown(str(path))}' is not a path inside the repository",
            "with --open-pr give a relative path such as .github/workflows/ecr.yml",
        )
    return Path(str(posix))


def path_in_checkout(path: Path, ref: RepoRef, host: str) -> tuple[Path, str] | None:
    """(checkout root, path in the repository) of a local file inside the checkout of `ref`
    on `host`; None when no such checkout holds it (then where it lands is not known)."""
    folder = next((p for p in path.absolute().parents if p.is_dir()), None)
    if folder is None:
        return None
    try:
        root = checkout_root(folder, ref, host)
        return root, path.absolute().resolve().relative_to(root.resolve()).as_posix()
    except (UsageError, ValueError):
        return None


def repository_path(path: Path, ref: RepoRef, host: str, *, open_pr: bool) -> str | None:
    """A workflow's path in the repository: as given with --open-pr; for a local file, its
    path in the checkout of `ref` holding it (None when none does)."""
    if open_pr:
        return path.as_posix()
    found = path_in_checkout(path, ref, host)
    return None if found is None else found[1]
