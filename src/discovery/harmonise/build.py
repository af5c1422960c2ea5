"""The matcher as the product builds it for a data folder, shared by the CLI and the web app.

Its item bank is the catalogue's own questions, each with its instrument or study (or the files
given, each item with its instrument), and its vectors share the search index's embedding cache,
so texts the index encoded already are not encoded again.
"""

from __future__ import annotations

from pathlib import Path

from discovery.catalogue.backends import Target, catalogue_exists, index_folder, open_catalogue
from discovery.errors import DiscoveryError
from discovery.harmonise.bank import ItemBank, catalogue_question_items
from discovery.harmonise.items import instruments_from_files
from discovery.harmonise.matcher import Matcher, Settings
from discovery.harmonise.scorer import E5_MEAN_TEXTS, shipped_scorer
from discovery.index.build import index_paths
from discovery.index.embed import EmbeddingCache, get_embedder
from discovery.index.postgres_build import EMBEDDING_CACHE  # the database index's cache, shared


def build_matcher(data: Target, bank_files: list[Path] | None = None, no_bank: bool = False,
                  cache_dir: Path | None = None) -> Matcher:
    """A matcher for the catalogue at `data`: a folder that need not exist (then no cache and,
    unless bank files are given, no bank), or a database URL, whose embedding cache is kept in
    `cache_dir` (none without it). The bank is encoded by e5 too only when the settings read
    English items against it, and then wholly only where e5 bank neighbourhoods are read."""
    folder = index_folder(data)
    if folder is not None:
        cache = EmbeddingCache(index_paths(folder).cache) if folder.is_dir() else None
    else:
        cache = EmbeddingCache(cache_dir / EMBEDDING_CACHE) if cache_dir else None
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
        bank = ItemBank.from_items(items, english, cache)
    except ValueError as error:
        if not bank_files:  # no English questions catalogued yet: English pairs go without a bank
            return Matcher(None, cache, english, multilingual)
        raise DiscoveryError(str(error), file=", ".join(map(str, bank_files)),
                             hint="give English questionnaires as the bank, or --no-bank") from None
    settings = Settings()
    sampled = settings.learned and shipped_scorer().e5_mean_sampled
    second = (ItemBank.from_items(items, multilingual, cache, E5_MEAN_TEXTS if sampled else None)
              if settings.reads_e5_bank() else None)
    return Matcher(bank, cache, english, multilingual, multilingual_bank=second)
