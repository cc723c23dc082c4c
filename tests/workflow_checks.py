"""Outside validators for the workflows we write: zizmor and GitHub's workflow schema."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
PINNED = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+$")


def zizmor_findings(path: Path) -> list[dict[str, Any]]:
    """zizmor --offline on a file or a checkout: online mode needs the network, and a
    token in the environment makes it go online."""
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
    result = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode in (0, 11, 12, 13, 14), result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def severe(findings: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (f["ident"], f["determinations"]["severity"])
        for f in findings
        if f["determinations"]["severity"] in ("Medium", "High")
    ]


def schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def unpinned_uses(text: str) -> list[str]:
    """Every `uses:` line that is not pinned to a full SHA with a version comment."""
    return [
        line.strip() for line in text.splitlines() if "uses:" in line and not PINNED.match(line)
    ]
