"""Convert an invctl history to an hledger journal of the same size, for timing `hledger bal`.

Each event becomes one transaction moving SKU units (as commodities) between accounts;
the point is an equivalent workload for hledger, not a full accounting export.
"""

from __future__ import annotations

import json
from pathlib import Path


def _commodity(sku: str) -> str:
    return '"' + sku.replace('"', "") + '"'


def convert(ledger: Path, out: Path) -> int:
    n = 0
    with out.open("w", encoding="utf-8") as fh:
        for path in sorted((ledger / "journal").rglob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                ev = json.loads(line)
                kind, date = ev["type"], ev["ts"][:10]
                if "sku" not in ev or kind in ("ordered", "cancelled", "voided"):
                    continue
                qty = ev.get("qty", 0)
                unit = _commodity(ev["sku"])
                loc = ev.get("loc", "main")
                if kind == "received":
                    post = (f"assets:inventory:{loc}  {qty} {unit} @ {ev['cost']} EUR", "liabilities:payables")
                elif kind == "sold":
                    post = (f"expenses:cogs  {qty} {unit}", f"assets:inventory:{loc}  -{qty} {unit}")
                elif kind == "transferred":
                    post = (f"assets:inventory:{ev['to']}  {qty} {unit}", f"assets:inventory:{ev['from']}  -{qty} {unit}")
                else:
                    post = (f"assets:inventory:{loc}  {qty} {unit}", f"equity:adjustments  {-int(qty) if isinstance(qty, int) else qty} {unit}")
                fh.write(f"{date} {kind} {ev['id']}\n    {post[0]}\n    {post[1]}\n\n")
                n += 1
    return n
