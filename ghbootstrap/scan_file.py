"""The file `scan --write` writes: an apply file (fleet.py's format) that retires keys.

One `method = "migrate"` entry per access-key setup ghbootstrap made, with the region and
names its record holds; the keys of other tools as comments naming the secrets and the
workflow files a person must look at (ghbootstrap never migrates what it did not make).
Pure: the CLI writes the text, refusing to replace an existing file.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence

from ghbootstrap.fleet import MIGRATE, PULL_REQUEST
from ghbootstrap.inventory import KEYS, KEYS_OTHER
from ghbootstrap.report import ScanReport, ScanRow
from ghbootstrap.target import Names, parse_repo


def toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, and DEL is escaped too."""
    return json.dumps(value).replace("\x7f", "\\u007f")


def _comment(text: str) -> str:
    """Text safe on one comment line (a path may hold any character but NUL)."""
    return json.dumps(text)[1:-1]


def render(
    scan: ScanReport,
    path: str,
    *,
    scanned: str,
    profile: str | None = None,
    apply_args: Sequence[str] = (),
) -> str:
    """`scanned`: the scan command as run; `profile`: the AWS profile it read, which each
    entry needs too; `apply_args`: options `apply` needs besides the file
    (`--github-api-url`), so the commands in the header run as printed."""
    ours = entries(scan)
    unsure = [r for r in scan.rows if r.verdict == KEYS and r.migration is None]
    others = [r for r in scan.rows if r.verdict == KEYS_OTHER]
    apply = shlex.join(["ghbootstrap", "apply", path, *apply_args])
    finish = shlex.join(["ghbootstrap", "apply", "--finish", path, *apply_args])
    lines = [
        f"# Written by `{_comment(scanned)}` (AWS account {scan.account}).",
        f"# {len(ours)} access-key setup(s) ghbootstrap made, to move to OIDC in two phases:",
        f"#   {apply}",
        "#     adds each role and its variable, and opens a pull request with the OIDC",
        "#     workflow; removes nothing",
        "#   merge each pull request, and let the workflow run once on the default branch",
        f"#   {finish}",
        "#     removes each key, its secrets and its IAM user (it checks the default",
        "#     branch first, and asks once)",
        "",
        "[defaults]",
        f"workflow = {toml_string(PULL_REQUEST)}",
    ]
    if profile:
        lines.append(f"profile = {toml_string(profile)}")
    for row in ours:
        lines += ["", *_entry(row)]
    if unsure:
        lines += [
            "",
            "# Access-key setups ghbootstrap made that have no entry: the scan could not tell",
            "# where their secrets live. Scan again once it can (--write a new file).",
        ]
        lines += [f"# {_comment(row.name)}: {_comment(row.reason)}" for row in unsure]
    if others:
        lines += [
            "",
            "# AWS keys of other tools: ghbootstrap did not make them and does not migrate",
            "# them. Look at each: the secrets, and the workflow files that read them.",
        ]
        for row in others:
            lines.append(f"# {_comment(row.name)}: {_comment(row.reason)}")
    return "\n".join(lines) + "\n"


def entries(scan: ScanReport) -> list[ScanRow]:
    """The rows the file gives a migrate entry: ghbootstrap's setups with a command."""
    return [r for r in scan.rows if r.verdict == KEYS and r.migration is not None]


def _entry(row: ScanRow) -> list[str]:
    migration = row.migration
    assert migration is not None
    ref = parse_repo(row.name)
    lines = [
        "[[repository]]",
        f"name = {toml_string(row.name)}",
        f"method = {toml_string(MIGRATE)}",
        f"region = {toml_string(migration.region)}",
    ]
    if migration.user != Names.resolve(ref).user:
        lines.append(f"user_name = {toml_string(migration.user)}")
    if migration.environment_given and migration.environment is not None:
        lines.append(f"environments = [{toml_string(migration.environment)}]")
    if not migration.region_recorded:
        lines.append("# region: the scan's (the IAM user was made before ghbootstrap recorded it)")
    where = (
        "the repository"
        if migration.environment is None
        else f"environment {_comment(migration.environment)}"
    )
    lines.append(f"# its key's secrets live in {where}; IAM user {_comment(migration.user)}")
    for extra in row.also:
        lines.append(
            f"# also IAM user {_comment(extra)}'s key setup (a file lists a repository "
            "once): scan --write again after --finish"
        )
    if row.other_secrets:
        named = ", ".join(_comment(s.label) for s in row.other_secrets)
        lines.append(
            f"# also AWS key secrets ghbootstrap did not write (left as they are): {named}"
        )
    return lines
