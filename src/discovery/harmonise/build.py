"""The matcher as the product builds it for a data folder, shared by the CLI and the web app.

Its item bank is the catalogue's own questions, each with its instrument or study (or the files
given, each item with its instrument), and its vectors share the search index's embedding cache.
`discovery index` encodes the catalogue's bank into that cache (`encode_item_bank`): few of the
bank's texts are texts the index encodes itself (a question's index passage carries its response
options too), so otherwise the first harmonise on a catalogue encoded most of the bank with
MiniLM and e5 (7 min 48 s on the demo catalogue).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from discovery.catalogue.backends import Target, catalogue_exists, index_folder, open_catalogue
from discovery.errors import DiscoveryError
from discovery.harmonise.bank import BankTexts, ItemBank, catalogue_question_items, encode_texts
from discovery.harmonise.items import instruments_from_files
from discovery.harmonise.matcher import Matcher, Settings
from discovery.harmonise.scorer import E5_MEAN_TEXTS, shipped_scorer
from discovery.index.build import index_paths
from discovery.index.embed import MODELS, EmbeddingCache, get_embedder
from discovery.index.postgres_build import EMBEDDING_CACHE  # the database index's cache, shared


def matcher_cache(data: Target, cache_dir: Path | None = None) -> EmbeddingCache | None:
    """The embedding cache of `data`: a folder's index cache (none while the folder does not
    exist), or for a database URL the cache in `cache_dir` (none without it)."""
    folder = index_folder(data)
    if folder is not None:
        return EmbeddingCache(index_paths(folder).cache) if folder.is_dir() else None
    return EmbeddingCache(cache_dir / EMBEDDING_CACHE) if cache_dir else None


def bank_encoders(settings: Settings) -> list[tuple[str, int | None]]:
    """The models (MODELS keys) a matcher with these settings reads its bank with, each with the
    most bank texts it encodes (None: all). MiniLM always; e5 too where the settings read English
    items against it, and then wholly only where e5 bank neighbourhoods are read."""
    encoders: list[tuple[str, int | None]] = [("minilm", None)]
    if settings.reads_e5_bank():
        sampled = settings.learned and shipped_scorer().e5_mean_sampled
        encoders.append(("e5", E5_MEAN_TEXTS if sampled else None))
    return encoders


def build_matcher(data: Target, bank_files: list[Path] | None = None, no_bank: bool = False,
                  cache_dir: Path | None = None) -> Matcher:
    """A matcher for the catalogue at `data`: a folder that need not exist (then no cache and,
    unless bank files are given, no bank), or a database URL, whose embedding cache is kept in
    `cache_dir` (none without it)."""
    cache = matcher_cache(data, cache_dir)
    if no_bank:
        return Matcher(None, cache)
    english, multilingual = get_embedder("minilm"), get_embedder("e5")
    items: list[tuple[str, str]] = []
    if bank_files:
        items = [(item.text, instrument.id)
                 for instrument in instruments_from_files([str(p) for p in bank_files])
                 for item in instrument.items]
    elif catalogue_exists(data):
        with open_catalogue(data) as catalogue:
            items = catalogue_question_items(catalogue)
    try:
        texts = BankTexts.of(items)
    except ValueError as error:
        if not bank_files:  # no English questions catalogued yet: English pairs go without a bank
            return Matcher(None, cache, english, multilingual)
        raise DiscoveryError(str(error), file=", ".join(map(str, bank_files)),
                             hint="give English questionnaires as the bank, or --no-bank") from None
    settings = Settings()
    banks = {key: ItemBank.from_texts(texts, get_embedder(key), cache, most)
             for key, most in bank_encoders(settings)}
    return Matcher(banks["minilm"], cache, english, multilingual, settings=settings,
                   multilingual_bank=banks.get("e5"))


@dataclass(frozen=True)
class BankReport:
    texts: int  # distinct English question texts in the bank
    encoded: int  # vectors encoded now, over every model (the rest were cached)
    seconds: float


def encode_item_bank(data: Target, cache_dir: Path | None = None,
                     on_batch: Callable[[int], None] | None = None) -> BankReport:
    """Encode the catalogue's item bank into the embedding cache `build_matcher` reads, with the
    same call it makes (`bank.encode_texts`), so the first match after this finds every bank
    vector cached and computes the same scores it would have. A model is loaded only when some
    of its texts are missing; `on_batch(n)` reports texts encoded."""
    started = time.perf_counter()
    cache = matcher_cache(data, cache_dir)
    if cache is None or not catalogue_exists(data):
        return BankReport(0, 0, time.perf_counter() - started)
    try:
        with open_catalogue(data) as catalogue:
            texts = BankTexts.of(catalogue_question_items(catalogue))
    except ValueError:  # no English questions: the matcher goes without a bank
        cache.close()
        return BankReport(0, 0, time.perf_counter() - started)
    encoded = 0
    try:
        for key, most in bank_encoders(Settings()):
            chosen = texts.chosen(most)
            missing = cache.missing(MODELS[key].name, chosen)
            if missing:
                encode_texts(chosen, get_embedder(key), cache, on_batch)
                encoded += missing
    finally:
        cache.close()
    return BankReport(len(texts.texts), encoded, time.perf_counter() - started)
