"""The one error type users see, and the helper that words its messages."""

from __future__ import annotations

from typing import Any


class AugSearchError(ValueError):
    """Bad user input: the message names the argument, the value and what was expected.

    The CLI prints it as one line and exits with status 2.
    """


def require(ok: bool, name: str, value: Any, expected: str) -> None:
    """Raise AugSearchError(f"{name} must be {expected}, but got {name}={value!r}.") unless ok."""
    if not ok:
        raise AugSearchError(f"{name} must be {expected}, but got {name}={value!r}.")


def is_number(value: Any) -> bool:
    """True for int and float but not bool (True is an int in Python, never a magnitude)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def require_unit_interval(name: str, value: Any) -> None:
    require(is_number(value) and 0.0 <= value <= 1.0, name, value, "a number in [0, 1]")
