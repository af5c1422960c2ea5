"""Search commands: `index` (build or update the search index), `search`, `eval`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional, get_args

import typer
from rich.markup import escape
from rich.table import Table

from discovery.cli.common import DataDir, app, console, fail, open_catalogue, progress_bar
from discovery.errors import DiscoveryError
from discovery.index.build import UpdateReport, index_paths, update_index
from discovery.search.evaluate import evaluate, load_judgments
from discovery.search.models import RANGES, Mode, SearchRequest, SearchResults
from discovery.search.service import SearchService

MODES: tuple[str, ...] = get_args(Mode)


def run_index_update(data: Path, model: str | None = None, rebuild: bool = False) -> UpdateReport:
    """Update (or rebuild) the index with a progress bar; shared with `ingest`."""
    catalogue = open_catalogue(data)
    try:
        with progress_bar() as progress:
            task = progress.add_task("Indexing", total=None, current="")

            def report(stage: str, done: int, total: int) -> None:
                progress.update(task, completed=done, total=total, description=stage.capitalize(),
                                current="")

            return update_index(catalogue, data, model=model, rebuild=rebuild, progress=report)
    except DiscoveryError as error:
        raise fail(error) from None
    finally:
        catalogue.close()


def print_update(report: UpdateReport) -> None:
    how = "built from scratch" if report.full else "updated"
    console.print(f"Index {how} with {escape(report.model)}: {report.indexed} records indexed, "
                  f"{report.deleted} removed, {report.encoded} texts encoded (the rest cached); "
                  f"{report.documents} documents, catalogue history {report.seq}, "
                  f"{report.seconds:.1f} s.")


def index_exists(data: Path) -> bool:
    return index_paths(data).meta.exists()


@app.command("index")
def index_command(
        rebuild: Annotated[bool, typer.Option("--rebuild", help="Start from nothing (vectors stay "
                                              "cached)")] = False,
        model: Annotated[Optional[str], typer.Option(help="Embedding model: e5 or minilm "
                                                     "(changing it rebuilds)")] = None,
        data: DataDir = Path("data")) -> None:
    """Build the search index, or update it with what changed in the catalogue since last time."""
    print_update(run_index_update(data, model, rebuild))


def parse_filters(values: list[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for value in values:
        name, sep, wanted = value.partition("=")
        if not sep or not name.strip() or not wanted.strip():
            raise fail(DiscoveryError(f"--filter {value!r} is not NAME=VALUE",
                                      hint="e.g. --filter country=Germany --filter kind=study"))
        filters.setdefault(name.strip(), []).append(wanted.strip())
    return filters


def parse_ranges(values: list[str]) -> dict[str, tuple[float | None, float | None]]:
    ranges: dict[str, tuple[float | None, float | None]] = {}
    for value in values:
        name, _, span = value.partition("=")
        low, colon, high = span.partition(":")
        try:
            if name not in RANGES or not colon:
                raise ValueError
            ranges[name] = (float(low) if low.strip() else None, float(high) if high.strip() else None)
        except ValueError:
            raise fail(DiscoveryError(f"--range {value!r} is not NAME=LOW:HIGH",
                                      hint=f"NAME is one of {', '.join(RANGES)}; "
                                           "e.g. --range year=2000:2010 or --range sample_size=1000:")
                       ) from None
    return ranges


@app.command("search")
def search_command(
        query: Annotated[str, typer.Argument(help="What to look for, in plain words.")] = "",
        filter_: Annotated[Optional[list[str]], typer.Option(
            "--filter", help="NAME=VALUE, repeatable: kind, source, catalogue, country, language, "
                             "topic, design, resource_type, funder")] = None,
        range_: Annotated[Optional[list[str]], typer.Option(
            "--range", help="NAME=LOW:HIGH, repeatable: year, age, sample_size, variables")] = None,
        sort: Annotated[str, typer.Option(help="relevance, recent, sample_size or variables")] = "relevance",
        mode: Annotated[str, typer.Option(help="hybrid, lexical or semantic")] = "hybrid",
        weight: Annotated[float, typer.Option(help="Semantic weight in hybrid mode, 0..1")] = 0.5,
        limit: Annotated[int, typer.Option(help="Hits per page (at most 100)")] = 10,
        cursor: Annotated[Optional[str], typer.Option(help="next_cursor of the previous page")] = None,
        similar: Annotated[Optional[str], typer.Option("--similar", help="Records like this id")] = None,
        flat: Annotated[bool, typer.Option("--flat", help="Do not group variables under studies")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="The full result as JSON")] = False,
        data: DataDir = Path("data")) -> None:
    """Search studies, datasets, variables and questions: hybrid keyword + meaning, with facets."""
    try:
        request = SearchRequest(q=query, mode=mode, semantic_weight=weight,
                                filters=parse_filters(filter_ or []), ranges=parse_ranges(range_ or []),
                                sort=sort, size=limit, cursor=cursor, similar_to=similar, group=not flat)
    except ValueError as error:  # pydantic's message names the field and the allowed values
        raise fail(DiscoveryError(f"bad search option: {error}".replace("\n", " "))) from None
    try:
        service = SearchService(data)
        results = service.search(request)
    except DiscoveryError as error:
        raise fail(error) from None
    if as_json:
        sys.stdout.write(results.model_dump_json(indent=1) + "\n")
    else:
        print_results(results)


def print_results(results: SearchResults) -> None:
    shown = len(results.hits)
    console.print(f"[bold]{results.total}[/bold] hits [dim]({results.took_ms:.0f} ms, "
                  f"{escape(results.model)})[/dim]")
    for n, hit in enumerate(results.hits, start=1):
        console.print(f"\n[bold]{n}. {escape(hit.title)}[/bold]  [dim]{hit.kind} · {escape(hit.id)} · "
                      f"score {hit.score:.3f}[/dim]", soft_wrap=True)
        console.print(f"   [italic]{escape(hit.explanation.summary)}[/italic]", soft_wrap=True)
        for variable in hit.variables:
            name = f"{escape(variable.name)}: " if variable.name else ""
            console.print(f"     • {name}{escape(variable.label[:120])}  "
                          f"[dim]{escape(variable.explanation.summary)}[/dim]", soft_wrap=True)
        more = hit.explanation.matched_variables - len(hit.variables)
        if more > 0:
            console.print(f"     [dim]… {more} more matching[/dim]")
    facets = [f"{name}: " + ", ".join(f"{escape(v.value)} {v.count}" for v in values[:5])
              for name, values in results.facets.items() if values]
    if facets:
        console.print("\n[bold]Facets[/bold]")
        for line in facets:
            console.print(f"  {line}", soft_wrap=True)
    if results.next_cursor:
        console.print(f"\n[dim]{shown} shown; next page: --cursor {results.next_cursor}[/dim]")


@app.command("eval")
def eval_command(
        judgments: Annotated[Path, typer.Argument(help="TSV with columns query, id, grade (0-2)")],
        mode: Annotated[str, typer.Option(help="hybrid, lexical, semantic or all")] = "all",
        weight: Annotated[float, typer.Option(help="Semantic weight in hybrid mode, 0..1")] = 0.5,
        per_query: Annotated[bool, typer.Option("--per-query", help="Also list each query")] = False,
        data: DataDir = Path("data")) -> None:
    """nDCG@10, MRR and recall@10 of the search modes on graded judgments, side by side."""
    modes = MODES if mode == "all" else (mode,)
    if any(m not in MODES for m in modes):
        raise fail(DiscoveryError(f"unknown mode {mode!r}", hint="hybrid, lexical, semantic or all"))
    try:
        judged = load_judgments(judgments)
        service = SearchService(data)
        results = {m: evaluate(lambda r: [h.id for h in service.search(r).hits], judged, m, weight)
                   for m in modes}
    except DiscoveryError as error:
        raise fail(error) from None
    queries = len(next(iter(results.values()))[1])
    table = Table(title=f"{queries} queries, {escape(service.model)}")
    table.add_column("metric")
    for m in modes:
        table.add_column(m, justify="right")
    for metric, label in (("ndcg", "nDCG@10"), ("mrr", "MRR"), ("recall", "recall@10")):
        table.add_row(label, *(f"{getattr(results[m][0], metric):.3f}" for m in modes))
    console.print(table)
    if per_query:
        detail = Table(title="nDCG@10 per query")
        detail.add_column("query")
        for m in modes:
            detail.add_column(m, justify="right")
        for query in results[modes[0]][1]:
            detail.add_row(escape(query), *(f"{results[m][1][query].ndcg:.2f}" for m in modes))
        console.print(detail)
