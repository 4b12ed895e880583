"""invctl check."""

from typing import Annotated

import typer

from invctl.cli.common import FormatOpt, LedgerOpt, get_ledger


def check(
    repair: Annotated[bool, typer.Option("--repair", help="Set torn last lines aside (to .invctl/torn/) first.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    fmt: FormatOpt = "table",
    ledger: LedgerOpt = None,
) -> None:
    """Validate the whole ledger: file:line for every problem; exit 1 when there are errors.

    Suitable as a git pre-commit hook.

    Example: invctl check --repair
    """
    from invctl.check import check_ledger
    from invctl.check import repair as do_repair
    from invctl.render import emit, message
    from invctl.reports import Column, Report

    led = get_ledger(ledger)
    if repair:
        for note in do_repair(led):
            message(note)
    problems = check_ledger(led)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if fmt == "table":
        for p in problems:
            typer.echo(str(p))
    else:
        rows = [{"file": p.path, "line": p.line, "severity": p.severity, "message": p.message} for p in problems]
        cols = [Column("file", "File"), Column("line", "Line", "int"), Column("severity", "Severity"), Column("message", "Message")]
        emit(Report("Problems", cols, rows), fmt, led.settings.places)
    if problems:
        message(f"{errors} error(s), {warnings} warning(s)")
    else:
        message("ledger OK")
    if errors or (strict and warnings):
        raise typer.Exit(1)
