"""Errors as values (with their source) and the one exception that refuses a request."""

from __future__ import annotations

from dataclasses import dataclass


class Refused(Exception):
    """The request was refused or the data is invalid: exit code 1, one line on stderr.

    The message says what is wrong and, where it can, how to fix it.
    """


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong at a place in a file.

    Attributes:
        path: the file, relative to the ledger root where possible.
        line: 1-based line (or CSV row) number; 0 when the problem is about the whole file.
        message: what is wrong and how to fix it.
        severity: "error" (the data is invalid) or "warning" (worth a look).
    """

    path: str
    line: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        prefix = "" if self.severity == "error" else "warning: "
        return f"{where}: {prefix}{self.message}"
