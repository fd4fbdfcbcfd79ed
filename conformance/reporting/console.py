"""The console summary: a table per API and suite, the violations by rule, then the verdict."""

from __future__ import annotations

from itertools import groupby

from rich.console import Console
from rich.table import Table
from rich.text import Text

from conformance.reporting import title, violations_by_rule
from conformance.results import ExitCode, Outcome, RunResult
from conformance.rules import Rule

STYLES = {
    Outcome.PASSED: "green",
    Outcome.FAILED: "bold red",
    Outcome.ERROR: "yellow",
    Outcome.SKIPPED: "dim",
    Outcome.NOT_RUN: "magenta",
}
MAX_SHOWN_PER_RULE = 3


def print_report(result: RunResult, console: Console) -> None:
    _print_violations(result, console)
    _print_not_judged(result, console)
    console.print(title(result), style="bold", overflow="fold", soft_wrap=True)
    console.print(summary_table(result))
    console.print(verdict(result))


def summary_table(result: RunResult) -> Table:
    table = Table(title="Summary", title_justify="left")
    table.add_column("API")
    table.add_column("suite")
    for outcome in Outcome:
        table.add_column(outcome.value, justify="right", style=STYLES[outcome])
    ordered = sorted(result.cases, key=lambda case: (case.api, case.suite.value))
    for (api, suite), group in groupby(ordered, key=lambda case: (case.api, case.suite.value)):
        cases = list(group)
        table.add_row(api, suite, *(str(result.count(outcome, cases)) for outcome in Outcome))
    table.add_section()
    table.add_row("all", "", *(str(result.count(outcome)) for outcome in Outcome))
    return table


def verdict(result: RunResult) -> Text:
    seed = f" (seed {result.seed}, {result.duration:.1f}s)" if result.seed is not None else ""
    code = result.exit_code
    if code == ExitCode.CONFORMS:
        return Text(f"Conforms: nothing flagged{seed}", style="bold green")
    if code == ExitCode.VIOLATIONS:
        rules = len(violations_by_rule(result.cases))
        return Text(f"{len(result.violations)} violation(s) of {rules} rule(s){seed}", style="bold red")
    reason = result.fatal or f"{result.count(Outcome.ERROR)} case(s) could not be judged"
    return Text(f"Could not run: {reason}{seed}", style="bold yellow")


def _print_violations(result: RunResult, console: Console) -> None:
    for rule, items in violations_by_rule(result.cases).items():
        console.rule(Text(f"{rule} — {len(items)} violation(s)", style="bold red"), align="left")
        for case, violation in items[:MAX_SHOWN_PER_RULE]:
            console.print(Text(f"[{case.api}] ", style="bold") + Text(violation.message))
            if violation.exchange is not None:
                exchange = violation.exchange
                console.print(Text(f"    {exchange.method} {exchange.url} → {exchange.status}", style="dim"))
        if len(items) > MAX_SHOWN_PER_RULE:
            more = len(items) - MAX_SHOWN_PER_RULE
            console.print(Text(f"    … and {more} more (see the HTML or JSON report)", style="dim"))


def _print_not_judged(result: RunResult, console: Console) -> None:
    errors = [case for case in result.cases if case.outcome == Outcome.ERROR]
    if errors:
        console.rule(Text("could not be judged", style="yellow"), align="left")
        for case in errors:
            console.print(Text(f"[{case.api}] {case.name}: ", style="yellow") + Text(case.detail))
    for outcome in (Outcome.NOT_RUN, Outcome.SKIPPED):
        cases = [case for case in result.cases if case.outcome == outcome]
        if cases:
            console.print(Text(f"{len(cases)} {outcome.value}:", style=STYLES[outcome]))
            for case in cases:
                console.print(Text(f"    [{case.api}] {case.name}: {case.detail}", style=STYLES[outcome]))


def print_rules(api: str, rules: list[Rule], console: Console) -> None:
    """The rule matrix of one API: rule, the sentence it rests on, what checks it; unchecked first."""
    unchecked = sum(1 for rule in rules if rule.result == "unchecked")
    table = Table(title=f"Rules of {api}: {len(rules)} documented, {unchecked} checked by nothing", show_lines=False)
    for column in ("result", "rule", "documented as", "checked by"):
        table.add_column(column)
    for rule in rules:
        style = (
            "bold red"
            if rule.result == "unchecked"
            else STYLES.get(Outcome(rule.result), "")
            if rule.result in {o.value for o in Outcome}
            else ""
        )
        table.add_row(Text(rule.result, style=style), rule.id, rule.sentence, ", ".join(rule.checked_by) or "nothing")
    console.print(table)
