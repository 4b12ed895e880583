"""The catalog (items.toml) and suppliers (suppliers.toml): human-written TOML.

Reading validates each table into a msgspec Struct (invctl/schema.py); writing keeps every
hand edit and comment: a new entry is appended as a new table, a change goes through
tomlkit, which preserves the rest (tomlkit is imported only by these writers).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from invctl.errors import Refused
from invctl.schema import Check, Invalid, Table, dump, validate
from invctl.settings import load_toml

ITEMS_FILE = "items.toml"
SUPPLIERS_FILE = "suppliers.toml"
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,63}")
ID_RULE = "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"


def check_id(kind: str, value: str) -> str:
    if not ID_PATTERN.fullmatch(value):
        raise Refused(f"{kind} {value!r} is not valid: use {ID_RULE}")
    return value


def _non_negative(v: Decimal | None) -> Decimal | None:
    if v is not None and (not v.is_finite() or v < 0):
        raise ValueError("must be a number >= 0")
    return v


class Item(Table, kw_only=True):
    """One SKU of the catalog (a table of items.toml)."""

    name: str
    unit: str = "pcs"
    category: str | None = None
    price: Decimal | None = None
    cost: Decimal | None = None
    supplier: str | None = None
    reorder_point: Decimal | None = None
    reorder_qty: Decimal | None = None
    max_stock: Decimal | None = None
    pack_size: Decimal | None = None
    aliases: list[str] = []
    components: dict[str, Decimal] = {}

    checks: ClassVar[dict[str, Check]] = dict.fromkeys(
        ("price", "cost", "reorder_point", "reorder_qty", "max_stock", "pack_size"), _non_negative)


class Supplier(Table, kw_only=True):
    """One supplier (a table of suppliers.toml)."""

    name: str
    lead_time: int | None = None  # promised days from order to receipt
    email: str | None = None
    phone: str | None = None
    pack_size: Decimal | None = None
    min_order: Decimal | None = None


def _load(path: Path, model: type[Table], kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, table in load_toml(path).items():
        if not isinstance(table, dict):
            raise Refused(f"{path}: {key!r} must be a table ([{key}]) describing one {kind}")
        if not ID_PATTERN.fullmatch(key):
            raise Refused(f"{path}: [{key}]: {kind} id is not valid: use {ID_RULE}")
        try:
            out[key] = validate(model, table)
        except Invalid as exc:
            raise Refused(f"{path}: [{key}] {exc}") from None
    return out


class Catalog:
    """Items and suppliers of a ledger, with the files they came from."""

    def __init__(self, root: Path, items: dict[str, Item], suppliers: dict[str, Supplier]):
        self.root = root
        self.items = items
        self.suppliers = suppliers
        self._aliases = {a: sku for sku, it in items.items() for a in it.aliases}

    @classmethod
    def load(cls, root: Path) -> Catalog:
        return cls(
            root,
            _load(root / ITEMS_FILE, Item, "item"),
            _load(root / SUPPLIERS_FILE, Supplier, "supplier"),
        )

    def item(self, sku: str) -> Item:
        found = self.items.get(sku)
        if found is None:
            check_id("SKU", sku)  # a name that can never be added: say why, not "add it first"
            raise Refused(f"unknown SKU {sku!r}; add it first: invctl item add {sku} --name \"...\"" + _did_you_mean(sku, self.items))
        return found

    def supplier(self, sid: str) -> Supplier:
        found = self.suppliers.get(sid)
        if found is None:
            check_id("supplier", sid)
            raise Refused(f"unknown supplier {sid!r}; add it first: invctl supplier add {sid} --name \"...\"" + _did_you_mean(sid, self.suppliers))
        return found

    def resolve(self, name: str) -> str | None:
        """A SKU from a SKU or one of its aliases."""
        if name in self.items:
            return name
        return self._aliases.get(name)


def _did_you_mean(name: str, known: dict[str, Any]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _toml_value(value: Any) -> Any:
    # Money and fractional quantities go in as strings so their decimals stay exact.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else str(value)
    return value


def append_table(path: Path, key: str, fields: dict[str, Any]) -> None:
    """Add a new [key] table at the end of a TOML file, leaving the rest byte for byte."""
    import tomlkit

    doc = tomlkit.document()
    table = tomlkit.table()
    for k, v in fields.items():
        if v is not None and v != [] and v != {}:
            table[k] = _toml_value(v)
    doc[key] = table
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    sep = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    _write_text(path, text + sep + tomlkit.dumps(doc))


def update_table(path: Path, key: str, changes: dict[str, Any]) -> None:
    """Change keys of an existing table with tomlkit, which keeps comments and layout."""
    import tomlkit

    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    table = doc[key]
    for k, v in changes.items():
        if v is None:
            if k in table:
                del table[k]
        elif k in table:
            table[k] = _toml_value(v)  # in place, keeping its comment
        else:
            _add_key(table, k, _toml_value(v))
    _write_text(path, tomlkit.dumps(doc))


def _add_key(table: Any, key: str, value: Any) -> None:
    """A new key right after the table's last key.

    tomlkit appends after the table's trailing comments and blank lines, which moved the
    comment above the next table (and the blank line before it) below the new key.
    """
    import tomlkit

    container = getattr(table, "value", None)
    insert_after = getattr(container, "_insert_after", None)
    # Not after a sub-table ([TEE-M.alerts]): the key would land inside it.
    keys = [k for k, v in getattr(container, "body", []) if k is not None
            and not isinstance(v, tomlkit.items.Table | tomlkit.items.AoT)]
    if insert_after is None or not keys:
        table[key] = value
        return
    insert_after(keys[-1], key, tomlkit.item(value))


def _write_text(path: Path, text: str) -> None:
    # Write beside, then rename: a crash never leaves a half-written catalog.
    from invctl.files import write_atomic

    write_atomic(path, text.encode("utf-8"), keep_mode=True)


def _validated(model: type[Table], fields: dict[str, Any], where: str) -> Table:
    try:
        return validate(model, {k: v for k, v in fields.items() if v is not None})
    except Invalid as exc:
        raise Refused(f"{where}: {exc}") from None


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    # Read, change and replace the file under the ledger's write lock: two `item add`
    # at once each rewrote the file from what they had read, and one item was lost.
    from invctl.journal import locked
    from invctl.settings import Ledger

    with locked(Ledger(root=root)):
        yield


def add_entry(root: Path, kind: str, key: str, fields: dict[str, Any]) -> None:
    """Add an item or a supplier as a new table at the end of its file."""
    model: type[Table] = Item if kind == "item" else Supplier
    filename = ITEMS_FILE if kind == "item" else SUPPLIERS_FILE
    check_id("SKU" if kind == "item" else "supplier id", key)
    _validated(model, fields, f"{kind} {key}")
    with _locked(root):
        existing = _load(root / filename, model, kind)
        if key in existing:
            raise Refused(f"{kind} {key} exists already in {filename}; change it with `invctl {kind} set {key} ...`")
        append_table(root / filename, key, fields)


def set_entry(root: Path, kind: str, key: str, changes: dict[str, Any]) -> None:
    """Change keys of an item or supplier; comments and layout of the file are kept."""
    model: type[Table] = Item if kind == "item" else Supplier
    filename = ITEMS_FILE if kind == "item" else SUPPLIERS_FILE
    with _locked(root):
        existing = _load(root / filename, model, kind)
        if key not in existing:
            raise Refused(f"unknown {kind} {key!r}" + _did_you_mean(key, existing))
        if not changes:
            raise Refused(f"nothing to change; give at least one option (see `invctl {kind} set --help`)")
        merged = dump(existing[key], exclude_none=True)
        merged.update(changes)
        _validated(model, merged, f"{kind} {key}")
        update_table(root / filename, key, changes)
