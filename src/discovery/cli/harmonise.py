"""Harmonising commands: harmonise instruments into a crosswalk, score a table of item pairs,
and ask which studies in the catalogue measured a question (`measured`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from discovery.catalogue.backends import cache_folder, catalogue_exists, open_catalogue
from discovery.cli.common import CacheDir, DataDir, app, console, errors, fail, progress_bar
from discovery.errors import DiscoveryError
from discovery.harmonise.build import build_matcher
from discovery.harmonise.crosswalk import DEFAULT_THRESHOLD, Harmonisation, export, harmonise
from discovery.harmonise.items import (
    Instrument,
    instrument_from_catalogue,
    instrument_from_text,
    instruments_from_files,
)
from discovery.harmonise.measured import CANDIDATES, candidate_ids, who_measured
from discovery.harmonise.pairs import read_pairs, score_rows, write_pairs
from discovery.search.backends import open_searcher

SHOWN_MATCHES = 40
SHOWN_PER_STUDY = 3
POLARITY_MARKS = {1: "+", -1: "-", 0: "?"}
POLARITY_LEGEND = "pol.: + same direction, - reverse-code, ? direction unclear"

BankFiles = Annotated[Optional[list[Path]], typer.Option(
    "--bank", help="Questionnaire files to use as the item bank instead of the catalogue's questions.")]
NoBank = Annotated[bool, typer.Option("--no-bank", help="Match without an item bank (less accurate).")]


@contextmanager
def encoding_progress(label: str) -> Iterator[Callable[[str, int], None]]:
    with progress_bar() as bar:
        task = bar.add_task(label, total=None, current="")

        def advance(model: str, count: int) -> None:
            bar.update(task, advance=count, current=model)

        yield advance


@app.command("harmonise")
def harmonise_command(
        files: Annotated[Optional[list[str]], typer.Argument(
            help="Questionnaire files (CSV, XLSX, text, PDF, JSON Lines) or variable lists.")] = None,
        text: Annotated[Optional[list[str]], typer.Option(
            "--text", help="Pasted items, one per line (repeat for several instruments).")] = None,
        study: Annotated[Optional[list[str]], typer.Option(
            "--study", help="A study's variables or an instrument's questions from the catalogue, by id.")
        ] = None,
        threshold: Annotated[float, typer.Option(help="Lowest score that counts as a match.")]
        = DEFAULT_THRESHOLD,
        out: Annotated[Optional[Path], typer.Option(help="Write the crosswalk: .xlsx, .csv or .json.")]
        = None,
        bank: BankFiles = None, no_bank: NoBank = False, cache_dir: CacheDir = None,
        data: DataDir = "data") -> None:
    """Match the items of two or more instruments: best matches, clusters, crosswalk."""
    try:
        instruments: list[Instrument] = instruments_from_files(files or [])
        instruments += [instrument_from_text(block, f"pasted text {n}")
                        for n, block in enumerate(text or [], start=1)]
        if study:
            with open_catalogue(data) as catalogue:
                instruments += [instrument_from_catalogue(catalogue, key) for key in study]
        with encoding_progress("Encoding items") as progress:
            matcher = build_matcher(data, bank, no_bank, cache_folder(data, cache_dir))
            result = harmonise(instruments, matcher, threshold, progress)
        if out is not None:
            export(result, out)
    except DiscoveryError as error:
        raise fail(error) from None
    show(result)
    if out is not None:
        console.print(f"Crosswalk written to {escape(str(out))}")


def show(result: Harmonisation) -> None:
    names = ", ".join(f"{i.name} ({len(i.items)})" for i in result.instruments)
    console.print(f"{len(result.items)} items from {escape(names)}; model {result.model}; "
                  f"{len(result.matches)} matches at score >= {result.threshold}, "
                  f"{len(result.clusters)} clusters.")
    table = Table("score", "pol.", "item", "matched item", title="Best matches", caption=POLARITY_LEGEND)
    for match in result.matches[:SHOWN_MATCHES]:
        table.add_row(f"{match.score:.2f}", POLARITY_MARKS[match.polarity],
                      escape(f"{match.left.instrument}: {match.left.text}"),
                      escape(f"{match.right.instrument}: {match.right.text}"))
    console.print(table)
    if len(result.matches) > SHOWN_MATCHES:
        console.print(f"... {len(result.matches) - SHOWN_MATCHES} more in the crosswalk (--out).")


@app.command("score-pairs")
def score_pairs_command(
        pairs: Annotated[Path, typer.Argument(help="TSV with text_1 and text_2 columns (others kept).")],
        out: Annotated[Optional[Path], typer.Option(help="Write here instead of standard output.")] = None,
        bank: BankFiles = None, no_bank: NoBank = False, cache_dir: CacheDir = None,
        data: DataDir = "data") -> None:
    """Add `score` (the ranking number: for English pairs a weighted sum of similarities learned
    from human-rated pairs), `equivalence` (the same question?), `relatedness` (constructs that go
    together?) and `polarity` (+1 same direction, -1 reverse-code, 0 direction unclear) to every
    pair; higher = more alike."""
    try:
        columns, rows = read_pairs(pairs)
        with encoding_progress("Encoding pairs") as progress:
            matcher = build_matcher(data, bank, no_bank, cache_folder(data, cache_dir))
            scored = score_rows(rows, matcher, progress)
    except DiscoveryError as error:
        raise fail(error) from None
    written = write_pairs(columns, scored, out)
    if out is None:
        sys.stdout.write(written)
    else:
        errors.print(f"{len(scored)} pairs scored into {escape(str(out))}")


@app.command("measured")
def measured_command(
        question: Annotated[str, typer.Argument(help="The question text, in any supported language.")],
        candidates: Annotated[int, typer.Option(help="How many search candidates to rescore.")]
        = CANDIDATES,
        min_score: Annotated[float, typer.Option(help="Lowest score shown.")] = DEFAULT_THRESHOLD,
        limit: Annotated[int, typer.Option(help="Most studies shown.")] = 20,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
        cache_dir: CacheDir = None, data: DataDir = "data") -> None:
    """Which studies measured this question? Variables and questions from every indexed study,
    grouped by study, scored by the harmonisation matcher."""
    try:
        if not catalogue_exists(data):
            raise DiscoveryError("no catalogue here", file=str(data),
                                 hint="ingest and `discovery index` first, or pass --data")
        searcher = open_searcher(data)
        try:
            ids = candidate_ids(searcher, question, candidates)
        finally:
            searcher.close()
        with open_catalogue(data) as catalogue:
            matcher = build_matcher(data, None, False, cache_folder(data, cache_dir))
            groups = who_measured(question, ids, catalogue, matcher, min_score)[:limit]
    except DiscoveryError as error:
        raise fail(error) from None
    if as_json:
        sys.stdout.write(json.dumps([{
            "id": g.id, "kind": g.kind, "title": g.title, "best": round(g.best, 4),
            "items": [{"id": m.item.id, "text": m.item.text, "score": round(m.score, 4),
                       "polarity": m.polarity} for m in g.items]} for g in groups],
            ensure_ascii=False, indent=2) + "\n")
        return
    console.print(f"{len(groups)} studies or instruments with items scoring >= {min_score} "
                  f"(of {len(ids)} search candidates).")
    table = Table("score", "pol.", "study / instrument", "item", caption=POLARITY_LEGEND)
    for group in groups:
        for n, match in enumerate(group.items[:SHOWN_PER_STUDY]):
            table.add_row(f"{match.score:.2f}", POLARITY_MARKS[match.polarity],
                          escape(f"{group.title} ({group.id})") if n == 0 else "",
                          escape(f"{match.item.id}: {match.item.text}"))
    console.print(table)
