"""The one error type users see (and its form for one bad argument), and the helpers that word its messages."""

from __future__ import annotations

import numbers
from typing import Any


class AugSearchError(ValueError):
    """Bad user input: the message names the argument, the value and what was expected.

    The CLI prints it as one line and exits with status 2.
    """


class InvalidArgument(AugSearchError):
    """The error `require` raises, "NAME must be EXPECTED, but got NAME=VALUE.", with its parts kept,
    so that a caller that passed the argument under another name (a prefixed field) can say so."""

    def __init__(self, name: str, value: Any, expected: str) -> None:
        super().__init__(f"{name} must be {expected}, but got {name}={value!r}.")
        self.name, self.value, self.expected = name, value, expected

    def renamed(self, name: str) -> InvalidArgument:
        return InvalidArgument(name, self.value, self.expected)

    def __reduce__(self) -> tuple[type[InvalidArgument], tuple[str, Any, str]]:
        # Pickled by its parts: Ray sends errors between processes.
        return InvalidArgument, (self.name, self.value, self.expected)


def require(ok: bool, name: str, value: Any, expected: str) -> None:
    """Raise InvalidArgument(name, value, expected) unless ok."""
    if not ok:
        raise InvalidArgument(name, value, expected)


def is_number(value: Any) -> bool:
    """True for Python and NumPy ints and floats but not bool (True is an int in Python, never a magnitude)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    """True for Python and NumPy integers but not bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def require_unit_interval(name: str, value: Any) -> None:
    require(is_number(value) and 0.0 <= value <= 1.0, name, value, "a number in [0, 1]")


def first_line(message: BaseException | str | None, default: str = "") -> str:
    """The first line of an error, or of an error's stored text: what one-line messages show.
    An error without text gives its type's name; no text at all gives `default`."""
    if isinstance(message, BaseException) and not default:
        default = type(message).__name__
    lines = str(message or "").strip().splitlines()
    return lines[0] if lines else default


def error_line(error: BaseException) -> str:
    """'TypeName: first line' of an error (its type alone when it has no text): a one-line
    message about an error from someone else's code."""
    text = first_line(str(error))
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
