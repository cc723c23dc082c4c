"""Any text as an IAM tag value, and back.

IAM tag values allow letters, digits, spaces and `_ . : / = + - @`. Records keep
letters, digits and `_ . : / = -` as they are and write every other byte as `@XX`, so
any name (an environment with a comma, a branch with a `+`) fits, `+` stays free to
separate a record's items (footprint.py) and `@` marks an escape.
"""

from __future__ import annotations

import re

_PLAIN = re.compile(r"[A-Za-z0-9_.:/=\-]")
_ESCAPE = "@"


def escape(value: str) -> str:
    """Any text as a tag value: letters, digits and `_ . : / = -` as they are, `@XX` else."""
    return "".join(
        ch if _PLAIN.fullmatch(ch) else "".join(f"{_ESCAPE}{b:02X}" for b in ch.encode())
        for ch in value
    )


def unescape(value: str) -> str:
    return re.sub(
        r"(?:@[0-9A-F]{2})+",
        lambda m: bytes.fromhex(m.group().replace(_ESCAPE, "")).decode(),
        value,
    )
