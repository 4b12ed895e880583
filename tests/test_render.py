"""render.py: one place turns a Report into a table, JSON or CSV."""

from __future__ import annotations

import io
import json

from invctl import render
from invctl.reports import Column, Report


def test_bool_columns() -> None:
    report = Report("t", [Column("po", "PO"), Column("overdue", "Overdue", "bool")],
                    [{"po": "A", "overdue": True}, {"po": "B", "overdue": False}, {"po": "C", "overdue": None}])
    assert json.loads(render.to_json(report, 2)) == [{"po": "A", "overdue": True}, {"po": "B", "overdue": False},
                                                      {"po": "C", "overdue": None}]
    out = io.StringIO()
    render.write_csv(report, 2, out)
    assert out.getvalue().splitlines() == ["po,overdue", "A,true", "B,false", "C,"]
    assert [render._cell(report.columns[1], r["overdue"], 2) for r in report.rows] == ["yes", "", ""]
