"""GitHub's branch and tag filters (`on.push.branches`), as its "filter pattern cheat
sheet" defines them, so tests can check which refs a written workflow fires for.

`*` any run without `/`; `**` any run; `**/` also no folder at all; `?` the preceding
character zero or one time, `+` one or more times; `[...]` one character of a class;
`\\` makes the next character literal; `!` first negates (never written by ghbootstrap).
"""

from __future__ import annotations

import re


def filter_regex(pattern: str) -> re.Pattern[str]:
    assert not pattern.startswith("!"), "ghbootstrap never writes a negated filter"
    atoms: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            atoms.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            atoms.append(".*")
            i += 2
        elif ch == "*":
            atoms.append("[^/]*")
            i += 1
        elif ch in "?+" and atoms:
            atoms[-1] = f"(?:{atoms[-1]}){ch}"
            i += 1
        elif ch == "[":
            end = pattern.index("]", i + 1)
            atoms.append(pattern[i : end + 1])
            i = end + 1
        elif ch == "\\":
            atoms.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            atoms.append(re.escape(ch))
            i += 1
    return re.compile("".join(atoms), re.DOTALL)


def fires(filters: list[str], ref_name: str) -> bool:
    return any(filter_regex(f).fullmatch(ref_name) for f in filters)
