"""Linking commands: `link` (re)derives clusters and grant edges; `links ID` shows a record's
neighbourhood with the evidence and confidence of every edge, and its cluster field by field."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from discovery.cli.common import DataDir, app, console, fail, open_catalogue
from discovery.errors import DiscoveryError
from discovery.linking import link_catalogue
from discovery.linking.neighbourhood import CONTAINMENT, Edge, Neighbourhood, neighbourhood

SHOWN_CONTAINED = 5


@app.command("link")
def link_command(data: DataDir = "data") -> None:
    """Find records that are the same study or grant, and link data to grants and outputs.
    Safe to re-run after any ingest: earlier links are replaced, never duplicated."""
    catalogue = open_catalogue(data)
    try:
        with console.status("Linking") as status:
            report = link_catalogue(catalogue, on_step=lambda step: status.update(f"Linking: {step}"))
    except DiscoveryError as error:
        raise fail(error) from None
    console.print(escape(report.summary()))
    for line in report.kept_apart:
        console.print(f"  kept apart: {escape(line)}")


@app.command("links")
def links_command(record_id: Annotated[str, typer.Argument(help="Id, DOI, study number or grant reference.")],
                  as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
                  data: DataDir = "data") -> None:
    """Show a record's neighbourhood: edges in and out with evidence and confidence, and the
    cluster of records that are the same thing, with the source of every field."""
    catalogue = open_catalogue(data)
    try:
        hood = neighbourhood(catalogue, record_id)
    except DiscoveryError as error:
        raise fail(error, code=1) from None
    if as_json:
        sys.stdout.write(json.dumps(hood.to_json(), ensure_ascii=False, indent=2) + "\n")
        return
    print_neighbourhood(hood)


def print_neighbourhood(hood: Neighbourhood) -> None:
    console.print(f"[bold]{escape(hood.title)}[/bold]  ({hood.kind}, {escape(hood.id)})")
    print_edges([e for e in hood.edges if e.predicate not in CONTAINMENT])
    contained: dict[str, list[Edge]] = {}
    for edge in hood.edges:
        if edge.predicate in CONTAINMENT:
            contained.setdefault(edge.label, []).append(edge)
    for label, edges in contained.items():
        examples = ", ".join(escape(e.other_title or e.other) for e in edges[:SHOWN_CONTAINED])
        more = f", … ({len(edges)} in all)" if len(edges) > SHOWN_CONTAINED else ""
        console.print(f"{label}: {examples}{more}")
    print_cluster(hood)


def print_edges(edges: list[Edge]) -> None:
    if not edges:
        console.print("No links.")
        return
    table = Table(title="Links", show_lines=False, expand=True)
    for column in ("link", "record", "confidence", "evidence"):
        table.add_column(column, overflow="fold")
    for edge in edges:
        other = f"{escape(edge.other_title or '(not in the catalogue)')}\n[dim]{escape(edge.other)}[/dim]"
        arrow = "→" if edge.direction == "out" else "←"
        table.add_row(f"{arrow} {edge.label}", other, f"{edge.confidence:.2f}",
                      escape(edge.evidence or "stated by the source"))
    console.print(table)


def print_cluster(hood: Neighbourhood) -> None:
    view = hood.cluster
    if len(view.members) < 2 and len(view.sources) < 2:
        return
    console.print(f"[bold]Cluster[/bold] of {len(view.members)} record(s) from "
                  f"{len(view.sources)} source(s); canonical {escape(view.canonical)}")
    for member in view.members:
        if member.id != view.canonical:
            console.print(f"  same as: {escape(member.title)} ({escape(member.id)}), "
                          f"{member.confidence:.2f}: {escape(member.evidence or '')}")
    for number, source in enumerate(view.sources, start=1):
        console.print(f"  [{number}] {escape(source.location)} ({escape(source.source)}, "
                      f"{escape(source.catalogue or 'catalogue not stated')})")
    table = Table(title="Fields by source", expand=False)
    for column in ("field", "from", "other values in"):
        table.add_column(column)
    for origin in view.fields:
        table.add_row(origin.field, ", ".join(f"[{i + 1}]" for i in origin.sources),
                      ", ".join(f"[{i + 1}]" for i in origin.differing))
    console.print(table)
