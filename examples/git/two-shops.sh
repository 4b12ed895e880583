#!/bin/sh
# Two shops on two clones of one ledger, brought together by git (examples/git/README.md).
#
#   two-shops.sh [FOLDER]
#
# Makes a ledger with `invctl init`, a bare "server" repository and two clones (the
# warehouse, location `main`, and the shop, location `store2`), with the pre-commit hook
# of this folder installed on both. Both clones record sales and receipts in the same
# month file, one pushes, the other pulls (merge=union: no conflict), and the merged
# ledger is shown with `invctl check`, `invctl diff` and `invctl stock`. Last, the hook
# refuses a commit of a broken journal line.
#
# FOLDER must not exist yet (default: a new temporary folder); it is kept so you can
# look around. Needs git and invctl (set INVCTL to its full path if it is not on PATH).
set -eu

invctl=${INVCTL:-invctl}
if [ $# -gt 0 ]; then
    work=$1
    mkdir "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/two-shops.XXXXXX")
fi
work=$(cd "$work" && pwd)
month=journal/2026/2026-11.jsonl

say() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }  # show a command, then run it

# The commits need an author; these clones get their own, whatever the machine has.
identity() { git -C "$1" config user.name "$2"; git -C "$1" config user.email "$3"; }

say "A new ledger, committed with its .gitattributes (journal/** merge=union)"
cd "$work"
run "$invctl" init office --currency EUR --timezone Europe/Berlin --location main --location store2 --no-git
cd office
git init -q
identity . "Office" "office@example.com"
cat .gitattributes
"$invctl" item add TEE-M --name "T-shirt M" --price 19.90 --cost 6.50 >/dev/null
"$invctl" item add MILK --name "Oat milk 1l" --price 2.49 --cost 1.10 >/dev/null
run "$invctl" receive TEE-M 10 --cost 6.20 --at 2026-11-02T09:00 --loc main
"$invctl" check
git add -A
git commit -q -m "Opening stock"
git branch -M main

say "A bare repository as the server, and one clone per place, each with the hook"
cd "$work"
git clone -q --bare office server.git
for clone in warehouse store2; do
    git clone -q server.git "$clone"
    # what git does not clone: the merge driver for items.toml, suppliers.toml and
    # invctl.toml, and the hooks (pre-commit and pre-merge-commit, from examples/git/pre-commit)
    (cd "$clone" && "$invctl" git-setup --hooks)
done
identity warehouse "Anna (warehouse)" "anna@example.com"
identity store2 "Chiara (store2)" "chiara@example.com"

say "The warehouse sells and receives, commits and pushes"
cd "$work/warehouse"
run "$invctl" sell TEE-M 2 --price 19.90 --loc main --at 2026-11-03T10:00
run "$invctl" receive TEE-M 20 --cost 6.40 --loc main --at 2026-11-04T08:30
run "$invctl" item add CAP --name "Cap" --price 12.00 --cost 4.00
run git add -A
run git commit -q -m "warehouse: sales and a delivery"
run git push -q

say "Meanwhile store2 records in the same month file and commits"
cd "$work/store2"
run "$invctl" receive MILK 12 --cost 1.05 --loc store2 --at 2026-11-03T11:00
run "$invctl" sell MILK 3 --price 2.49 --loc store2 --at 2026-11-04T10:00
run "$invctl" sell TEE-M 1 --price 19.90 --loc main --at 2026-11-04T12:00
run "$invctl" item add SCARF --name "Scarf" --price 15.00 --cost 5.00
run git add -A
run git commit -q -m "store2: milk in, sales"

say "store2 cannot push before it merges; it looks at what the merge brings first"
if git push -q 2>/dev/null; then
    echo "unexpected: the push went through without a merge" >&2
    exit 1
fi
run git fetch -q
# Three dots: from where the two sides split, not from HEAD. HEAD has events origin/main
# has not, and `diff HEAD origin/main` would list them as removed.
run "$invctl" diff ...origin/main
run "$invctl" diff ...origin/main --events

say "The merge: both sides appended to $month (merge=union keeps all lines) and added an item (merge-toml keeps both)"
run git merge --no-edit origin/main
run "$invctl" check
run "$invctl" diff HEAD^1 HEAD
run "$invctl" stock
run git push -q
printf 'events in %s: ' "$month"
wc -l <"$month"

say "The warehouse pulls (a fast-forward) and sees the same stock"
cd "$work/warehouse"
run git pull -q --no-rebase
"$invctl" stock --format json >"$work/warehouse.json"
"$invctl" -L "$work/store2" stock --format json >"$work/store2.json"
if ! cmp -s "$work/warehouse.json" "$work/store2.json"; then
    echo "the two clones disagree on stock after the merge" >&2
    exit 1
fi
echo "warehouse and store2 show the same stock"

say "The hook refuses a commit of a broken journal line"
printf '{"id":"01M8BROKEN","ts":"2026-11-05T09:00:00+01:00","type":"sold"\n' >>"$month"
git add "$month"
if git commit -q -m "a hand-edited line"; then
    echo "unexpected: the hook let a broken line through" >&2
    exit 1
fi
run git restore --staged --worktree "$month"
run "$invctl" check

say "Done: the ledgers are in $work"
