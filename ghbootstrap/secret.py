"""A secret value that refuses to be printed, logged, formatted or pickled."""

from __future__ import annotations

from typing import NoReturn


class Secret:
    """Holds a secret in memory. Every way of turning it into text gives `***`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value itself: only for sealing it or handing it to an SDK."""
        return self._value

    def __str__(self) -> str:
        return "***"

    def __repr__(self) -> str:
        return "Secret('***')"

    def __format__(self, spec: str) -> str:
        return "***"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")

    def __bool__(self) -> bool:
        return bool(self._value)
