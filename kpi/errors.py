"""The exceptions of kpisite.

A `KpisiteError` is the user's to fix (a bad page, a bad extract, a bad setting): the
command line prints its message alone and exits non-zero. Anything else is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input, said where it is first."""

    where: str
    message: str
    hint: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class KpisiteError(Exception):
    """A user error: the message says where, what was expected, and a hint."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []


class ConfigError(KpisiteError):
    """A project setting in mkdocs.yml or a catalog file is wrong."""


class ExtractError(KpisiteError):
    """A CRM extract under data/ (or a mapped raw file) breaks the contract."""


class CatalogError(KpisiteError):
    """A KPI definition is wrong: unknown name, type error, cycle."""


class DirectiveError(KpisiteError):
    """A KPI directive in a report page is wrong."""


def with_hint(message: str, hint: str | None) -> str:
    """`message (hint)`, or the message alone when there is no hint: never "(None)"."""
    return f"{message} ({hint})" if hint else message


def closest(name: str, candidates) -> str | None:
    """The candidate closest to `name`, for a "did you mean" hint, or None."""
    import difflib

    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(name: str, candidates) -> str | None:
    """A hint naming the closest candidate, or listing the valid ones when none is close."""
    candidates = sorted(candidates)
    match = closest(name, candidates)
    if match:
        return f"did you mean '{match}'?"
    if candidates and len(candidates) <= 20:
        return "expected one of: " + ", ".join(candidates)
    return None


def utf8_problem(data: bytes) -> str | None:
    """`LINE: not UTF-8 (...)` for bytes that do not decode as UTF-8 (a byte order mark
    allowed), else None: a file saved as Latin-1 or Windows-1252, as older editors and
    spreadsheets do, said at its first bad byte with what to do."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "1: not UTF-8 but UTF-16 (its first bytes say so; save the file as UTF-8)"
    if b"\0" in data:
        # NUL bytes are valid UTF-8, but no text file holds them: every other byte NUL is
        # UTF-16 written without its byte order mark.
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        return f"{line}: not UTF-8 but UTF-16, perhaps (NUL bytes; save the file as UTF-8)"
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        return (
            f"{line}: not UTF-8 (byte 0x{data[error.start]:02x} at column {column}; saved as "
            "Latin-1 or Windows-1252, perhaps: save the file as UTF-8)"
        )
    return None
