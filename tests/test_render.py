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


def test_write_atomic_replaces_whole_files_and_keeps_a_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    from invctl.files import write_atomic

    path = tmp_path / "items.toml"
    path.write_text("old\n")
    os.chmod(path, 0o600)
    write_atomic(path, b"new\n", keep_mode=True)
    assert path.read_bytes() == b"new\n" and (path.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["items.toml"]  # no temporary file left
