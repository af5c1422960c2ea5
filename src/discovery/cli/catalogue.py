"""Catalogue commands: ingest, harvest, show, list, stats, quarantine, migrate.

Failures are printed one per line (file, record, reason, hint) and make the exit code non-zero.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.markup import escape
from rich.table import Table

from discovery.catalogue.backends import index_folder, migrate
from discovery.catalogue.ingest import IngestReport, ingest
from discovery.catalogue.protocol import CatalogueStore
from discovery.cli.common import DataDir, app, console, errors, fail, open_catalogue, progress_bar
from discovery.errors import DiscoveryError
from discovery.harvest.files import documents, expand
from discovery.harvest.http import Allowance
from discovery.harvest.oai import harvest_oai, split_records
from discovery.index.generations import index_root, published_meta, tidy
from discovery.linking import link_catalogue
from discovery.linking.jsonld import item_jsonld
from discovery.model import Kind, Output, Predicate, Project, Record
from discovery.sources.base import Document
from discovery.sources.oai import oai_root, parse_datestamp, response_date

harvest_app = typer.Typer(help="Harvest from remote endpoints.", no_args_is_help=True)
app.add_typer(harvest_app, name="harvest")
CHILD_PREDICATES = (Predicate.HAS_VARIABLE, Predicate.HAS_QUESTION, Predicate.HAS_OUTPUT,
                    Predicate.HAS_PART)
SHOWN_CHILDREN = 25
AllowHosts = Annotated[Optional[list[str]], typer.Option(
    "--allow-host", help="A host name, address or network (CIDR) that may be fetched although it "
                         "is not public, e.g. 127.0.0.1 or 10.1.0.0/16; repeatable")]
AllowPrivate = Annotated[bool, typer.Option(
    "--allow-private", help="Fetch from private, loopback and link-local addresses too "
                            "(cloud metadata addresses only through --allow-host)")]


def print_report(report: IngestReport) -> None:
    for line in report.failures:
        errors.print(escape(line), style="red", soft_wrap=True)
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.kinds.items())) or "no records"
    console.print(
        f"{report.documents} documents: {report.stored} stored, {len(report.failures)} failures "
        f"quarantined. Records: {kinds}. Created {report.created}, updated {report.updated}, "
        f"unchanged {report.unchanged}, deleted {report.deleted}.")


@app.command("ingest")
def ingest_command(targets: Annotated[list[str], typer.Argument(help="Files, folders, globs or URLs.")],
                   allow_host: AllowHosts = None, allow_private: AllowPrivate = False,
                   data: DataDir = "data") -> None:
    """Parse and store records from files, folders, glob patterns or HTTP(S) URLs (public
    addresses only, unless allowed)."""
    catalogue = open_catalogue(data)
    paths = expand(targets)
    allow = Allowance.of(allow_host or (), private=allow_private)
    with progress_bar() as progress:
        task = progress.add_task("Ingesting", total=len(paths), current="")
        report = ingest(catalogue, documents(paths, allow=allow),
                        on_document=lambda loc: progress.update(task, advance=1,
                                                                current=Path(loc).name[:40]))
    print_report(report)
    refresh_derived(catalogue, data, report)
    raise typer.Exit(0 if report.ok else 1)


@harvest_app.command("oai")
def harvest_oai_command(
        url: Annotated[str, typer.Argument(help="Base URL of the OAI-PMH endpoint.")],
        metadata_prefix: Annotated[str, typer.Option("--prefix", help="metadataPrefix")] = "oai_ddi25",
        set_spec: Annotated[Optional[str], typer.Option("--set", help="setSpec to harvest")] = None,
        from_: Annotated[Optional[str], typer.Option("--from", help="Only records changed since "
                                                     "(default: since the last harvest)")] = None,
        until: Annotated[Optional[str], typer.Option("--until")] = None,
        full: Annotated[bool, typer.Option("--full", help="Ignore the last harvest date")] = False,
        allow_host: AllowHosts = None, allow_private: AllowPrivate = False,
        data: DataDir = "data") -> None:
    """Harvest an OAI-PMH endpoint: pages through resumption tokens, applies deletions, and
    remembers when it ran so the next run fetches only what changed."""
    catalogue = open_catalogue(data)
    since = from_ or (None if full else catalogue.last_harvest(url, metadata_prefix, set_spec))
    if since:
        console.print(f"Harvesting records changed since {since}")
    pages = harvest_oai(url, metadata_prefix=metadata_prefix, set_spec=set_spec,
                        from_=parse_datestamp(since) if since else None,
                        until=parse_datestamp(until) if until else None,
                        allow=Allowance.of(allow_host or (), private=allow_private))
    first_response: list[str] = []
    with progress_bar() as progress:
        task = progress.add_task("Harvesting", total=None, current=url)
        records = split_pages(remember_response_date(pages, first_response), url, metadata_prefix)
        report = ingest(catalogue, records,
                        on_document=lambda loc: progress.update(task, advance=1))
    print_report(report)
    refresh_derived(catalogue, data, report)
    if report.ok and not until and first_response:
        catalogue.mark_harvest(url, metadata_prefix, set_spec, first_response[0])
    raise typer.Exit(0 if report.ok else 1)


def refresh_derived(catalogue: CatalogueStore, data: str, report: IngestReport) -> None:
    """Links and the search index are derived from the catalogue: bring both up to date. Also
    when nothing changed this time but the published index has not read the catalogue's whole
    history: an earlier run was killed after storing records, before its index was published.
    With nothing to do, what killed index updates left is still removed."""
    changed = bool(report.created or report.updated or report.deleted)
    beside = index_folder(data)  # None on PostgreSQL, whose index is in its own tables
    if beside:
        index = published_meta(index_root(beside))
    else:
        from discovery.index.postgres_build import published_search_meta  # heavy imports
        index = published_search_meta(data)
    last = catalogue.last_seq()
    if not changed and (index is None or index.get("seq", 0) >= last):
        for folder in tidy(index_root(beside)) if beside and index else []:
            console.print(f"Removed {folder}: an index update that was interrupted before it "
                          f"finished (the previous index kept serving).")
        return
    if not changed and index is not None:  # else returned above
        console.print(f"The search index has read the catalogue's history up to {index['seq']} of "
                      f"{last} (an earlier run was interrupted): linking and indexing the rest.")
    console.print(link_catalogue(catalogue).summary())
    if index is not None:
        from discovery.cli.search import print_update, run_index_update  # heavy imports
        print_update(run_index_update(str(beside) if beside else data))


def remember_response_date(pages: Iterator[Document],
                           into: list[str]) -> Iterator[Document | DiscoveryError]:
    """Pass pages through, noting the repository's clock on the first one (the next `from`),
    and turn a harvest failure into an item the ingest reports instead of a crash."""
    try:
        for page in pages:
            if not into:
                try:
                    stamp = response_date(oai_root(page))
                except DiscoveryError:
                    stamp = None
                if stamp:
                    into.append(stamp)
            yield page
    except DiscoveryError as error:
        yield error


def split_pages(pages: Iterator[Document | DiscoveryError], url: str,
                metadata_prefix: str) -> Iterator[Document | DiscoveryError]:
    for page in pages:
        if isinstance(page, DiscoveryError):
            yield page
        else:
            yield from split_records(page, url, metadata_prefix)


@app.command()
def show(record_id: Annotated[str, typer.Argument(help="Id, DOI, study number or grant reference.")],
         format: Annotated[str, typer.Option(
             "--format", help="text, json, jsonld, or raw (the source document as fetched)")] = "text",
         data: DataDir = "data") -> None:
    """Show one record with its relations, sources and aliases."""
    catalogue = open_catalogue(data)
    try:
        record = catalogue.get(record_id)
    except DiscoveryError as error:
        raise fail(error, 1) from None
    relations = catalogue.relations(record.id)
    if format == "jsonld":
        console.print_json(json.dumps(item_jsonld(catalogue, record.id), ensure_ascii=False))
    elif format == "json":
        payload = {"record": record.model_dump(mode="json"),
                   "aliases": catalogue.aliases_of(record.id),
                   "relations": [r.model_dump(mode="json") for r in relations],
                   "sources": [{"location": s.location, "source": s.source, "catalogue": s.catalogue,
                                "record_key": s.record_key, "fetched_at": s.fetched_at}
                               for s in catalogue.sources(record.id)],
                   "history": [{"at": at, "action": action, "location": loc}
                               for at, action, loc in catalogue.history(record.id)]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    elif format == "text":
        show_text(catalogue, record)
    elif format == "raw":
        sys.stdout.buffer.write(catalogue.raw_document(record.provenance.content_hash) or b"")
    else:
        errors.print(f"unknown format {format!r}: use text, json, jsonld or raw", style="red")
        raise typer.Exit(2)


def show_text(catalogue: CatalogueStore, record: Record) -> None:
    console.print(f"[bold]{escape(record.title)}[/bold]  [dim]{record.kind.value} · {record.id}[/dim]")
    table = Table.grid(padding=(0, 2))
    table.add_column(style="cyan", no_wrap=True)
    table.add_column()
    for label, value in record_fields(record):
        table.add_row(label, escape(value))
    console.print(table)
    relations = catalogue.relations(record.id)
    neighbours = catalogue.titles([r.object for r in relations] + [r.subject for r in relations])
    children = [r for r in relations if r.subject == record.id and r.predicate in CHILD_PREDICATES]
    for predicate in CHILD_PREDICATES:
        group = sorted((r for r in children if r.predicate == predicate),
                       key=lambda r: natural_key(r.object))
        if group:
            console.print(f"\n[bold]{predicate.value}[/bold] ({len(group)})")
            for relation in group[:SHOWN_CHILDREN]:
                show_child(catalogue, relation.object, neighbours)
            if len(group) > SHOWN_CHILDREN:
                console.print(f"  … {len(group) - SHOWN_CHILDREN} more "
                              f"(discovery list --kind … or --format json)")
    others = [r for r in relations if r not in children]
    if others:
        console.print("\n[bold]Links[/bold]")
        for r in others:
            other = r.object if r.subject == record.id else r.subject
            arrow = "→" if r.subject == record.id else "←"
            kind, title = neighbours.get(other, ("?", "(not in catalogue)"))
            note = f" [dim]confidence {r.confidence:.2f}: {escape(r.evidence)}[/dim]" if r.evidence else ""
            console.print(f"  {arrow} {r.predicate.value} {kind} {escape(other)}: "
                          f"{escape(title)}{note}")
    console.print("\n[bold]Sources[/bold]")
    for source in catalogue.sources(record.id):
        where = f" ({escape(source.catalogue)})" if source.catalogue else ""
        console.print(f"  {source.source}{where}: {escape(source.location)}  "
                      f"[dim]fetched {source.fetched_at}[/dim]")
    aliases = catalogue.aliases_of(record.id)
    if aliases:
        console.print(f"[bold]Aliases[/bold]  {escape(', '.join(aliases))}")
    changes = "; ".join(f"{action} {at}" for at, action, _ in catalogue.history(record.id))
    console.print(f"[bold]History[/bold]  {changes}")


def natural_key(text: str) -> list[int | str]:
    """`x.engagement-2` before `x.engagement-10`."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def show_child(catalogue: CatalogueStore, child_id: str, neighbours: dict[str, tuple[str, str]]) -> None:
    kind, title = neighbours.get(child_id, ("?", "(not in catalogue)"))
    console.print(f"  • {escape(child_id)}: {escape(title)}")
    if kind == Kind.OUTPUT.value:
        output = catalogue.get(child_id)
        assert isinstance(output, Output)
        for key, value in output.fields.items():
            value = value.replace("\n", "\n" + " " * (8 + len(key)))
            console.print(f"      [cyan]{key}[/cyan]: {escape(value)}", soft_wrap=True)


def record_fields(record: Record) -> list[tuple[str, str]]:
    """Label and text of every filled field, in reading order, each text shown once (a single
    language's `titles` repeat `title`; topics often repeat keywords; an abstract its description)."""
    skip = {"id", "kind", "provenance", "extra", "fields"}
    if isinstance(record, Project) and record.abstract:
        skip |= {"description", "descriptions"}  # GtR's abstract is the description
    shown = {record.title}
    rows = []
    for name, value in record.__dict__.items():
        if name in skip or value in (None, "", [], {}):
            continue
        if isinstance(value, list):
            value = [v for v in value if getattr(v, "value", None) not in shown]
        text = _as_text(value)
        if text and text not in shown:
            shown.add(text)
            rows.append((name.replace("_", " "), text))
    return rows[1:] if rows and rows[0][0] == "title" else rows


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_as_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_as_text(v)}" for k, v in value.items())
    if hasattr(value, "model_dump"):
        parts = {k: v for k, v in value.model_dump().items() if v not in (None, "", [], False)}
        if set(parts) <= {"value", "lang"} and "value" in parts:
            return parts["value"] + (f" [{parts['lang']}]" if parts.get("lang") else "")
        return ", ".join(f"{k}={v}" for k, v in parts.items())
    return str(value)


@app.command("list")
def list_command(kind: Annotated[Optional[str], typer.Option(help="Only this kind")] = None,
                 source: Annotated[Optional[str], typer.Option(help="Only records from paths or "
                                                               "URLs starting with this")] = None,
                 format: Annotated[str, typer.Option("--format", help="tsv or json")] = "tsv",
                 limit: Annotated[Optional[int], typer.Option(help="At most this many")] = None,
                 data: DataDir = "data") -> None:
    """List records: id, kind, title and source path of each."""
    if kind and kind not in {k.value for k in Kind}:
        errors.print(f"unknown kind {kind!r}: one of {', '.join(k.value for k in Kind)}", style="red")
        raise typer.Exit(2)
    catalogue = open_catalogue(data)
    rows = catalogue.list_records(kind, source, limit)
    out = sys.stdout
    if format == "json":
        out.write(json.dumps([{"id": i, "kind": k, "title": t, "source": s} for i, k, t, s in rows],
                             ensure_ascii=False, indent=1) + "\n")
    else:
        out.write("id\tkind\ttitle\tsource\n")
        for row in rows:
            out.write("\t".join(" ".join(str(cell).split()) for cell in row) + "\n")


@app.command("migrate")
def migrate_command(data: DataDir = "data") -> None:
    """Create or upgrade the catalogue's schema: a PostgreSQL catalogue needs it before its first
    use and after Discovery is upgraded (a folder's SQLite catalogue upgrades itself)."""
    try:
        console.print(escape(migrate(data)), soft_wrap=True)
    except DiscoveryError as error:
        raise fail(error) from None


@app.command()
def stats(data: DataDir = "data") -> None:
    """Counts of records by kind, by source format and by catalogue."""
    catalogue = open_catalogue(data)
    totals = catalogue.totals()
    console.print(", ".join(f"{v} {k}" for k, v in totals.items()))
    by_kind = Table(title="Records by kind")
    by_kind.add_column("kind")
    by_kind.add_column("records", justify="right")
    for kind, count in catalogue.counts_by_kind().items():
        by_kind.add_row(kind, str(count))
    console.print(by_kind)
    by_source = Table(title="Records by source format")
    for column in ("source", "kind", "records"):
        by_source.add_column(column, justify="right" if column == "records" else "left")
    for source, kind, count in catalogue.counts_by_source():
        by_source.add_row(source, kind, str(count))
    console.print(by_source)
    by_catalogue = Table(title="Records by catalogue")
    by_catalogue.add_column("catalogue")
    by_catalogue.add_column("records", justify="right")
    for name, count in catalogue.counts_by_catalogue():
        by_catalogue.add_row(escape(name), str(count))
    console.print(by_catalogue)


@app.command()
def quarantine(raw: Annotated[Optional[int], typer.Option(
                   "--raw", help="Write the raw bytes of entry N to standard output")] = None,
               data: DataDir = "data") -> None:
    """What failed to ingest, numbered, with the reason; `--raw N` gives back the bytes kept."""
    catalogue = open_catalogue(data)
    if raw is not None:
        try:
            content = catalogue.quarantined_raw(raw)
        except DiscoveryError as error:
            raise fail(error, 1) from None
        sys.stdout.buffer.write(content or b"")
        return
    rows = catalogue.quarantined()
    for number, at, location, record, reason, hint in rows:
        line = DiscoveryError(reason, file=location, record=record, hint=hint).one_line()
        console.print(f"[bold]{number}[/bold] [dim]{at}[/dim] {escape(line)}", soft_wrap=True)
    console.print(f"{len(rows)} quarantined")
