"""A git merge driver for items.toml, suppliers.toml and invctl.toml: merges table by table.

git's text merge calls it a conflict when two clones each add an item (both append at the
end of the file), though nothing clashes. This merge compares the three versions as data,
one top-level table (an item, a supplier) at a time, and inside a table one key at a time:

- a table or key changed on one side only takes that side's version (added, edited or
  removed);
- both sides made the same change: taken once;
- a list of names (``locations``) changed on both sides gets both sides' additions and
  removals;
- both changed one key in different ways: a real conflict. Then nothing is decided here:
  the caller falls back to git's own text merge (conflict markers), as without the driver.

The result is our side's document (its comments and layout kept, via tomlkit) with their
changes applied; their new tables are appended in their order, with their own layout.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Any

_MISSING = object()


@dataclass
class Merged:
    """The merged text, or the keys both sides changed differently (``text`` is None)."""

    text: str | None
    conflicts: list[str] = field(default_factory=list)


def merge(base: str, ours: str, theirs: str) -> Merged:
    """Three TOML texts (the common ancestor, ours, theirs) -> the merge of both changes.

    Raises ValueError when one of them is not valid TOML (git's text merge is then the
    better judge).
    """
    import tomlkit

    try:
        b, o, t = (tomllib.loads(text) for text in (base, ours, theirs))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {exc}") from None
    plan: list[tuple[tuple[str, ...], Any]] = []  # (key path, their value or _MISSING)
    conflicts: list[str] = []
    _compare((), b, o, t, plan, conflicts)
    if conflicts:
        return Merged(None, conflicts)
    if not plan:
        return Merged(ours)
    doc = tomlkit.parse(ours)
    theirs_doc = tomlkit.parse(theirs)
    for path, value in plan:
        _apply(doc, theirs_doc, path, value)
    text = tomlkit.dumps(doc)
    if tomllib.loads(text) != _expected(o, plan):  # never write what was not meant
        raise ValueError("the merged file does not read back as merged")
    return Merged(text)


def _compare(path: tuple[str, ...], b: Any, o: Any, t: Any, plan: list[tuple[tuple[str, ...], Any]],
             conflicts: list[str]) -> None:
    """Record their changes to take (``plan``) and the keys both changed (``conflicts``)."""
    for key in _keys(b, o, t):
        bv, ov, tv = (_get(x, key) for x in (b, o, t))
        if ov == tv or tv == bv:
            continue  # the same on both sides, or changed on ours only: ours stands
        if ov == bv:
            plan.append(((*path, key), tv))  # changed on theirs only
        elif isinstance(ov, dict) and isinstance(tv, dict):
            _compare((*path, key), bv if isinstance(bv, dict) else {}, ov, tv, plan, conflicts)
        elif _plain_list(ov) and _plain_list(tv) and (bv is _MISSING or _plain_list(bv)):
            plan.append(((*path, key), _Set(_merge_list([] if bv is _MISSING else bv, ov, tv))))
        else:
            conflicts.append(".".join((*path, key)))


@dataclass
class _Set:
    """A value the merge made (not either side's): written as a new TOML value."""

    value: Any


def _plain_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, str | int) for x in value)


def _merge_list(base: list[Any], ours: list[Any], theirs: list[Any]) -> list[Any]:
    """Both sides' additions and removals of a list of names (``locations``): ours in its
    order without what theirs removed, then what theirs added."""
    kept = [x for x in ours if x in theirs or x not in base]
    return kept + [x for x in theirs if x not in ours and x not in base]


def _keys(*tables: Any) -> list[str]:
    seen: dict[str, None] = {}
    for table in tables:
        if isinstance(table, dict):
            seen.update(dict.fromkeys(table))
    return list(seen)


def _get(table: Any, key: str) -> Any:
    return table.get(key, _MISSING) if isinstance(table, dict) else _MISSING


def _apply(doc: Any, theirs_doc: Any, path: tuple[str, ...], value: Any) -> None:
    """Set (or remove) ``path`` in ``doc`` as it is in ``theirs_doc``."""
    target, source = doc, theirs_doc
    for key in path[:-1]:
        target, source = target[key], source[key]
    key = path[-1]
    if value is _MISSING:
        del target[key]
    elif isinstance(value, _Set):
        target[key] = value.value
    else:
        target[key] = source[key]  # their item, with its layout and comments


def _expected(ours: dict[str, Any], plan: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    """What the merged document must read as: ours with their changes, as plain data."""
    import copy

    out = copy.deepcopy(ours)
    for path, value in plan:
        table = out
        for key in path[:-1]:
            table = table[key]
        if value is _MISSING:
            del table[path[-1]]
        else:
            table[path[-1]] = value.value if isinstance(value, _Set) else value
    return out
