"""Find the GitHub token and build the API client: no fixed pacing, bounded retries."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from urllib.parse import urlparse

from ghbootstrap.errors import UsageError, shown
from ghbootstrap.github.api import GitHub
from ghbootstrap.hosts import web_host
from ghbootstrap.secret import Secret

DEFAULT_API_URL = "https://api.github.com"
TIMEOUT = 10


def api_url(given: str | None, env: Mapping[str, str] = os.environ) -> str:
    url = (given or env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(
            f"'{shown(url)}' is not a GitHub API URL",
            "use https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server",
        )
    if parsed.username is not None or parsed.password is not None:
        # never echoed: the URL would carry them into every message and printed command
        bare = parsed._replace(netloc="***@" + parsed.netloc.rpartition("@")[2]).geturl()
        raise UsageError(
            f"'{shown(bare)}' holds credentials",
            "give the URL without them, and the token in GITHUB_TOKEN or GH_TOKEN",
        )
    return url


def find_token(url: str, env: Mapping[str, str] = os.environ) -> Secret:
    """GITHUB_TOKEN, then GH_TOKEN, then `gh auth token` if the GitHub CLI is installed."""
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        if env.get(name, "").strip():
            return Secret(env[name].strip())
    gh = shutil.which("gh")
    if gh:
        try:
            done = subprocess.run(
                [gh, "auth", "token", "--hostname", web_host(url)],
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            done = None
        if done is not None and done.returncode == 0 and done.stdout.strip():
            return Secret(done.stdout.strip())
    raise UsageError(
        "no GitHub token found",
        "set GITHUB_TOKEN or GH_TOKEN, or log in with `gh auth login`",
    )


def connect(url: str, token: Secret) -> GitHub:
    from github import Auth, Github

    from ghbootstrap.github.retry import GitHubRetry

    client = Github(
        auth=Auth.Token(token.reveal()),
        base_url=url,
        timeout=TIMEOUT,
        retry=GitHubRetry(),
        # PyGithub's default pacing sleeps 0.25 s per request and 1 s per write.
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    return GitHub(client.requester, url)
