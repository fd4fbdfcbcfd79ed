"""The console summary: a table per API and suite, the violations by rule, then the verdict."""

from __future__ import annotations

import json
from itertools import groupby

from rich.console import Console
from rich.table import Table
from rich.text import Text

from conformance.reporting import differences_by_rule, documented_by_rule, title
from conformance.results import CaseResult, ExitCode, Outcome, RunResult, Violation
from conformance.rules import Rule

STYLES = {
    Outcome.PASSED: "green",
    Outcome.FAILED: "bold red",
    Outcome.DIFFERS: "cyan",
    Outcome.ERROR: "yellow",
    Outcome.SKIPPED: "dim",
    Outcome.NOT_RUN: "magenta",
}
MAX_SHOWN_PER_RULE = 3


def print_report(result: RunResult, console: Console) -> None:
    _print_violations(result, console)
    _print_differences(result, console)
    _print_not_judged(result, console)
    _print_created(result, console)
    console.print(title(result), style="bold", overflow="fold", soft_wrap=True)
    console.print(summary_table(result))
    _print_unrestored(result, console)
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
    differs = result.count(Outcome.DIFFERS)
    apart = f"; {differs} check(s) differ from our inferences or HTTP hygiene (see above)" if differs else ""
    if result.unrestored:
        return Text(
            f"Data left changed: {len(result.unrestored)} record(s) not as the run first read them "
            f"(see above for the request that puts each back){seed}",
            style="bold yellow",
        )
    if code == ExitCode.CONFORMS:
        if not differs:
            return Text(f"Conforms: nothing flagged{seed}", style="bold green")
        return Text(f"Conforms: no documented rule broken{apart}{seed}", style="bold green")
    if code == ExitCode.VIOLATIONS:
        documented = documented_by_rule(result.cases)
        if not documented:
            return Text(f"Fails --strict: {differs} check(s) differ from our inferences or HTTP hygiene{seed}",
                        style="bold red")  # fmt: skip
        count = sum(len(items) for items in documented.values())
        return Text(f"{count} violation(s) of {len(documented)} documented rule(s){apart}{seed}", style="bold red")
    reason = result.fatal or f"{result.count(Outcome.ERROR)} case(s) could not be judged"
    return Text(f"Could not run: {reason}{seed}", style="bold yellow")


def _print_violations(result: RunResult, console: Console) -> None:
    for rule, items in documented_by_rule(result.cases).items():
        console.rule(Text(f"{rule} — {len(items)} violation(s) of a documented rule", style="bold red"), align="left")
        _print_items(items, console)


def _print_differences(result: RunResult, console: Console) -> None:
    groups = differences_by_rule(result.cases)
    if groups:
        console.rule(Text("differences from our inferences and HTTP hygiene (fail only --strict)", style="cyan"))
    for rule, items in groups.items():
        evidence = items[0][1].evidence.value
        console.rule(Text(f"{rule} — {len(items)} difference(s) [{evidence}]", style="cyan"), align="left")
        _print_items(items, console)


def _print_items(items: list[tuple[CaseResult, Violation]], console: Console) -> None:
    if items:
        for case, violation in items[:MAX_SHOWN_PER_RULE]:
            console.print(
                Text(f"[{case.api}] [{violation.evidence.value}] ", style="bold") + Text(violation.explanation)
            )
            if violation.exchange is not None:
                exchange = violation.exchange
                console.print(Text(f"    {exchange.method} {exchange.url} → {exchange.status}", style="dim"))
        if len(items) > MAX_SHOWN_PER_RULE:
            more = len(items) - MAX_SHOWN_PER_RULE
            console.print(Text(f"    … and {more} more (see the HTML or JSON report)", style="dim"))


def _print_created(result: RunResult, console: Console) -> None:
    if result.created:
        console.rule(Text("records this run created and left in place", style="yellow"), align="left")
        for path in result.created:
            console.print(Text(f"    {path}", style="yellow"))


def _print_unrestored(result: RunResult, console: Console) -> None:
    """The partner's data the run left changed: each record, its members, and the request that puts them back."""
    if not result.unrestored:
        return
    console.rule(Text("DATA LEFT CHANGED — put these records back", style="bold yellow"), align="left")
    for record in result.unrestored:
        console.print(Text(f"[{record.api}] {record.path}", style="bold yellow"))
        for member, (first, now) in record.members.items():
            console.print(Text(f"    {member}: was {_show(first)}, now {_show(now)}"))
        if record.reason:
            console.print(Text(f"    writing it back failed: {record.reason}", style="dim"))
        if record.request:
            console.print(Text("    the request that would put it back:", style="yellow"))
            console.print(Text("\n".join(f"      {line}" for line in record.request.splitlines())))


def _show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


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
    table = Table(title=f"Rules of {api}: {len(rules)}, {unchecked} checked by nothing", show_lines=True)
    table.add_column("result")
    table.add_column("rule", overflow="fold", min_width=max((len(rule.id) for rule in rules), default=4))
    table.add_column("class")
    table.add_column("statement (source)")
    table.add_column("checked by")
    for rule in rules:
        style = (
            "bold red"
            if rule.result == "unchecked"
            else STYLES.get(Outcome(rule.result), "")
            if rule.result in {o.value for o in Outcome}
            else ""
        )
        statement = Text(rule.sentence) + Text(f" ({rule.source})" if rule.source else "", style="dim")
        table.add_row(
            Text(rule.result, style=style),
            rule.id,
            rule.evidence.value,
            statement,
            ", ".join(rule.checked_by) or "nothing",
        )
    console.print(table)
