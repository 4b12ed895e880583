"""`invctl git-setup`: what git does not clone, for a clone of a ledger.

git copies neither a repository's config nor its hooks, so every clone needs, once:

- the merge rules of `.gitattributes` that `invctl init` writes (added when missing: a
  ledger made by an older invctl; that change is to be committed);
- the `invctl-toml` merge driver (items.toml, suppliers.toml and invctl.toml merged table
  by table, see invctl/tomlmerge.py), which `invctl init` sets only in the repository it
  makes;
- with ``hooks``: the pre-commit hook of invctl/data/pre-commit (also examples/git/) as
  `pre-commit` and `pre-merge-commit`, so that a broken line never gets into a commit or
  a merge. The installed copy runs the invctl that installed it (a GUI git client may run
  hooks with a PATH that lacks it).

An existing hook that is not ours is left alone (refused) unless ``force``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from invctl.create import GITATTRIBUTES, add_rules, setup_merge_driver
from invctl.errors import Refused
from invctl.files import write_atomic

HOOKS = ("pre-commit", "pre-merge-commit")
MARK = "# installed by `invctl git-setup`"
_DEFAULT = "invctl=${INVCTL:-invctl}"


def hook_text(invctl: str) -> str:
    """The pre-commit hook, running ``invctl`` unless $INVCTL says otherwise."""
    text = resources.files("invctl").joinpath("data/pre-commit").read_text(encoding="utf-8")
    assert _DEFAULT in text
    first, rest = text.split("\n", 1)
    return f"{first}\n{MARK}\n{rest}".replace(_DEFAULT, f"invctl=${{INVCTL:-{shlex.quote(invctl)}}}")


def this_invctl() -> str:
    """The invctl running now, as a full path when it can be found."""
    me = Path(sys.argv[0])
    if me.name == "invctl" and me.exists():
        return str(me.resolve())
    return shutil.which("invctl") or "invctl"


def setup(folder: Path, *, hooks: bool, force: bool = False, invctl: str | None = None) -> list[str]:
    """Set the merge driver (and install the hooks) in the repository holding ``folder``;
    returns one sentence per thing done."""
    if shutil.which("git") is None:
        raise Refused("git is not installed; install it first (see docs/git.md)")
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None:
        raise Refused(f"{folder} is not in a git repository; clone the ledger first, or run `git init` (see docs/git.md)")
    done = []
    added = add_rules(folder / ".gitattributes", GITATTRIBUTES)
    if added:
        done.append(f".gitattributes: added {', '.join(added)} (commit it, so that every clone has it)")
    setup_merge_driver(folder)
    done.append("merge driver invctl-toml set (items.toml, suppliers.toml, invctl.toml merge table by table)")
    if not hooks:
        return done
    where = _git(folder, "rev-parse", "--git-path", "hooks")
    if where is None:
        raise Refused(f"git cannot say where the hooks of {top} go; install examples/git/pre-commit by hand")
    hook_dir = Path(where) if os.path.isabs(where) else Path(folder) / where
    text = hook_text(invctl or this_invctl())
    targets = [hook_dir / name for name in HOOKS]
    for path in targets:  # all or nothing: look at both before writing either
        if path.exists() and not force and MARK not in path.read_text(encoding="utf-8", errors="replace"):
            raise Refused(f"{path} exists and was not installed by invctl; merge the two by hand "
                          "(see examples/git/pre-commit), or replace it with --force")
    hook_dir.mkdir(parents=True, exist_ok=True)
    for path in targets:
        write_atomic(path, text.encode(), keep_mode=False, mode=0o750)
        done.append(f"hook {path.name} installed ({path})")
    return done


def _git(folder: Path, *args: str) -> str | None:
    p = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=False)
    return p.stdout.strip() if p.returncode == 0 else None
