"""invctl merge-toml (the git merge driver for items.toml, suppliers.toml and invctl.toml) and
invctl git-setup (that driver and the hooks, on a clone)."""

from pathlib import Path
from typing import Annotated

import typer

from invctl.cli.common import LedgerOpt, get_ledger


def merge_toml(
    base: Annotated[Path, typer.Argument(metavar="BASE", help="The common ancestor's version (git's %O).", show_default=False)],
    ours: Annotated[Path, typer.Argument(metavar="OURS", help="Our version; the merge is written here (git's %A).", show_default=False)],
    theirs: Annotated[Path, typer.Argument(metavar="THEIRS", help="Their version (git's %B).", show_default=False)],
    name: Annotated[str | None, typer.Argument(metavar="PATH", help="The file's name in the repository, for messages (git's %P).", show_default=False)] = None,
) -> None:
    """Merge two clones' items.toml, suppliers.toml or invctl.toml table by table (a git merge driver).

    git's text merge stops when two clones each add an item, since both append at the end
    of the file. This merge takes each item, supplier and key from the side that changed
    it, and both sides' additions to a list (locations). When both changed one key
    differently it leaves OURS as it was and exits 1, and
    the driver line falls back to git's text merge (conflict markers, as without it).
    `invctl init` sets it up; on a clone, once: git config merge.invctl-toml.driver
    "invctl merge-toml %O %A %B '%P' || git merge-file -L ours -L base -L theirs %A %O %B"

    Example: invctl merge-toml items.base.toml items.toml items.theirs.toml items.toml
    """
    from invctl import tomlmerge
    from invctl.errors import Refused
    from invctl.files import write_atomic
    from invctl.render import message

    shown = name or str(ours)
    try:
        texts = [p.read_text(encoding="utf-8") for p in (base, ours, theirs)]
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused(f"{shown}: cannot read the versions to merge: {exc}") from None
    try:
        merged = tomlmerge.merge(*texts)
    except ValueError as exc:
        message(f"{shown}: {exc}; git's text merge decides (conflict markers)")
        raise typer.Exit(1) from None
    if merged.text is not None:
        if merged.text != texts[1]:
            write_atomic(ours, merged.text.encode())
        return
    message(f"{shown}: both sides changed {', '.join(merged.conflicts)}; git's text merge decides (conflict markers)")
    raise typer.Exit(1)


def git_setup(
    hooks: Annotated[bool, typer.Option("--hooks", help="Also install the pre-commit hook as pre-commit and pre-merge-commit.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace hooks that invctl did not install.")] = False,
    ledger: LedgerOpt = None,
) -> None:
    """Set up a clone of a ledger for git: what git does not clone.

    Sets the merge driver that merges items.toml, suppliers.toml and invctl.toml table by
    table (two clones adding an item then merge without a conflict); with --hooks also
    installs the hook that refuses a commit or a merge of a ledger with errors (it runs
    `invctl check` on what is staged). Run it once on each clone; running it again is
    harmless.

    Example: git clone ssh://server/shop.git shop && cd shop && invctl git-setup --hooks
    """
    from invctl import gitsetup
    from invctl.render import message

    led = get_ledger(ledger)
    for line in gitsetup.setup(led.root, hooks=hooks, force=force):
        message(line)
