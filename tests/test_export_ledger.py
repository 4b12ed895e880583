"""invctl export hledger|beancount: the real tools accept the output, and their balances are
the reports' figures (stock value at --to, COGS over the period).

hledger and bean-check must be installed; the tests skip without them, except in CI ($CI set,
.ci/run installs hledger and the test extra brings beancount), where they fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Shop

from invctl.exporters.ledger_export import component
from invctl.numbers import round_money

ROOT = Path(__file__).resolve().parent.parent
HLEDGER = shutil.which("hledger")
BEAN_CHECK = shutil.which("bean-check") or (str(Path(sys.executable).parent / "bean-check")
                                            if (Path(sys.executable).parent / "bean-check").exists() else None)


def need(tool: str | None, name: str) -> str:
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed (.ci/run installs it); in CI this fails instead of skipping")
        pytest.skip(f"{name} is not installed (apt-get install hledger / pip install beancount)")
    return tool


def hledger(*args: str) -> str:
    p = subprocess.run([need(HLEDGER, "hledger"), *args], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


def balance(path: Path, account: str, *period: str) -> Decimal:
    out = hledger("-f", str(path), "bal", account, "-N", "--flat", "-O", "csv", "--depth", "1", *period)
    total = Decimal(0)
    for line in out.splitlines()[1:]:
        amount = line.split(",")[-1].strip('"').split()
        if amount and amount[0] != "0":
            total += Decimal(amount[0])
    return total


def figures(shop: Shop, start: str | None, end: str) -> tuple[Decimal, Decimal]:
    """(stock value at the end of ``end``, COGS from ``start`` to ``end``) from the reports."""
    from invctl import inputs
    from invctl.cli.common import get_ledger
    from invctl.inputs import period
    from invctl.reports.sales import margin_report
    from invctl.reports.valuation import valuation_report

    led = get_ledger(shop.root)
    places = led.settings.places
    value = valuation_report(led, as_of=inputs.day_end(led, end)).totals["value"]
    first, until = period(led, start, end)
    cogs = margin_report(led, start=first, end=until).totals["cogs"]
    return round_money(value, places), round_money(cogs, places)


def export(shop: Shop, tmp_path: Path, what: str, *args: str) -> Path:
    out = tmp_path / f"inventory.{'journal' if what == 'hledger' else 'beancount'}"
    out.write_text(shop.ok("export", what, *args))
    return out


def check_hledger(shop: Shop, tmp_path: Path, start: str | None, end: str, *extra: str) -> Path:
    args = [*(["--from", start] if start else []), "--to", end, *extra]
    path = export(shop, tmp_path, "hledger", *args)
    hledger("-f", str(path), "check")
    hledger("-f", str(path), "check", "accounts", "commodities")
    value, cogs = figures(shop, start, end)
    assert balance(path, "Assets:Inventory") == value
    assert balance(path, "Expenses:COGS") == cogs
    return path


def fill(shop: Shop) -> None:
    """Receipts with and without a supplier, sales, a return, write-offs, counts, a transfer,
    negative stock and its true-up and a void."""
    shop.ok("receive", "TEE-M", "10", "--cost", "6.20", "--supplier", "acme", "--at", "2026-01-05")
    shop.ok("receive", "MILK", "7", "--cost", "1.10", "--at", "2026-01-05")
    shop.ok("sell", "TEE-M", "2", "--price", "19.90", "--order", "O1", "--at", "2026-01-06")
    shop.ok("adjust", "TEE-M", "-1", "--reason", "damaged", "--at", "2026-01-07")
    shop.ok("return", "TEE-M", "1", "--order", "O1", "--at", "2026-01-08")
    shop.ok("transfer", "TEE-M", "4", "--from", "main", "--to", "store2", "--at", "2026-01-09")
    shop.ok("count", "TEE-M", "5", "--at", "2026-01-10")  # 10 - 2 - 1 + 1 - 4 = 4 on hand: one found
    shop.ok("count", "MILK", "5", "--at", "2026-01-10")  # two missing
    shop.ok("adjust", "MILK", "2", "--reason", "found", "--at", "2026-01-11")
    shop.ok("sell", "TEE-M", "6", "--price", "19.90", "--loc", "store2", "--allow-negative", "--at", "2026-02-01")
    shop.ok("receive", "TEE-M", "5", "--cost", "7.10", "--loc", "store2", "--supplier", "acme", "--at", "2026-02-02")
    wrong = shop.ok("sell", "MILK", "1", "--price", "2.49", "--at", "2026-02-03").strip()
    shop.ok("void", wrong, "--reason", "typo", "--at", "2026-02-04")
    shop.ok("sell", "MILK", "3", "--price", "2.49", "--at", "2026-02-05")
    shop.ok("adjust", "MILK", "-1", "--reason", "expired", "--at", "2026-02-06")


def test_component_names() -> None:
    assert component("main") == "Main"
    assert component("TEE-M") == "TEE-M"
    assert component("store 2").startswith("Store-2-")
    assert component("a b") != component("a-b")
    assert component("_x")[0] == "X"
    assert component("café").startswith("Caf-")


def test_hledger_small_ledger(shop: Shop, tmp_path: Path) -> None:
    fill(shop)
    path = check_hledger(shop, tmp_path, None, "2026-12-31")
    text = path.read_text()
    for account in ("Liabilities:Payable:Acme", "Equity:Opening-Balances", "Expenses:Shrinkage:Damaged",
                    "Expenses:Shrinkage:Expired", "Expenses:Shrinkage:Count", "Income:Found:Count",
                    "Income:Found:Found", "Assets:Inventory:Store2"):
        assert account in text, account
    # the negative stock at store2 was trued up into COGS when the receipt came
    assert balance(path, "Expenses:COGS") > 0
    # every transaction is balanced exactly, with the currency's decimals
    assert "EUR" in text and ".000" not in text


def test_hledger_small_ledger_periods_and_by_sku(shop: Shop, tmp_path: Path) -> None:
    fill(shop)
    check_hledger(shop, tmp_path, "2026-01-08", "2026-02-03")
    check_hledger(shop, tmp_path, "2026-02-01", "2026-12-31", "--by-sku")
    path = export(shop, tmp_path, "hledger", "--by-sku")
    assert "Assets:Inventory:Store2:TEE-M" in path.read_text()


def test_hledger_average_costing_rounds_exactly(shop: Shop, tmp_path: Path) -> None:
    toml = shop.root / "invctl.toml"
    text = toml.read_text()
    toml.write_text(text.replace('costing = "fifo"', 'costing = "average"') if 'costing = "fifo"' in text
                    else 'costing = "average"\n' + text)
    shop.ok("receive", "TEE-M", "3", "--cost", "6.20", "--at", "2026-01-05")
    shop.ok("receive", "TEE-M", "4", "--cost", "6.25", "--at", "2026-01-05")
    shop.ok("receive", "TEE-M", "5", "--cost", "6.01", "--loc", "store2", "--at", "2026-01-05")
    for day in range(6, 11):
        shop.ok("sell", "TEE-M", "1", "--price", "19.90", "--at", f"2026-01-{day:02d}")
        shop.ok("transfer", "TEE-M", "1", "--from", "store2", "--to", "main", "--at", f"2026-01-{day:02d}T12:00")
    shop.ok("count", "TEE-M", "5", "--at", "2026-01-20")
    path = check_hledger(shop, tmp_path, None, "2026-01-31")
    check_hledger(shop, tmp_path, "2026-01-09", "2026-01-31")
    assert "costing" in toml.read_text() and path.read_text()


def test_hledger_example_shop(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop", root, ignore=shutil.ignore_patterns(".invctl", ".git"))
    shop = Shop(root)
    check_hledger(shop, tmp_path, None, "2026-10-31")
    check_hledger(shop, tmp_path, "2026-05-01", "2026-10-31")


def test_beancount(shop: Shop, tmp_path: Path) -> None:
    tool = need(BEAN_CHECK, "bean-check")
    fill(shop)
    path = export(shop, tmp_path, "beancount", "--from", "2026-01-08", "--to", "2026-12-31", "--by-sku")
    p = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert 'option "operating_currency" "EUR"' in path.read_text()
