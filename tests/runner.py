"""Run a workflow ghbootstrap writes the way GitHub's runner does, as far as a test can.

The YAML is parsed; every `${{ }}` is evaluated with GitHub's rule for where an expression
ends (the first `}}` outside a single-quoted string) and the three kinds of expression our
workflows use: `secrets.NAME`, `vars.NAME` (missing names are empty strings, as on GitHub)
and string literals (`''` is a quote). Any other expression fails the test. Steps that
`uses:` an action are skipped. Each `run:` step runs as GitHub runs it on Linux,
`bash --noprofile --norc -eo pipefail FILE`, in a clean environment: only what the step's
`env:` gives, plus what the caller passes as the runner's own (PATH, HOME, and the
addresses of the local emulators).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Contexts = Mapping[str, Mapping[str, str]]
_NAMED = re.compile(r"(secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)")


def evaluate(text: str, contexts: Contexts) -> str:
    out, position = [], 0
    while (start := text.find("${{", position)) >= 0:
        out.append(text[position:start])
        end, in_string = start + 3, False
        while end < len(text):
            if text[end] == "'":
                in_string = not in_string
            elif not in_string and text[end] == "}" and text[end - 1] == "}":
                break
            end += 1
        else:
            raise AssertionError(f"expression not closed in {text!r}")
        out.append(_value(text[start + 3 : end - 1].strip(), contexts))
        position = end + 1
    return "".join(out) + text[position:]


def _value(expression: str, contexts: Contexts) -> str:
    if len(expression) >= 2 and expression[0] == expression[-1] == "'":
        inner = expression[1:-1]
        assert "'" not in inner.replace("''", ""), f"not one string literal: {expression}"
        return inner.replace("''", "'")
    named = _NAMED.fullmatch(expression)
    assert named, f"an expression this runner does not evaluate: {expression!r}"
    return contexts[named.group(1)].get(named.group(2), "")


@dataclass
class StepRun:
    name: str
    command: str
    env: dict[str, str]
    result: subprocess.CompletedProcess[str] | None  # None: replaced by the caller


def run_job(
    workflow: str,
    job: str,
    contexts: Callable[[str | None], Contexts],
    runner_env: dict[str, str],
    workdir: Path,
    replace: Callable[[str], bool] = lambda command: False,
) -> list[StepRun]:
    """Run every `run:` step of `job` in order, stopping at the first failure, as GitHub
    does. `contexts(environment)` gives secrets and vars as that job sees them.
    `replace(command)` may handle a step itself (True: do not run it)."""
    document: dict[Any, Any] = yaml.safe_load(workflow)
    spec = document["jobs"][job]
    environment = spec.get("environment")
    if environment is not None:
        environment = evaluate(str(environment), contexts(None))
    seen = contexts(environment)
    runs: list[StepRun] = []
    for number, step in enumerate(spec["steps"]):
        if "uses" in step:
            continue
        command = evaluate(step["run"], seen)
        env = {k: evaluate(str(v), seen) for k, v in (step.get("env") or {}).items()}
        name = step.get("name", f"step {number}")
        if replace(command):
            runs.append(StepRun(name, command, env, None))
            continue
        script = workdir / f"step-{number}.sh"
        script.write_text(command + "\n")
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            capture_output=True,
            text=True,
            env={**runner_env, **env},
            cwd=workdir,
            timeout=120,
            check=False,
        )
        runs.append(StepRun(name, command, env, result))
        if result.returncode != 0:
            break
    return runs
