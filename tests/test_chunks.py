"""The replay's reader (replay._chunks): complete lines in reused-buffer chunks, then a
torn tail, whatever the buffer size and however long the lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invctl import replay as R

lines_st = st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30)


def read_all(path: Path, start: int = 0, line: int = 1) -> tuple[list[tuple[int, bytes, int]], dict[Path, tuple[int, int]]]:
    ends: dict[Path, tuple[int, int]] = {}
    # The data of a chunk is valid until the next one is asked for: copy it at once.
    out = [(first, bytes(data), n) for first, data, n in R._chunks(path, start, line, ends)]
    return out, ends


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=lines_st, tail=st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")),
       chunk=st.sampled_from([1, 2, 3, 7, 16, 64, 1 << 22]), skip=st.integers(0, 5))
def test_chunks_give_back_the_file(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                                   lines: list[bytes], tail: bytes, chunk: int, skip: int) -> None:
    monkeypatch.setattr(R, "_CHUNK", chunk)  # set for each example: the fixture's undo is at the end
    path = tmp_path_factory.mktemp("c") / "f.jsonl"
    complete = b"".join(x + b"\n" for x in lines)
    path.write_bytes(complete + tail)
    skip = min(skip, len(lines))
    start = sum(len(x) + 1 for x in lines[:skip])
    got, ends = read_all(path, start, skip + 1)
    body = [c for c in got if c[2]]
    torn = [c for c in got if not c[2]]
    assert b"".join(data for _, data, _ in body) == complete[start:]
    assert torn == ([(len(lines) + 1, tail, 0)] if tail else [])
    line = skip + 1
    for first, data, n in body:  # line numbers run on from chunk to chunk
        assert first == line and n == data.count(b"\n") and data.endswith(b"\n")
        line += n
    assert ends[path] == (len(complete), len(lines))


def test_a_line_longer_than_the_buffer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(R, "_CHUNK", 1024)
    path = tmp_path / "f.jsonl"
    lines = [b"a" * 10, b"b" * 5000, b"c", b"d" * 3000]
    path.write_bytes(b"\n".join(lines) + b"\n")
    got, _ = read_all(path)
    assert b"".join(data for _, data, _ in got).split(b"\n")[:-1] == lines
