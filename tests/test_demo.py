"""`make demo` keeps working: it runs end to end and shows no secret value."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # `make demo`, end to end

ROOT = Path(__file__).resolve().parents[1]


def test_demo_runs_and_shows_names_not_secrets() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "May assume      repo:Octo-Org/Hello-World:ref:refs/heads/main" in out
    assert out.count("No changes: everything already matches.") == 1
    assert "Octo-Org/Legacy-App: secret AWS_SECRET_ACCESS_KEY (updated" in out
    assert "both servers stopped" in out
    # moto's secret access keys are 40 characters of base64; none may appear
    assert not re.search(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])", out)
