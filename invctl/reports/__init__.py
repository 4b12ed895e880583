"""Reports compute plain data (a Report of columns and rows); invctl.render draws them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["text", "qty", "money", "int", "pct", "date", "bool"]


@dataclass(frozen=True)
class Column:
    """A column of a report: its key (JSON/CSV name), its header, and what kind of value."""

    key: str
    header: str
    kind: Kind = "text"
    table: bool = True  # shown in the terminal table (JSON and CSV always carry it)
    wrap: bool = True  # text that may wrap in a narrow terminal (ids and times must not)


@dataclass
class Report:
    """Rows of plain values (Decimal money, int/Decimal quantities) under named columns."""

    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
