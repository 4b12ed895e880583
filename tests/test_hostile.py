"""Hostile values in journal lines and on the command line (issue 8).

A journal line with NaN, Infinity, numbers out of range, a key given twice, a control
character in any text, or a path-like SKU or location is an error of `invctl check` at
exactly its `file:line`; `invctl stock` never crashes and leaves out (and reports) the
lines it cannot use. The same values given to a writer are refused with one `error:`
line and nothing written.

Already covered elsewhere (not repeated here): tests/test_bad_input.py (quantities NaN,
inf, 1e999999 on the command line; amounts -1, six, 1e13; a line break in --note; the
ordinary bad journal lines) and tests/test_schema.py (the TOML files).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import Shop

from invctl.check import check_ledger
from invctl.replay import replay
from invctl.settings import open_ledger

NOV = "journal/2026/2026-11.jsonl"
GOOD = ('{"id":"01KA0000000000000000000001","ts":"2026-11-02T10:00:00+01:00","type":"received","sku":"TEE-M",'
        '"qty":10,"loc":"main","cost":"6.20","by":"tester"}')


def line(n: int, kind: str = "received", **fields: Any) -> dict[str, Any]:
    """The keys of a valid event number ``n`` (ids and times grow with n)."""
    base: dict[str, Any] = {"id": f"01KA{n:022d}", "ts": f"2026-11-{3 + n // 1000:02d}T10:{n // 60 % 60:02d}:{n % 60:02d}+01:00",
                            "type": kind}
    own: dict[str, dict[str, Any]] = {
        "received": {"sku": "TEE-M", "qty": 1, "loc": "main", "cost": "6.20", "supplier": "acme", "po": "PO-1",
                     "lot": "L1"},
        "sold": {"sku": "TEE-M", "qty": 1, "loc": "main", "price": "19.90", "channel": "web", "customer": "C-1",
                 "region": "DE", "order": "O-1"},
        "returned": {"sku": "TEE-M", "qty": 1, "loc": "main", "refund": "19.90", "restock": False, "order": "O-9"},
        "adjusted": {"sku": "TEE-M", "qty": 1, "loc": "main", "reason": "found", "cost": "6.20"},
        # store2 only, and a void of nothing: what C1 lines (kept by the replay) do leaves main alone
        "transferred": {"sku": "TEE-M", "qty": 1, "from": "store2", "to": "store2"},
        "voided": {"target": "01KA9999999999999999999999", "reason": "typo"},
    }
    return {**base, **own[kind], "by": "tester", "note": "n", "ref": "r"}


def text(fields: dict[str, Any]) -> str:
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Case:
    """One hostile journal line, what `check` must say about it, and whether replay drops it."""

    raw: str
    reason: str
    dropped: bool  # left out of the replay (and reported by `stock`)
    qty: int = 1  # what it adds to TEE-M at main when replay keeps it


HUGE_EXPONENTS = ("1e309", "1e999999")
HUGE = (*HUGE_EXPONENTS, "99999999999999.00")


def _numbers() -> list[Case]:
    out: list[Case] = []
    ok = text(line(0))
    raw_json = "not valid JSON"
    for bad in ("NaN", "Infinity", "-Infinity"):
        out.append(Case(ok.replace('"qty":1', f'"qty":{bad}'), raw_json, True))
        out.append(Case(ok.replace('"cost":"6.20"', f'"cost":{bad}'), raw_json, True))
    for bad in ("1e309", "-1e309"):
        out.append(Case(ok.replace('"qty":1', f'"qty":{bad}'), "number out of range (too large for any quantity", True))
    out.append(Case(ok.replace('"qty":1', '"qty":10000000000000'), "number out of range (quantities stay below", True))
    out.append(Case(ok.replace('"qty":1', '"qty":99999999999999999999999999'), "number out of range", True))
    for bad in ("1e309", "NaN", "Infinity", "-Infinity", "1e999999999", "1e3", " 5", "10000000000000"):
        out.append(Case(ok.replace('"qty":1', f'"qty":"{bad}"'), "quantity must be a whole number or a plain decimal", True))
    for key, kind, good in (("cost", "received", "6.20"), ("price", "sold", "19.90"), ("refund", "returned", "19.90"),
                            ("cost", "adjusted", "6.20")):
        for bad in ("1e309", "NaN", "Infinity", "-Infinity", "1e999999", "6.2e1", "99999999999999.00", "0x10", "6,20", ""):
            raw = text(line(0, kind)).replace(f'"{key}":"{good}"', f'"{key}":"{bad}"')
            # The stock replay does not read a sale's price (check and the sales reports do).
            # The stock replay decodes money as text (a pattern per receipt cost 3-7% of a cold
            # replay): the fold drops what is not a finite number below 10^12 and keeps the
            # rest (a sale's price it does not read at all); `check` and the reports refuse them all.
            dropped = kind != "sold" and bad in ("NaN", "Infinity", "-Infinity", "0x10", "6,20", "", *HUGE)
            adds = 0 if dropped else {"received": 1, "sold": -1, "adjusted": 1}.get(kind, 0)
            out.append(Case(raw, f"amount must be a plain decimal string like \"6.20\" below 1,000,000,000,000 "
                                 f"(no exponent, NaN, Infinity or spaces) - at `$.{key}`", dropped,
                            qty=adds))
    return out


def _duplicates() -> list[Case]:
    ok = text(line(0))
    return [
        Case(ok.replace('"qty":1', '"qty":1,"qty":5'), 'key "qty" appears twice', False, qty=5),
        Case(ok.replace('"qty":1', '"qty":1 , "qty" : 5'), 'key "qty" appears twice', False, qty=5),
        Case(ok.replace('"sku":"TEE-M"', '"sku":"MILK","sku":"TEE-M"'), 'key "sku" appears twice', False),
        Case(ok.replace('"cost":"6.20"', '"cost":"6.20","cost":"0.01"'), 'key "cost" appears twice', False),
        Case(ok.replace('"by":"tester"', '"by":"a","by":"b"'), 'key "by" appears twice', False),
        Case(ok.replace('"note":"n"', '"x":{"y":1,"y":2}'), 'key "y" appears twice', False),
        # a `":` inside a string is no key: the prefilter must not be fooled either way
        Case(ok.replace('"note":"n"', '"note":"a\\":b","note":"c"'), 'key "note" appears twice', False),
    ]


# Every text key of every kind of event, and an unknown key (kept and ignored, still checked).
TEXT_KEYS = {
    "received": ("id", "sku", "loc", "supplier", "po", "lot", "by", "note", "ref", "extra"),
    "sold": ("sku", "loc", "channel", "customer", "region", "order"),
    "returned": ("order",),
    "adjusted": ("reason",),
    "transferred": ("from", "to"),
    "voided": ("target", "reason"),
}
# (as written in the JSON text, code point, found by the replay too)
CONTROLS = [
    ("\\u0000", "U+0000", True), ("\\u001b[31m", "U+001B", True), ("\\n", "U+000A", True), ("\\r", "U+000D", True),
    ("\\b", "U+0008", True), ("\\f", "U+000C", True), ("\\u007f", "U+007F", True), ("\x7f", "U+007F", True),
    ("\\u009b", "U+009B", False), ("\x9b", "U+009B", False),
]


def _controls() -> list[Case]:
    out: list[Case] = []
    for kind, keys in TEXT_KEYS.items():
        for key in keys:
            for esc, code, replayed in CONTROLS:
                fields = line(0, kind)
                value = str(fields.get(key, "x"))
                raw = text({**fields, key: "@@"}).replace('"@@"', '"' + value[:2] + esc + value[2:] + '"')
                # what the line does to TEE-M at main if kept (an adjustment with an unknown reason is not)
                adds = {"received": 1, "sold": -1, "adjusted": 1}.get(kind, 0) if key not in ("sku", "loc", "reason") else 0
                out.append(Case(raw, f'key "{key}" contains a control character ({code})', replayed,
                                qty=adds))
    return out


def _names() -> list[Case]:
    out: list[Case] = []
    ok = text(line(0))
    for sku in ("A/B", "A\\\\B", "..", "../../etc", "/etc/passwd", "C:\\\\x", "A B"):
        out.append(Case(ok.replace('"sku":"TEE-M"', f'"sku":"{sku}"'), "is not valid: use 1-64 letters", False, qty=0))
    for loc in ("../x", "a/b", "a\\\\b", "..", "/", "x y"):
        out.append(Case(ok.replace('"loc":"main"', f'"loc":"{loc}"'), f"location {json.loads(chr(34) + loc + chr(34))!r} is not valid", False,
                        qty=0))
    out.append(Case(ok.replace('"sku":"TEE-M"', '"sku":"A\\u0000B"'), 'key "sku" contains a control character (U+0000)', True))
    out.append(Case(ok.replace('"loc":"main"', '"loc":"x\\u0000"'), 'key "loc" contains a control character (U+0000)', True))
    return out


CASES = {"numbers": _numbers(), "duplicates": _duplicates(), "controls": _controls(), "names": _names()}


def _write(shop: Shop, cases: list[Case]) -> list[str]:
    """GOOD on line 1, then case i on line i + 2 (each with its own id and time)."""
    lines = [GOOD]
    for i, case in enumerate(cases, 1):
        raw = case.raw.replace('"id":"01KA0000000000000000000000"', f'"id":"01KB{i:022d}"', 1)
        raw = raw.replace('"ts":"2026-11-03T10:00:00+01:00"', f'"ts":"2026-11-03T10:{i // 60 % 60:02d}:{i % 60:02d}+01:00"', 1)
        lines.append(raw)
    path = shop.root / NOV
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
    return lines


@pytest.mark.parametrize("group", list(CASES))
def test_check_names_every_hostile_line(shop: Shop, group: str) -> None:
    """Each hostile line is an error of `invctl check` at its own line, with its reason;
    the good line 1 is not reported; check exits 1; nothing is written."""
    cases = CASES[group]
    _write(shop, cases)
    before = shop.journal_bytes()
    r = shop.run("check")
    assert r.code == 1 and "Traceback" not in r.out + r.err
    out = r.out.splitlines()
    assert all(len(o) < 600 for o in out), "a message echoes a whole value"
    missing = []
    for i, case in enumerate(cases, 2):
        said = [o for o in out if o.startswith(f"{NOV}:{i}: ") and not o.startswith(f"{NOV}:{i}: warning:")]
        if not any(case.reason in o for o in said):
            missing.append((i, case.raw[:160], case.reason, said))
    assert not missing, missing
    assert not any(o.startswith(f"{NOV}:1: ") for o in out), out
    assert shop.journal_bytes() == before


@pytest.mark.parametrize("group", list(CASES))
def test_stock_leaves_out_and_reports_what_it_cannot_use(shop: Shop, group: str) -> None:
    """`invctl stock` exits 0 without a traceback; on hand is 10 plus the quantity of
    exactly the lines the replay keeps, and every dropped line is a replay problem at its
    own line (and `stock` says there are problems)."""
    cases = CASES[group]
    _write(shop, cases)
    r = shop.run("stock", "--format", "json")
    assert r.code == 0 and "Traceback" not in r.out + r.err, r.err
    rows = {(row["sku"], row["loc"]): row for row in json.loads(r.out)}
    kept = sum(c.qty for c in cases if not c.dropped)
    assert rows[("TEE-M", "main")]["on_hand"] == 10 + kept
    problems = {(p.path, p.line) for p in replay(open_ledger(shop.root)).problems if p.severity == "error"}
    dropped = {(NOV, i) for i, c in enumerate(cases, 2) if c.dropped}
    assert dropped <= problems, sorted(dropped - problems)
    if dropped:
        assert "left out of these figures" in r.err
    r = shop.sh("stock", "--format", "json")  # the installed binary, as a user runs it
    assert r.code == 0 and "Traceback" not in r.err


def test_very_long_strings(shop: Shop) -> None:
    """A 10 MB note is accepted by both check and stock (nothing in the SPEC limits free
    text); a 100 KB SKU breaks the SKU rule (1-64 characters): check names its line with a
    short message, stock does not crash."""
    long_note = text(line(0)).replace('"note":"n"', '"note":"' + "x" * 10_000_000 + '"')
    long_sku = text(line(0)).replace('"sku":"TEE-M"', '"sku":"' + "S" * 100_000 + '"').replace(
        '"id":"01KA0000000000000000000000"', '"id":"01KA0000000000000000000009"')
    path = shop.root / NOV
    path.parent.mkdir(parents=True)
    path.write_text(f"{GOOD}\n{long_note}\n{long_sku}\n")
    r = shop.run("check")
    assert r.code == 1
    assert [o for o in r.out.splitlines() if ":2: " in o and "warning:" not in o] == []
    said = [o for o in r.out.splitlines() if o.startswith(f"{NOV}:3: ")]
    sku_lines = [o for o in said if "warning:" not in o]
    assert len(sku_lines) == 1 and "is not valid" in sku_lines[0] and "(100,000 characters)" in sku_lines[0]
    assert all(len(o) < 400 for o in said)  # warnings too (the PO warning used to quote the whole SKU)
    r = shop.run("stock", "TEE-M", "--format", "json")
    assert r.code == 0 and json.loads(r.out)[0]["on_hand"] == 11


def test_check_is_the_library_too(shop: Shop) -> None:
    """check_ledger returns the same problems `invctl check` prints (one per hostile line)."""
    cases = _duplicates()[:1] + _controls()[:1]
    _write(shop, cases)
    got = {(p.path, p.line) for p in check_ledger(open_ledger(shop.root)) if p.severity == "error"}
    assert got == {(NOV, 2), (NOV, 3)}


def test_a_clean_file_with_escapes_and_unicode_is_clean(shop: Shop) -> None:
    """The prefilters must not cry wolf: quotes, backslashes, tabs, `":` inside strings,
    non-ASCII text (£, °, 中) and a nested unknown object are all fine."""
    fields = line(0)
    fields.update(note='say "hi": C:\\path\\n\tok £5 ° 中', extra={"a": 1, "b": [1, {"c": "d"}]})
    cases = [Case(text(fields), "", False)]
    _write(shop, cases)
    r = shop.run("check")
    assert r.code == 0, r.out
    assert json.loads(shop.ok("stock", "TEE-M", "--format", "json"))[0]["on_hand"] == 11


# --- the same values given to writers ------------------------------------------------------------


def refused(shop: Shop, *args: str, says: str = "") -> str:
    before = shop.journal_bytes()
    items = (shop.root / "items.toml").read_bytes()
    r = shop.run(*args)
    assert r.code == 1, (args, r.code, r.out, r.err)
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), (args, r.err)
    assert "Traceback" not in r.out + r.err and r.out == ""
    assert shop.journal_bytes() == before and (shop.root / "items.toml").read_bytes() == items
    assert says in lines[0], (args, lines[0])
    return lines[0]


@pytest.fixture
def stocked(shop: Shop) -> Shop:
    shop.ok("receive", "TEE-M", "10", "--cost", "6.20", "--at", "2026-11-01")
    return shop


@pytest.mark.parametrize("name", ["A/B", "A\\B", "..", "../x", "/etc/passwd", "A\x00B", "A\x1bB", "S" * 100_000])
def test_path_like_skus_are_refused(stocked: Shop, name: str) -> None:
    """A SKU with /, \\, .., NUL or 100 KB is refused by item add and unknown to movements."""
    refused(stocked, "item", "add", name, "--name", "x", says="is not valid")
    refused(stocked, "sell", name, "1", "--price", "1")
    refused(stocked, "receive", name, "1", "--cost", "1")


@pytest.mark.parametrize("loc", ["../x", "a/b", "a\\b", "..", "x\x00", "\x1b[31m"])
def test_path_like_locations_are_refused(stocked: Shop, loc: str) -> None:
    refused(stocked, "receive", "TEE-M", "1", "--cost", "1", "--loc", loc, says="is not listed")
    refused(stocked, "transfer", "TEE-M", "1", "--from", "main", "--to", loc)


@pytest.mark.parametrize("amount", ["1e309", "NaN", "Infinity", "-Infinity", "1e999999999", "sNaN"])
def test_absurd_amounts_are_refused(stocked: Shop, amount: str) -> None:
    refused(stocked, "receive", "TEE-M", "1", "--cost", amount, says="--cost")
    refused(stocked, "sell", "TEE-M", "1", "--price", amount, says="--price")
    refused(stocked, "return", "TEE-M", "1", "--refund", amount, says="--refund")
    if not amount.startswith("-"):  # a leading "-" makes it an option: a usage error
        refused(stocked, "receive", "TEE-M", amount, "--cost", "1", says="quantity")


def test_a_quantity_with_too_many_decimals_is_refused(stocked: Shop) -> None:
    """Beyond 22 decimals the journal could not hold it (it used to fail as an internal error)."""
    refused(stocked, "receive", "TEE-M", "0." + "0" * 22 + "1", "--cost", "1", says="too many decimals")


CONTROL_VALUES = ["\x1b[31mred", "a\x00b", "a\rb", "a\x7fb", "a\x9bb", "a\x08b"]


@pytest.mark.parametrize("value", CONTROL_VALUES)
def test_control_characters_in_every_text_option(stocked: Shop, value: str) -> None:
    """Every free-text option of every writer refuses control characters (C0 but tab, DEL, C1)."""
    cmds: list[tuple[list[str], str]] = [
        (["receive", "TEE-M", "1", "--cost", "1", "--note", value], "--note"),
        (["receive", "TEE-M", "1", "--cost", "1", "--ref", value], "--ref"),
        (["receive", "TEE-M", "1", "--cost", "1", "--lot", value], "--lot"),
        (["receive", "TEE-M", "1", "--cost", "1", "--po", value], "--po"),
        (["sell", "TEE-M", "1", "--price", "1", "--channel", value], "--channel"),
        (["sell", "TEE-M", "1", "--price", "1", "--customer", value], "--customer"),
        (["sell", "TEE-M", "1", "--price", "1", "--region", value], "--region"),
        (["sell", "TEE-M", "1", "--price", "1", "--order", value], "--order"),
        (["count", "TEE-M", "3", "--lot", value], "--lot"),
        (["item", "add", "CAP", "--name", value], "--name"),
        (["supplier", "add", "bolt", "--name", value], "--name"),
    ]
    for args, option in cmds:
        refused(stocked, *args, says=f"{option} must not contain control characters")


@pytest.mark.parametrize("value", CONTROL_VALUES)
def test_control_characters_in_the_recorder_name(stocked: Shop, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """$INVCTL_USER becomes `by` on every line: a control character in it is refused too."""
    value = value.replace("\x00", "\x01")  # an environment variable cannot hold NUL
    monkeypatch.setenv("INVCTL_USER", value)
    refused(stocked, "sell", "TEE-M", "1", "--price", "1", says="by ")


def test_a_tab_is_text(stocked: Shop) -> None:
    """Tab is allowed in text (writers and check agree), so the refusal above is not blanket."""
    stocked.ok("sell", "TEE-M", "1", "--price", "1", "--note", "a\tb")
    assert stocked.run("check").code == 0


def test_void_reason_with_a_control_character(stocked: Shop) -> None:
    first = json.loads(stocked.journal_bytes().decode().splitlines()[0])["id"]
    refused(stocked, "void", first, "--reason", "oops\x1b]0;pwned\x07", says="--reason")



@pytest.mark.parametrize("args", [["sell", "A\nB", "1", "--price", "1"], ["history", "A\nB"],
                                  ["receive", "TEE-M", "1", "--cost", "1", "--supplier", "a\nb"]])
def test_an_unknown_name_with_a_line_break_is_one_error_line(stocked: Shop, args: list[str]) -> None:
    refused(stocked, *args, says="is not valid: use 1-64 letters")


@pytest.mark.parametrize("cost", HUGE_EXPONENTS)
def test_stock_with_a_huge_exponent_in_a_cost(shop: Shop, cost: str) -> None:
    _write(shop, [Case(text(line(0)).replace('"cost":"6.20"', f'"cost":"{cost}"'), "", True)])
    """Pass: the receipt is left out and named (it crashed money output before)."""
    r = shop.run("stock", "--format", "json")
    assert r.code == 0 and f"{NOV}:2: '{cost}' is too large" in r.err
    assert {row["sku"]: row["on_hand"] for row in json.loads(r.out)}["TEE-M"] == 10


def test_bad_utf8_in_every_reader(shop: Shop) -> None:
    """Pass: a line with bytes that are not UTF-8 inside a string (a damaged block) is named
    by every command that reads lines on its own (void's target search, export, the sales
    and ABC reports, alerts, order list, diff's reader) with no traceback; the good receipt
    is still used."""
    (shop.root / "journal/2026").mkdir(parents=True)
    sale = text(line(2, "sold", sku="TEE-M", qty=1, loc="main", price="19.90")).replace('"loc":"main"', '"loc":"\\u00ff"')
    damaged = sale.encode().replace(b"\\u00ff", b"\xffmain")
    (shop.root / NOV).write_bytes(GOOD.encode() + b"\n" + damaged + b"\n")
    for args in (["stock"], ["history", "TEE-M"], ["export", "csv", "sales"], ["report", "sales"],
                 ["report", "abc"], ["alerts"], ["order", "list"], ["report", "margin"]):
        r = shop.run(*args)
        assert "Traceback" not in r.out + r.err, (args, r.err)
        assert r.code in (0, 1), (args, r.code, r.err)
        assert f"{NOV}:2:" in r.err + r.out, (args, r.err)
    r = shop.run("void", f"01KA{2:022d}", "--reason", "test")  # the damaged line's id: not an event
    assert r.code == 1 and r.err.startswith("error: no event with id"), r.err


def test_the_c1_prefilter_is_exact() -> None:
    """check looks at lines one by one only when a file may hold a C1 control character:
    U+0080..U+009F are caught, and £, °, é or 中 (common in names) do not make it look."""
    from invctl.rawcheck import may_hold_c1

    assert all(may_hold_c1(f"x{chr(c)}y".encode()) for c in range(0x80, 0xA0))
    assert not may_hold_c1("£ 3° é 中 \u00a0".encode())
