"""invctl/tomlmerge.py: items.toml and suppliers.toml merged table by table."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from invctl.tomlmerge import merge

BASE = '''# The catalog
[TEE-M]
name = "T-shirt M"
price = "19.90"  # summer price

[TEE-M.alerts]
dead_days = 60

[MILK]
name = "Oat milk"
price = "2.49"
'''


def test_both_sides_add_an_item() -> None:
    """Pass: both new tables are kept, ours in place, theirs appended; our comments stay."""
    ours = BASE + '\n[CAP]\nname = "Cap"  # new this week\n'
    theirs = BASE + '\n[SCARF]\nname = "Scarf"\n'
    out = merge(BASE, ours, theirs)
    assert out.text is not None and not out.conflicts
    assert out.text.startswith(ours)  # ours untouched, theirs after it
    assert "# summer price" in out.text and "# new this week" in out.text
    assert list(tomllib.loads(out.text)) == ["TEE-M", "MILK", "CAP", "SCARF"]


def test_edits_of_different_keys_and_items_merge() -> None:
    ours = BASE.replace('price = "19.90"', 'price = "21.00"')
    theirs = BASE.replace('name = "Oat milk"', 'name = "Oat milk 1l"').replace("dead_days = 60", "dead_days = 45")
    out = merge(BASE, ours, theirs)
    assert out.text is not None
    data = tomllib.loads(out.text)
    assert data["TEE-M"]["price"] == "21.00" and data["TEE-M"]["alerts"]["dead_days"] == 45
    assert data["MILK"]["name"] == "Oat milk 1l"
    assert "# summer price" in out.text


def test_the_same_change_on_both_sides_is_taken_once() -> None:
    both = BASE + '\n[CAP]\nname = "Cap"\n'
    out = merge(BASE, both, both)
    assert out.text == both


def test_a_removal_on_one_side_is_taken() -> None:
    theirs = BASE[: BASE.index("[MILK]")].rstrip() + "\n"
    ours = BASE.replace('price = "19.90"', 'price = "21.00"')
    out = merge(BASE, ours, theirs)
    assert out.text is not None
    assert list(tomllib.loads(out.text)) == ["TEE-M"] and tomllib.loads(out.text)["TEE-M"]["price"] == "21.00"


@pytest.mark.parametrize(("ours_price", "theirs_price", "conflicts"), [
    ("21.00", "22.00", ["TEE-M.price"]),
    ("21.00", None, ["TEE-M.price"]),  # edited here, removed there
])
def test_one_key_changed_both_ways_is_a_conflict(ours_price: str, theirs_price: str | None, conflicts: list[str]) -> None:
    """Pass: nothing is decided (no text): the caller leaves it to git's text merge."""
    ours = BASE.replace('price = "19.90"', f'price = "{ours_price}"')
    theirs = BASE.replace('price = "19.90"  # summer price\n', "" if theirs_price is None else f'price = "{theirs_price}"\n')
    out = merge(BASE, ours, theirs)
    assert out.text is None and out.conflicts == conflicts


def test_the_same_new_sku_with_different_fields() -> None:
    ours = BASE + '\n[CAP]\nname = "Cap"\nprice = "9.00"\n'
    theirs = BASE + '\n[CAP]\nname = "Cap"\ncost = "3.00"\n'
    out = merge(BASE, ours, theirs)
    assert out.text is not None and tomllib.loads(out.text)["CAP"] == {"name": "Cap", "price": "9.00", "cost": "3.00"}
    clash = merge(BASE, ours, theirs.replace('"Cap"', '"Baseball cap"'))
    assert clash.text is None and clash.conflicts == ["CAP.name"]


def test_a_file_that_is_not_toml_is_left_to_git() -> None:
    with pytest.raises(ValueError, match="not valid TOML"):
        merge(BASE, BASE + "\n<<<<<<< HEAD\n", BASE)


# --- any changes on disjoint keys merge to both changes --------------------------------------

skus = st.sampled_from(["A", "B", "C", "D", "E"])
fields = st.sampled_from(["name", "price", "cost", "reorder_point"])
values = st.one_of(st.text("abc xyz", min_size=1, max_size=6), st.integers(0, 99))
catalogs = st.dictionaries(skus, st.dictionaries(fields, values, min_size=1, max_size=3), max_size=4)


def _changed(base: dict[str, Any], edits: dict[str, Any]) -> dict[str, Any]:
    out = {k: dict(v) for k, v in base.items()}
    for sku, table in edits.items():
        if table is None:
            out.pop(sku, None)
        else:
            out[sku] = table
    return out


@settings(max_examples=150, deadline=None)
@given(base=catalogs, ours_edits=st.dictionaries(skus, st.one_of(st.none(), st.dictionaries(fields, values, min_size=1, max_size=3)), max_size=3),
       theirs_edits=st.dictionaries(skus, st.one_of(st.none(), st.dictionaries(fields, values, min_size=1, max_size=3)), max_size=3))
def test_disjoint_changes_merge_to_both(base: dict[str, Any], ours_edits: dict[str, Any], theirs_edits: dict[str, Any]) -> None:
    """Pass: when the two sides change different items, the merge reads as the base with
    both sides' changes, whatever they are (added, edited, removed items)."""
    theirs_edits = {k: v for k, v in theirs_edits.items() if k not in ours_edits}
    ours, theirs = _changed(base, ours_edits), _changed(base, theirs_edits)
    out = merge(tomli_w.dumps(base), tomli_w.dumps(ours), tomli_w.dumps(theirs))
    assert out.text is not None, out.conflicts
    assert tomllib.loads(out.text) == _changed(ours, {k: theirs.get(k) for k in theirs_edits})


def test_locations_added_on_both_sides_are_both_kept() -> None:
    """invctl.toml: each clone adds a location; the merge lists both (and drops one that a
    side removed), keeping our comments."""
    base = '# settings\ncurrency = "EUR"\nlocations = ["main", "store2"]  # places\n'
    ours = base.replace('"store2"]', '"store2", "popup"]')
    theirs = base.replace('["main", "store2"]', '["main", "store2", "outlet"]')
    out = merge(base, ours, theirs)
    assert out.text is not None and out.text.startswith("# settings\n")
    assert tomllib.loads(out.text)["locations"] == ["main", "store2", "popup", "outlet"]
    dropped = merge(base, ours, theirs.replace('"store2", ', ""))
    assert dropped.text is not None and tomllib.loads(dropped.text)["locations"] == ["main", "popup", "outlet"]
    clash = merge(base, base.replace('"EUR"', '"USD"'), base.replace('"EUR"', '"GBP"'))
    assert clash.text is None and clash.conflicts == ["currency"]
