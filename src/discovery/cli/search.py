"""Search commands: `index` (build or update the search index), `search`, `eval`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional, get_args

import typer
from rich.markup import escape
from rich.table import Table

from discovery.catalogue.backends import cache_folder
from discovery.catalogue.postgres_connection import is_database_url
from discovery.cli.common import (CACHE_DIR, CacheDir, DataDir, app, console, fail, open_catalogue,
                                  progress_bar)
from discovery.errors import DiscoveryError
from discovery.harmonise.build import BankReport, encode_item_bank
from discovery.index.build import UpdateReport, update_index
from discovery.search.evaluate import Interval, Scores, evaluate, interval, load_judgments, ratio_interval
from discovery.search.models import Mode, SearchResults
from discovery.search.backends import open_searcher
from discovery.server.search_params import search_request

MODES: tuple[Mode, ...] = get_args(Mode)


def run_index_update(data: str, model: str | None = None, rebuild: bool = False,
                     cache_dir: Path | None = None) -> UpdateReport:
    """Update (or rebuild) the index with a progress bar; shared with `ingest`. A database keeps
    its index in its own tables, and its embedding cache in its cache folder."""
    catalogue = open_catalogue(data)
    try:
        with progress_bar() as progress:
            task = progress.add_task("Indexing", total=None, current="")

            def report(stage: str, done: int, total: int) -> None:
                progress.update(task, completed=done, total=total, description=stage.capitalize(),
                                current="")

            if is_database_url(data):
                from discovery.index.postgres_build import update_postgres_index
                cache = cache_folder(data, cache_dir or os.environ.get(CACHE_DIR))  # ingest: the variable
                return update_postgres_index(catalogue, data, cache, model, rebuild, progress=report)
            return update_index(catalogue, Path(data), model=model, rebuild=rebuild, progress=report)
    except DiscoveryError as error:
        raise fail(error) from None
    finally:
        catalogue.close()


def run_bank_encoding(data: str, cache_dir: Path | None = None) -> BankReport:
    """Encode the catalogue's item bank for harmonising into the cache the matcher reads, with a
    progress bar, so the first harmonise only reads it. Not run by `ingest`'s index update: that
    stays quick, and what it adds to the bank is encoded by the next harmonise or index run."""
    cache = cache_folder(data, cache_dir or os.environ.get(CACHE_DIR))
    try:
        with progress_bar() as progress:
            task = progress.add_task("Encoding the item bank", total=None, current="")
            return encode_item_bank(data, cache, on_batch=lambda n: progress.update(task, advance=n))
    except DiscoveryError as error:
        raise fail(error) from None


def print_bank(report: BankReport) -> None:
    if report.texts:
        console.print(f"Item bank for harmonising: {report.texts} English question texts, "
                      f"{report.encoded} vectors encoded (the rest cached), {report.seconds:.1f} s.")


def print_update(report: UpdateReport) -> None:
    for folder in report.interrupted:
        console.print(f"Removed {folder}: an index update that was interrupted before it finished "
                      f"(the previous index kept serving).")
    how = "built from scratch" if report.full else "updated"
    where = f", published as {report.generation}" if report.generation else ", nothing to publish"
    console.print(f"Index {how} with {escape(report.model)}: {report.indexed} records indexed, "
                  f"{report.deleted} removed, {report.encoded} texts encoded (the rest cached); "
                  f"{report.documents} documents, catalogue history {report.seq}{where}, "
                  f"{report.seconds:.1f} s.")


@app.command("index")
def index_command(
        rebuild: Annotated[bool, typer.Option("--rebuild", help="Start from nothing (vectors stay "
                                              "cached)")] = False,
        model: Annotated[Optional[str], typer.Option(help="Embedding model: e5, minilm, or "
                                                     "e5+minilm (MiniLM joins e5 on English "
                                                     "queries; new indexes) (changing it "
                                                     "rebuilds)")] = None,
        item_bank: Annotated[bool, typer.Option(
            help="Also encode the catalogue's questions as the item bank harmonising reads them "
                 "with, so the first harmonise need not (it took minutes)")] = True,
        cache_dir: CacheDir = None,
        data: DataDir = "data") -> None:
    """Build the search index, or update it with what changed in the catalogue since last time
    (on a postgresql:// target, inside the database); then the item bank for harmonising."""
    print_update(run_index_update(data, model, rebuild, cache_dir))
    if item_bank:
        print_bank(run_bank_encoding(data, cache_dir))


@app.command("search")
def search_command(
        query: Annotated[str, typer.Argument(help="What to look for, in plain words.")] = "",
        filter_: Annotated[Optional[list[str]], typer.Option(
            "--filter", help="FACET:VALUE, repeatable, as in the API and the search page's links: "
                             "kind, source, catalogue, country, language, topic, design, "
                             "resource_type, funder, questionnaire (e.g. country:Germany)")] = None,
        range_: Annotated[Optional[list[str]], typer.Option(
            "--range", help="NAME:LOW:HIGH, repeatable, either bound may be empty: year, age, "
                            "sample_size, variables (e.g. year:2000:2010)")] = None,
        sort: Annotated[str, typer.Option(help="relevance, recent, sample_size or variables")] = "relevance",
        mode: Annotated[str, typer.Option(help="hybrid, lexical or semantic")] = "hybrid",
        weight: Annotated[float, typer.Option(help="Semantic weight in hybrid mode, 0..1")] = 0.5,
        limit: Annotated[int, typer.Option(help="Hits per page (at most 100)")] = 10,
        cursor: Annotated[Optional[str], typer.Option(help="next_cursor of the previous page")] = None,
        similar: Annotated[Optional[str], typer.Option("--similar", help="Records like this id")] = None,
        flat: Annotated[bool, typer.Option("--flat", help="Do not group variables under studies")] = False,
        versions: Annotated[bool, typer.Option("--versions", help="List every version of an "
                                               "instrument as its own hit")] = False,
        spellcheck: Annotated[bool, typer.Option(help="Correct words the index has never seen")] = True,
        as_json: Annotated[bool, typer.Option("--json", help="The full result as JSON")] = False,
        data: DataDir = "data") -> None:
    """Search studies, datasets, variables and questions: hybrid keyword + meaning, with facets."""
    params = [("q", query), ("mode", mode), ("semantic_weight", str(weight)), ("sort", sort),
              ("size", str(limit)), ("cursor", cursor or ""), ("similar_to", similar or ""),
              ("group", str(not flat)), ("collapse", str(not versions)), ("spellcheck", str(spellcheck)),
              *(("filter", value) for value in filter_ or []), *(("range", value) for value in range_ or [])]
    try:
        request = search_request(params)  # the one reader of the API and the search page
    except DiscoveryError as error:
        raise fail(error) from None
    try:
        searcher = open_searcher(data)
        try:
            results = searcher.search(request)
        finally:
            searcher.close()
    except DiscoveryError as error:
        raise fail(error) from None
    if as_json:
        sys.stdout.write(results.model_dump_json(indent=1) + "\n")
    else:
        print_results(results)


def print_results(results: SearchResults) -> None:
    shown = len(results.hits)
    if results.searched_for:
        console.print(f"Showing results for [bold]{escape(results.searched_for)}[/bold] "
                      "[dim](--no-spellcheck searches it as typed)[/dim]")
    if results.nothing_fits:
        console.print(f"[bold]Nothing fits.[/bold] The {shown} nearest records, which do not match "
                      f"well [dim]({results.took_ms:.0f} ms, {escape(results.model)})[/dim]:")
    else:
        plus = "" if results.total_exact else "+"
        console.print(f"[bold]{results.total}{plus}[/bold] hits [dim]({results.took_ms:.0f} ms, "
                      f"{escape(results.model)})[/dim]")
    for n, hit in enumerate(results.hits, start=1):
        console.print(f"\n[bold]{n}. {escape(hit.title)}[/bold]  [dim]{hit.kind} · {escape(hit.id)} · "
                      f"score {hit.score:.3f}[/dim]", soft_wrap=True)
        console.print(f"   [italic]{escape(hit.explanation.summary)}[/italic]", soft_wrap=True)
        if hit.versions > 1:
            others = ", ".join(escape(v.id) for v in hit.other_versions[:5])
            console.print(f"   [dim]{hit.versions} versions: also {others}"
                          f"{', …' if hit.versions - 1 > 5 else ''}[/dim]", soft_wrap=True)
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
        judgments: Annotated[list[Path], typer.Argument(help="TSV files with columns query, id, "
                                                         "grade (0-2); each is reported on its own")],
        mode: Annotated[str, typer.Option(help="hybrid, lexical, semantic or all")] = "all",
        weight: Annotated[float, typer.Option(help="Semantic weight in hybrid mode, 0..1")] = 0.5,
        per_query: Annotated[bool, typer.Option("--per-query", help="Also list each query")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
        collapse: Annotated[bool, typer.Option("--collapse", help="Score the page as shown, versions "
                                               "folded into one hit (judgments grade each version)")
                            ] = False,
        data: DataDir = "data") -> None:
    """nDCG@10, MRR and recall@10 of the search modes on graded judgments, side by side, with 95%
    bootstrap intervals and the hybrid gain over each single retriever."""
    modes = MODES if mode == "all" else tuple(m for m in MODES if m == mode)
    if not modes:
        raise fail(DiscoveryError(f"unknown mode {mode!r}", hint="hybrid, lexical, semantic or all"))
    try:
        sets = {path: load_judgments(path) for path in judgments}
        searcher = open_searcher(data)
        model = searcher.model
        try:
            reports = {path: {m: evaluate(lambda r: [h.id for h in searcher.search(r).hits], judged,
                                          m, weight, collapse)[1] for m in modes}
                       for path, judged in sets.items()}
        finally:
            searcher.close()
    except DiscoveryError as error:
        raise fail(error) from None
    if as_json:
        print(json.dumps({str(path): _eval_summary(report) for path, report in reports.items()},
                         indent=1))
        return
    for path, report in reports.items():
        _print_eval(path, report, model, per_query)


METRICS = (("ndcg", "nDCG@10"), ("mrr", "MRR"), ("recall", "recall@10"))


def _eval_summary(report: dict[Mode, dict[str, Scores]]) -> dict[str, Any]:
    summary: dict[str, Any] = {m: {metric: vars(interval([getattr(s, metric) for s in per.values()]))
                                   for metric, _ in METRICS} for m, per in report.items()}
    if "hybrid" in report:
        summary["ratios"] = {f"hybrid/{other}": vars(_ndcg_ratio(report, other))
                             for other in MODES if other != "hybrid" and other in report}
    summary["per_query"] = {m: {q: s.ndcg for q, s in per.items()} for m, per in report.items()}
    return summary


def _ndcg_ratio(report: dict[Mode, dict[str, Scores]], other: Mode) -> Interval:
    queries = list(report["hybrid"])
    return ratio_interval([report["hybrid"][q].ndcg for q in queries],
                          [report[other][q].ndcg for q in queries])


def _print_eval(path: Path, report: dict[Mode, dict[str, Scores]], model: str, per_query: bool) -> None:
    modes = list(report)
    queries = len(report[modes[0]])
    table = Table(title=f"{escape(path.name)}: {queries} queries, {escape(model)} "
                        "(mean [95% bootstrap interval])")
    table.add_column("metric")
    for m in modes:
        table.add_column(m, justify="right")
    for metric, label in METRICS:
        table.add_row(label, *(str(interval([getattr(s, metric) for s in report[m].values()]))
                               for m in modes))
    console.print(table)
    if "hybrid" in report:
        for other in ("lexical", "semantic"):
            if other in report:
                console.print(f"nDCG@10 hybrid / {other}: {_ndcg_ratio(report, other)}")
    if per_query:
        detail = Table(title="nDCG@10 per query")
        detail.add_column("query")
        for m in modes:
            detail.add_column(m, justify="right")
        for query in report[modes[0]]:
            detail.add_row(escape(query), *(f"{report[m][query].ndcg:.2f}" for m in modes))
        console.print(detail)
