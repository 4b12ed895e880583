"""`invctl init`: a new ledger folder, ready for git."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from invctl.errors import Refused
from invctl.files import create_file, make_dirs, write_atomic
from invctl.schema import Invalid, validate
from invctl.settings import SETTINGS_FILE, Settings

GITATTRIBUTES = """# Parallel appends on two clones merge cleanly: keep both sides' lines.
journal/** merge=union
# Items, suppliers and settings changed on two clones merge table by table (`invctl merge-toml`;
# it needs the git config line `invctl init` writes, see docs/git.md; without it git merges as text).
items.toml merge=invctl-toml
suppliers.toml merge=invctl-toml
invctl.toml merge=invctl-toml
"""
# The driver falls back to git's text merge when invctl is not on PATH or both sides changed
# one key (merge-toml then leaves the file as it was and exits 1).
MERGE_DRIVER = "invctl merge-toml %O %A %B '%P' || git merge-file -L ours -L base -L theirs %A %O %B"
GITIGNORE = "# Local only: replay cache, write lock, alert state.\n.invctl/\n"
ITEMS_HEADER = """# The catalog: one table per SKU. Edit by hand or with `invctl item add/set`;
# comments and layout are kept. Money is written as strings to keep its decimals exact.
#
# [TEE-M]
# name = "T-shirt M"
# unit = "pcs"
# category = "apparel"
# price = "19.90"
# cost = "6.50"
# reorder_point = 20
# reorder_qty = 100
"""
SUPPLIERS_HEADER = """# Suppliers: one table per supplier id. `lead_time` is the promised days from order to receipt.
#
# [acme]
# name = "ACME Textiles"
# lead_time = 14
"""


def system_timezone() -> str:
    """The machine's IANA time zone name, else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz:
        return tz
    try:
        target = os.readlink("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return "UTC"


def settings_text(settings: Settings) -> str:
    import tomli_w

    main = tomli_w.dumps({"currency": settings.currency, "costing": settings.costing, "timezone": settings.timezone})
    quoted = ", ".join(tomli_w.dumps({"x": loc})[4:].strip() for loc in settings.locations)
    main += f"locations = [{quoted}]\n"
    return (
        "# invctl settings. Main settings are top-level keys; thresholds go in the tables below.\n"
        "# currency: ISO 4217 (amounts with more decimals than it has are refused)\n"
        "# costing: fifo (lots that expire go first-expiring-first-out) or average\n"
        "# timezone: for day boundaries in reports and for --at without an offset\n"
        "# locations: writers refuse a location not listed here\n"
        + main
        + "\n[alerts]\n# expiring_days = 30\n# dead_days = 90\n"
        + "\n[reorder]\n# service_level = 0.95\n# horizon_days = 30\n"
    )


def init_ledger(folder: Path, *, currency: str = "EUR", costing: str = "fifo", timezone: str | None = None,
                locations: list[str] | None = None, git: bool = True) -> list[str]:
    """Create a ledger in ``folder``; returns the files written."""
    if (folder / SETTINGS_FILE).exists():
        raise Refused(f"{folder / SETTINGS_FILE} exists already: {folder} is a ledger")
    if folder.exists() and not folder.is_dir():
        raise Refused(f"{folder} is a file; give a folder for the new ledger")
    if folder.is_symlink() and not folder.exists():
        raise Refused(f"{folder} is a symbolic link to {os.readlink(folder)}, which is not there; "
                      "give a folder for the new ledger")
    try:
        settings = validate(Settings, {"currency": currency, "costing": costing, "timezone": timezone or system_timezone(),
                                       "locations": locations or ["main"]})
    except Invalid as exc:
        raise Refused(str(exc)) from None
    make_dirs(folder)  # 0750 and 0640 below, less the umask: stock and costs are business data
    files = {
        SETTINGS_FILE: settings_text(settings),
        "items.toml": ITEMS_HEADER,
        "suppliers.toml": SUPPLIERS_HEADER,
        ".gitattributes": GITATTRIBUTES,
        ".gitignore": GITIGNORE,
        "journal/.gitkeep": "",
    }
    written = []
    for name, text in files.items():
        path = folder / name
        make_dirs(path.parent)
        if name.startswith(".git"):  # may be there already (a ledger inside a repository)
            if add_rules(path, text):
                written.append(name)
            continue
        create_file(path, text.encode("utf-8"))
        written.append(name)
    if git and shutil.which("git"):
        if not _inside_git(folder):
            subprocess.run(["git", "init", "-q", str(folder)], check=False)
        setup_merge_driver(folder)
    return written


def add_rules(path: Path, block: str) -> list[str]:
    """Add to a git file (.gitattributes, .gitignore) the rule lines of ``block`` it lacks,
    each group with the comment above it in ``block``; what is there is kept as it is. A
    new file gets the whole block. Returns the rule lines added."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    have = {line.strip() for line in text.splitlines()}
    out: list[str] = []
    added: list[str] = []
    comment: list[str] = []  # the comment lines above the current group of rules
    after_rule = True
    for line in block.splitlines():
        if line.startswith("#"):
            comment = [line] if after_rule else [*comment, line]
            after_rule = False
            continue
        after_rule = True
        if line and line not in have:
            out += comment + [line]
            comment = []
            added.append(line)
    if not added:
        return []
    if text and not text.endswith("\n"):
        text += "\n"
    data = (text + "\n".join(out) + "\n").encode("utf-8")
    if path.exists():
        write_atomic(path, data)
    else:
        create_file(path, data)
    return added


def setup_merge_driver(folder: Path) -> None:
    """Set the repository's `invctl-toml` merge driver (git config is not cloned: run
    `git config merge.invctl-toml.driver ...` on each clone, see docs/git.md)."""
    for key, value in (("name", "invctl: items and suppliers, table by table"), ("driver", MERGE_DRIVER)):
        subprocess.run(["git", "-C", str(folder), "config", f"merge.invctl-toml.{key}", value],
                       capture_output=True, check=False)


def _inside_git(folder: Path) -> bool:
    out = subprocess.run(["git", "-C", str(folder), "rev-parse", "--is-inside-work-tree"],
                         capture_output=True, text=True, check=False)
    return out.returncode == 0 and out.stdout.strip() == "true"
