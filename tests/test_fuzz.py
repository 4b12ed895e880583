"""Fuzzing the readers of untrusted files (issue 8): journal lines, order CSVs, count files.

Random and mutated input (byte flips, truncations, inserted quotes, braces and unicode,
numbers made huge or NaN, keys given twice, values of the wrong type) must only ever give
clean errors: the library raises nothing but invctl's own Refused, the CLI exits 0 or 1
with one `error:` line (never a traceback), and a refused command leaves the journal as it
was. What an import does write passes `invctl check`.

Examples per CI run: JOURNAL_N + 2 * IMPORT_N + COUNT_N (see the constants); set
INVCTL_PROPERTY_SCALE=50 for a longer bug hunt.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from conftest import Shop
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from invctl import events as E
from invctl.check import check_ledger
from invctl.errors import Refused
from invctl.replay import replay
from invctl.settings import open_ledger

SCALE = int(os.environ.get("INVCTL_PROPERTY_SCALE", "1"))
JOURNAL_N = 300 * SCALE
IMPORT_N = 250 * SCALE  # per format (mapped CSV, Shopify)
COUNT_N = 250 * SCALE
FUZZED_PER_RUN = JOURNAL_N + 2 * IMPORT_N + COUNT_N

NOV = "journal/2026/2026-11.jsonl"
VALID = [
    b'{"id":"01KA0000000000000000000001","ts":"2026-11-02T10:00:00+01:00","type":"received","sku":"TEE-M","qty":10,"loc":"main","cost":"6.20","supplier":"acme","lot":"L1","expires":"2027-01-31","by":"tester"}',
    b'{"id":"01KA0000000000000000000002","ts":"2026-11-03T10:00:00+01:00","type":"sold","sku":"TEE-M","qty":2,"loc":"main","price":"19.90","channel":"web","order":"O-1","by":"tester","note":"gift \\"wrap\\""}',
    b'{"id":"01KA0000000000000000000003","ts":"2026-11-04T10:00:00+01:00","type":"returned","sku":"TEE-M","qty":1,"loc":"main","refund":"19.90","restock":true,"order":"O-1","by":"tester"}',
    b'{"id":"01KA0000000000000000000004","ts":"2026-11-05T10:00:00Z","type":"adjusted","sku":"TEE-M","qty":-1,"loc":"main","reason":"damaged","by":"tester"}',
    b'{"id":"01KA0000000000000000000005","ts":"2026-11-06T10:00:00+01:00","type":"counted","sku":"MILK","qty":"2.5","loc":"main","by":"tester"}',
    b'{"id":"01KA0000000000000000000006","ts":"2026-11-07T10:00:00+01:00","type":"transferred","sku":"TEE-M","qty":1,"from":"main","to":"store2","by":"tester"}',
    b'{"id":"01KA0000000000000000000007","ts":"2026-11-08T10:00:00+01:00","type":"ordered","sku":"MILK","qty":5,"po":"PO-1","supplier":"acme","cost":"1.10","expected":"2026-11-20","by":"tester"}',
    b'{"id":"01KA0000000000000000000008","ts":"2026-11-09T10:00:00+01:00","type":"cancelled","sku":"MILK","po":"PO-1","qty":1,"by":"tester"}',
    b'{"id":"01KA0000000000000000000009","ts":"2026-11-10T10:00:00+01:00","type":"voided","target":"01KA0000000000000000000004","reason":"typo","by":"tester"}',
]
ODD_NUMBERS = [b"NaN", b"Infinity", b"-Infinity", b"1e309", b"-1e309", b"1e-400", b"99999999999999999999999999999",
               b"-0", b"0.1", b'"1e999999999"', b'"NaN"', b'"-Infinity"', b'"  7"', b'""', b"null", b"true", b"[]", b"{}"]
INSERTS = [b'"', b"{", b"}", b"[", b"]", b",", b":", b"\\", b"\\u0000", b"\\u001b", b"\\ud800", b"\x00", b"\x7f",
           "é中\u2028".encode(), b"\xff", b"\xc2\x9b", b"\n", b"\r", b" ", b"x" * 300]


def byte_edit(data: st.DataObject, raw: bytes, op: str, inserts: list[bytes]) -> bytes:
    """A bit flipped, the bytes cut off, or one of ``inserts`` put in, at a random place."""
    at = data.draw(st.integers(0, max(0, len(raw) - 1)), label="at") if raw else 0
    if op == "flip":
        return raw[:at] + bytes([raw[at] ^ (1 << data.draw(st.integers(0, 7)))]) + raw[at + 1:] if raw else raw
    if op == "cut":
        return raw[:at]
    return raw[:at] + data.draw(st.sampled_from(inserts), label="insert") + raw[at:]


def mutate(data: st.DataObject, raw: bytes) -> bytes:
    """One to three random edits of a journal line."""
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        op = data.draw(st.sampled_from(["flip", "cut", "insert", "number", "dupkey", "retype", "drop"]), label="op")
        if op in ("flip", "cut", "insert"):
            raw = byte_edit(data, raw, op, INSERTS)
        elif op == "number":
            pieces = raw.split(b":")
            i = data.draw(st.integers(0, len(pieces) - 1))
            head, _, tail = pieces[i].partition(b",")
            pieces[i] = data.draw(st.sampled_from(ODD_NUMBERS), label="number") + (b"," + tail if tail else b"}")
            raw = b":".join(pieces)
        elif op in ("dupkey", "retype", "drop"):
            try:
                doc = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(doc, dict) or not doc:
                continue
            key = data.draw(st.sampled_from(sorted(doc)), label="key")
            if op == "drop":
                del doc[key]
                raw = json.dumps(doc, separators=(",", ":")).encode()
            elif op == "retype":
                doc[key] = data.draw(st.sampled_from([1, -1, 1.5, "1", "", None, True, [], {}, "x" * 70, 2**70]), label="value")
                raw = json.dumps(doc, separators=(",", ":")).encode()
            else:
                other = json.dumps(data.draw(st.sampled_from([doc[key], 5, "5", None])))
                raw = raw[:-1] + f',"{key}":{other}}}'.encode() if raw.endswith(b"}") else raw
    return raw


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger (as the `shop` fixture's) built once; each example works on a copy of it."""
    from invctl.create import init_ledger

    root = tmp_path_factory.mktemp("fuzz") / "template"
    init_ledger(root, currency="EUR", timezone="Europe/Berlin", locations=["main", "store2"], git=False)
    os.environ.setdefault("INVCTL_USER", "tester")
    s = Shop(root)
    s.ok("supplier", "add", "acme", "--name", "ACME Textiles", "--lead-time", "14")
    s.ok("item", "add", "TEE-M", "--name", "T-shirt M", "--price", "19.90", "--cost", "6.50")
    s.ok("item", "add", "MILK", "--name", "Oat milk 1l", "--price", "2.49", "--cost", "1.10")
    s.ok("receive", "TEE-M", "100", "--cost", "6.20", "--at", "2026-10-01")
    s.ok("receive", "MILK", "100", "--cost", "1.10", "--at", "2026-10-01")
    return root


@pytest.fixture(scope="module")
def work(template: Path) -> Callable[[], Shop]:
    """A fresh copy of the template ledger for each example."""
    dest = template.parent / "work"

    def fresh() -> Shop:
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(template, dest)
        return Shop(dest)

    return fresh


FUZZ = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                     HealthCheck.function_scoped_fixture])


_KNOWN_SPLIT = re.compile(r"; add it first: invctl (item|supplier) add .*? --name \"...\"", re.S)


def clean_cli(shop: Shop, *args: str, stats: bool = True) -> int:
    """Run a command that may refuse: exit 0, or exit 1 with one `error:` line; never a
    traceback; a refusal leaves the journal as it was."""
    before = shop.journal_bytes()
    r = shop.run(*args)
    assert "Traceback" not in r.out + r.err, r.err
    assert r.code in (0, 1), (args, r.code, r.err)
    if stats:
        event(f"{args[0]}: exit {r.code}")  # --hypothesis-show-statistics: both outcomes are reached
    if r.code == 1:
        lines = r.err.strip().splitlines()
        if _KNOWN_SPLIT.search(r.err):
            # catalog.py's hint repeats a name holding a line break (see test_hostile.py,
            # test_an_unknown_name_with_a_line_break_is_one_error_line): still one error.
            lines = _KNOWN_SPLIT.sub("", r.err).strip().splitlines()
        assert [x for x in lines if x.startswith("error: ")] == lines[-1:], r.err
        assert shop.journal_bytes() == before
    return r.code


@settings(FUZZ, max_examples=JOURNAL_N)
@given(data=st.data())
def test_mutated_journal_lines(work: Callable[[], Shop], data: st.DataObject) -> None:
    """Replay and check of a journal with mutated (and random) lines raise nothing but
    Refused; `check` exits 0/1 and every line it does not flag is one the replay reads;
    `stock` exits 0 with valid JSON; nothing is written to the journal."""
    shop = work()
    lines = []
    for _ in range(data.draw(st.integers(1, 4), label="lines")):
        if data.draw(st.integers(0, 9), label="random?") == 0:
            lines.append(data.draw(st.binary(max_size=200), label="random line"))
        else:
            lines.append(mutate(data, data.draw(st.sampled_from(VALID), label="line")))
    torn = data.draw(st.booleans(), label="torn")
    body = b"\n".join([VALID[0], *lines]) + (b"" if torn else b"\n")
    path = shop.root / NOV
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    ledger = open_ledger(shop.root)
    try:
        state = replay(ledger)
        problems = check_ledger(ledger)
    except Refused:
        return
    assert all(p.line >= 0 and p.path for p in state.problems + problems)
    bad = {p.line for p in problems if p.severity == "error" and p.path == NOV}
    for n, raw in enumerate(body.split(b"\n"), 1):
        try:
            E.decoder.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError):
            assert not raw.strip() or n in bad, (n, raw, problems)  # never silently skipped
    event(f"journal lines flagged by check: {len(bad)}")
    r = shop.run("check")
    assert "Traceback" not in r.out + r.err and r.code == (1 if bad else 0), (r.out, r.err)
    if _known_stock_crash(body):
        event("stock skipped: a cost with a huge exponent (known bug, see test_hostile.py)")
    else:
        r = shop.run("stock", "--format", "json")
        assert r.code == 0 and "Traceback" not in r.err, r.err
        json.loads(r.out)
    assert path.read_bytes() == body


def _known_stock_crash(body: bytes) -> bool:
    """A line the stock replay keeps with an amount of 10**12 or more written with an exponent
    (test_hostile.py, test_stock_with_a_huge_exponent_in_a_cost: a bug outside these files)."""
    for raw in body.split(b"\n"):
        try:
            doc = json.loads(raw)
        except ValueError:
            continue
        if isinstance(doc, dict):
            for key in ("cost", "refund"):
                value = doc.get(key)
                if isinstance(value, str) and "e" in value.lower():
                    try:
                        d = Decimal(value.strip())
                    except ArithmeticError:
                        continue
                    if d.is_finite() and d != 0 and d.adjusted() >= 12:
                        return True
    return False


# --- order imports ------------------------------------------------------------------------------

GENERIC = (b"order_no,when,item,units,unit_price,buyer,ch,reg\n"
           b"A-1,2026-11-03 10:00:00 +0100,TEE-M,2,19.90,ann@example.com,web,DE\n"
           b"A-1,2026-11-03T10:00:00+01:00,MILK,1.5,2.49,,,\n"
           b"A-2,2026-11-04 11:00 +0100,TEE-M,1,19.90,bob,shop,AT-9\n")
MAPPING = ('[columns]\norder = "order_no"\nts = "when"\nsku = "item"\nqty = "units"\nprice = "unit_price"\n'
           'customer = "buyer"\nchannel = "ch"\nregion = "reg"\n')
SHOPIFY = (b"Name,Email,Financial Status,Created at,Currency,Cancelled at,Shipping Province,Shipping Country,"
           b"Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem discount\n"
           b"#1001,a@example.com,paid,2026-11-03 14:05:11 +0100,EUR,,BY,DE,2,T-shirt M,19.90,TEE-M,4.00\n"
           b"#1001,,,,,,,,1,Oat milk 1l,2.49,MILK,0\n"
           b"#1002,b@example.com,refunded,2026-11-04 10:00:00 +0100,EUR,,,AT,1,T-shirt M,19.90,TEE-M,0\n"
           b'#1003,"c@example.com",partially_refunded,2026-11-05 10:00:00 +0100,EUR,,,,3,"Oat, milk",2.49,MILK,0\n')
CSV_INSERTS = [b'"', b",", b"\n", b"\r\n", b"\r", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\\", b"\x1b[31m", b"\x7f",
               b"\xc2\x9b", "中é".encode(), b"NaN", b"Infinity", b"1e309", b"-1", b"0", b"99999999999999", b"1e-30",
               b"x" * 2000, b'""', b",,,,,,,,,,,,,,,,"]


def mutate_csv(data: st.DataObject, raw: bytes) -> bytes:
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        op = data.draw(st.sampled_from(["flip", "cut", "insert", "cell", "dupline"]), label="op")
        if op in ("flip", "cut", "insert"):
            raw = byte_edit(data, raw, op, CSV_INSERTS)
        elif op == "cell":
            cells = raw.split(b",")
            i = data.draw(st.integers(0, len(cells) - 1))
            cells[i] = data.draw(st.sampled_from(CSV_INSERTS), label="cell")
            raw = b",".join(cells)
        else:
            rows = raw.split(b"\n")
            i = data.draw(st.integers(0, len(rows) - 1))
            rows.insert(i, rows[i])
            raw = b"\n".join(rows)
    return raw


def _import(shop: Shop, data: st.DataObject, sample: bytes, fmt: list[str]) -> None:
    src = data.draw(st.binary(max_size=400), label="random") if data.draw(st.integers(0, 9)) == 0 else sample
    raw = mutate_csv(data, src) if data.draw(st.integers(0, 9), label="keep?") else src
    f = shop.root.parent / "orders.csv"
    f.write_bytes(raw)
    mapping = shop.root.parent / "map.toml"
    mapping.write_text(MAPPING)
    args = ["import", "orders", str(f), *[str(mapping) if a == "MAP" else a for a in fmt]]
    if data.draw(st.booleans(), label="--skip-bad"):
        args.append("--skip-bad")
    if clean_cli(shop, *args) == 0:
        errors = [str(p) for p in check_ledger(open_ledger(shop.root)) if p.severity == "error"]
        assert errors == [], errors
        before = shop.journal_bytes()
        assert clean_cli(shop, *args) == 0
        assert shop.journal_bytes() == before  # idempotent, even for odd input


@settings(FUZZ, max_examples=IMPORT_N)
@given(data=st.data())
def test_mutated_mapped_csv_import(work: Callable[[], Shop], data: st.DataObject) -> None:
    """`import orders --format csv --mapping`: clean exit 0/1; what it writes passes check,
    and importing the same file again is clean and adds nothing."""
    _import(work(), data, GENERIC, ["--format", "csv", "--mapping", "MAP"])


@settings(FUZZ, max_examples=IMPORT_N)
@given(data=st.data())
def test_mutated_shopify_import(work: Callable[[], Shop], data: st.DataObject) -> None:
    """`import orders --format shopify`: as above."""
    _import(work(), data, SHOPIFY, ["--format", "shopify"])


COUNTS = b"sku,qty,loc\nTEE-M,9,main\nMILK,2.5,store2\nMILK,,main\n\n"


@settings(FUZZ, max_examples=COUNT_N)
@given(data=st.data())
def test_mutated_count_file(work: Callable[[], Shop], data: st.DataObject) -> None:
    """`count --file`: clean exit 0/1; a refused file appends nothing; what it writes
    passes check."""
    shop = work()
    src = data.draw(st.binary(max_size=300), label="random") if data.draw(st.integers(0, 9)) == 0 else COUNTS
    raw = mutate_csv(data, src) if data.draw(st.integers(0, 9), label="keep?") else src
    f = shop.root.parent / "counts.csv"
    f.write_bytes(raw)
    if clean_cli(shop, "count", "--file", str(f), "--at", "2026-11-20") == 0:
        errors = [str(p) for p in check_ledger(open_ledger(shop.root)) if p.severity == "error"]
        assert errors == [], errors


def test_the_fuzzers_reach_both_outcomes(work: Callable[[], Shop]) -> None:
    """The samples are accepted unmutated (so the fuzzers do not only test refusals)."""
    shop = work()
    f = shop.root.parent / "orders.csv"
    f.write_bytes(GENERIC)
    (shop.root.parent / "map.toml").write_text(MAPPING)
    assert clean_cli(shop, "import", "orders", str(f), "--format", "csv", "--mapping", str(shop.root.parent / "map.toml"), stats=False) == 0
    f.write_bytes(SHOPIFY)
    assert clean_cli(shop, "import", "orders", str(f), "--format", "shopify", stats=False) == 0
    f = shop.root.parent / "counts.csv"
    f.write_bytes(COUNTS)
    assert clean_cli(shop, "count", "--file", str(f), "--at", "2026-11-20", stats=False) == 0
    (shop.root / NOV).write_bytes(b"\n".join(VALID) + b"\n")
    assert [p for p in check_ledger(open_ledger(shop.root)) if p.severity == "error"] == []
