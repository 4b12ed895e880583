"""The docs stay true to the code: the generated command reference, the help texts'
examples, and the journal format described in docs/format.md."""

from __future__ import annotations

import difflib
import importlib.util
import inspect
import json
import re
import shlex
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SCRIPT = ROOT / "scripts" / "gen_reference.py"
REGEN = "run `python scripts/gen_reference.py` and commit docs/reference.md"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_reference", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_reference", module)
    spec.loader.exec_module(module)
    return module


gen = _load_script()
COMMANDS = [(" ".join(path), cmd) for path, cmd, _ in gen.walk()]


def test_reference_is_up_to_date() -> None:
    generated = gen.render()
    on_disk = (DOCS / "reference.md").read_text(encoding="utf-8") if (DOCS / "reference.md").exists() else ""
    if on_disk != generated:
        diff = "".join(list(difflib.unified_diff(on_disk.splitlines(True), generated.splitlines(True),
                                                 "docs/reference.md", "generated"))[:60])
        pytest.fail(f"docs/reference.md is out of date with the --help texts: {REGEN}\n{diff}")


def test_reference_does_not_depend_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    first = gen.render()
    monkeypatch.setenv("COLUMNS", "37")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert gen.render() == first


def test_reference_is_plain_text() -> None:
    text = gen.render()
    boxes = sorted({c for c in text if 0x2500 <= ord(c) <= 0x259F})
    assert not boxes, f"box-drawing characters in the generated help (rich panels?): {boxes}"
    assert "\x1b" not in text, "terminal escape codes in the generated help"
    assert not [line for line in text.splitlines() if line != line.rstrip()], "trailing spaces in the generated help"


def test_check_mode_reports_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "reference.md"
    assert gen.main(["--output", str(out)]) == 0
    assert gen.main(["--check", "--output", str(out)]) == 0
    out.write_text(out.read_text(encoding="utf-8").replace("Usage:", "Usage :", 1), encoding="utf-8")
    assert gen.main(["--check", "--output", str(out)]) == 1
    assert "python scripts/gen_reference.py" in capsys.readouterr().err


def test_reference_covers_every_command() -> None:
    text = (DOCS / "reference.md").read_text(encoding="utf-8")
    for name, _ in COMMANDS:
        assert f"\n## {name}\n" in text, f"{name} is missing from docs/reference.md: {REGEN}"


def _help_source(cmd: object) -> str:
    return inspect.cleandoc(getattr(cmd, "help", None) or "")


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_help_ends_with_an_example(name: str, cmd: object) -> None:
    lines = [line for line in _help_source(cmd).splitlines() if line.strip()]
    assert lines, f"`{name}` has no help text"
    assert lines[-1].startswith("Example: "), f"the help of `{name}` must end with an `Example: {name} ...` line"


def _invocations(example: str) -> list[list[str]]:
    """The invctl command lines of an example such as `invctl a && cd x ; invctl b > f.csv`."""
    out = []
    for part in re.split(r"\s(?:&&|;|\|\|?)\s", example):
        tokens = shlex.split(part)
        if ">" in tokens:
            tokens = tokens[: tokens.index(">")]
        if tokens and tokens[0] == "invctl":
            out.append(tokens[1:])
    return out


@pytest.mark.parametrize(("name", "cmd"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_examples_parse(name: str, cmd: object) -> None:
    """Every `Example:` is a valid command line: known commands, options and required values."""
    lines = [line for line in _help_source(cmd).splitlines() if line.startswith("Example: ")]
    if not lines:
        pytest.skip("no example (reported by test_help_ends_with_an_example)")
    runs = _invocations(lines[-1].removeprefix("Example: "))
    assert runs, f"the example of `{name}` runs no invctl command"
    for args in runs:
        command = gen.root_command()
        ctx = command.make_context("invctl", list(args), resilient_parsing=False)
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
        while rest and getattr(command, "commands", None):
            sub_name, sub, rest = command.resolve_command(ctx, rest)
            assert sub is not None, f"example of `{name}`: unknown command {sub_name}"
            ctx = sub.make_context(sub_name, list(rest), parent=ctx)
            command = sub
            rest = [*getattr(ctx, "_protected_args", []), *ctx.args] if getattr(command, "commands", None) else []
        assert not getattr(command, "commands", None), f"example of `{name}` stops at a group: {' '.join(args)}"


# --- docs/format.md describes the journal as the code writes it ------------------------------


def _format_md() -> str:
    return (DOCS / "format.md").read_text(encoding="utf-8")


def test_format_lists_the_key_order() -> None:
    from invctl.events import KEY_ORDER

    m = re.search(r"<!-- key-order -->\s*```text\n(.*?)```", _format_md(), re.S)
    assert m, "docs/format.md lost its key-order block"
    assert tuple(m.group(1).split()) == KEY_ORDER, "docs/format.md: the key order differs from invctl.events.KEY_ORDER"


def test_format_examples_are_valid_journal_lines() -> None:
    from invctl import events as E

    blocks = re.findall(r"```jsonl\n(.*?)```", _format_md(), re.S)
    lines = [line for block in blocks for line in block.splitlines() if line.strip()]
    types = set()
    for line in lines:
        ev = E.decoder.decode(line)  # raises on a line invctl would reject
        fields = json.loads(line)
        assert E.to_line(fields).decode().rstrip("\n") == line, f"keys out of the writers' order: {line}"
        types.add(type(ev).__struct_config__.tag)
    assert types == set(E.TYPES), f"docs/format.md has no example line of: {sorted(set(E.TYPES) - types)}"


def test_format_documents_every_event_type_and_key() -> None:
    from invctl import events as E

    text = _format_md()
    for tag, cls in E.KINDS.items():
        assert f"`{tag}`" in text, f"docs/format.md does not mention event type {tag}"
        for field in cls.__struct_fields__:
            key = {"from_": "from"}.get(field, field)
            assert f"`{key}`" in text, f"docs/format.md does not mention key {key} (of {tag})"


def test_format_documents_catalog_fields() -> None:
    from invctl.catalog import Item, Supplier
    from invctl.schema import keys
    from invctl.settings import Settings

    text = _format_md()
    for model in (Item, Supplier, Settings):
        for field in keys(model):
            assert f"`{field}`" in text or f"`[{field}]`" in text, f"docs/format.md does not mention {model.__name__}.{field}"


def test_docs_link_to_existing_files() -> None:
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+?\.md)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
