"""Build the search index from the catalogue, or bring it up to date from the catalogue history.

The index is derived data under `<data>/index/`: a document table, tantivy, faiss, facet
columns and `meta.json` (model, dimension, the history number read so far). An update reads only
records created, updated or deleted after that number, plus the parents whose variable counts
they change; vectors come from the embedding cache, so unchanged texts are never encoded twice.
`rebuild` starts from nothing (keeping the cache) and gives the same results.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from discovery.catalogue import feed
from discovery.catalogue.store import Catalogue
from discovery.errors import DiscoveryError
from discovery.index.columns import Columns
from discovery.index.docstore import DocStore
from discovery.index.documents import IndexDocument, declared_languages, index_document
from discovery.index.embed import MODELS, EmbeddingCache, get_embedder, model_key
from discovery.index.lexical import LexicalIndex
from discovery.index.vectors import VectorIndex

BATCH = 2000
FORMAT = 4  # bump when the layout changes: an older index is then rebuilt
# The search index's model, chosen by `discovery eval` on the tuning judgments (README, "Search"):
# on the 26 English tuning queries MiniLM and multilingual e5 are within noise (hybrid nDCG@10
# 0.703 / 0.688), on the 14 non-English ones e5 is far ahead (0.434 / 0.308): MiniLM reads
# English only. e5 encodes about four times slower.
INDEX_MODEL = "e5"


class IndexBuildError(DiscoveryError):
    """The index is missing, stale in format, or cannot be written."""


class Paths:
    """The index's files under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.meta = root / "meta.json"
        self.docs = root / "docs.sqlite"
        self.lexical = root / "lexical"
        self.vectors = root / "vectors.faiss"
        self.columns = root / "columns.npz"
        self.cache = root / "embeddings.sqlite"


def index_paths(data_dir: Path) -> Paths:
    return Paths(Path(data_dir) / "index")


def read_meta(paths: Paths, any_format: bool = False) -> dict[str, Any] | None:
    """The index's meta; None when there is none, or (unless `any_format`) when it is of an
    older layout and must be rebuilt."""
    if not paths.meta.exists():
        return None
    meta = json.loads(paths.meta.read_text())
    return meta if any_format or meta.get("format") == FORMAT else None


def write_meta(paths: Paths, key: str, seq: int, next_row: int, documents: int, exact: bool) -> None:
    """Record the model (by name and MODELS key), the history read so far and the row counter."""
    meta = {"format": FORMAT, "model": MODELS[key].name, "model_key": key, "dim": MODELS[key].dim,
            "seq": seq, "next_row": next_row, "documents": documents, "exact": exact,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    tmp = paths.meta.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=1))
    tmp.replace(paths.meta)


def read_documents(catalogue: Catalogue, ids: list[str]) -> list[IndexDocument]:
    """The index documents of `ids` that still exist, each with its children's titles; an item
    that declares no language is read in its parent's."""
    children = feed.child_titles(catalogue, ids)
    documents = [index_document(stored, children.get(stored.id, []))
                 for stored in feed.read_records(catalogue, ids)]
    unsure = sorted({doc.parent for doc in documents if doc.parent and not doc.languages})
    if unsure:
        parents = {stored.id: declared_languages(stored.data)
                   for stored in feed.read_records(catalogue, unsure)}
        for doc in documents:
            if doc.parent and not doc.languages:
                doc.languages = parents.get(doc.parent, [])
    return documents


@dataclass
class UpdateReport:
    model: str
    full: bool
    indexed: int  # records (re)indexed
    deleted: int
    encoded: int  # texts that were not in the cache
    documents: int  # live documents after the update
    seq: int
    seconds: float


Progress = Callable[[str, int, int], None]  # (stage, done, total)


def update_index(catalogue: Catalogue, data_dir: Path, model: str | None = None,
                 rebuild: bool = False, progress: Progress | None = None) -> UpdateReport:
    """Bring `<data_dir>/index` up to date with the catalogue (or rebuild it) and report."""
    started = time.perf_counter()
    paths = index_paths(data_dir)
    paths.root.mkdir(parents=True, exist_ok=True)
    meta = read_meta(paths)
    # an index rebuilt for a newer layout keeps the model it was built with
    key = model_key(model or (read_meta(paths, any_format=True) or {}).get("model_key") or INDEX_MODEL)
    spec = MODELS[key]
    full = rebuild or meta is None or meta["model"] != spec.name
    seq = feed.last_seq(catalogue)
    if full:
        for path in (paths.docs, paths.docs.with_name("docs.sqlite-wal"),
                     paths.docs.with_name("docs.sqlite-shm"), paths.vectors, paths.meta):
            path.unlink(missing_ok=True)
        shutil.rmtree(paths.lexical, ignore_errors=True)
        upserted, deleted = feed.all_ids(catalogue), []
    else:
        assert meta is not None
        changes = feed.changes_since(catalogue, meta["seq"])
        seq = max(seq, changes.seq)
        upserted, deleted = sorted(changes.upserted), sorted(changes.deleted)
    docs = DocStore(paths.docs)
    try:
        if not full:
            upserted = _with_parents(catalogue, docs, upserted, deleted)
        lexical = LexicalIndex(paths.lexical, create=full)
        vectors = VectorIndex.load(paths.vectors) if paths.vectors.exists() \
            else VectorIndex.for_size(spec.dim, len(upserted))
        # rows are never reused; the table's own maximum covers a run that died before its meta
        next_row = max((meta or {}).get("next_row", 0) if not full else 0, docs.max_row() + 1)
        old = docs.rows_of(upserted + deleted)
        dead = np.fromiter(old.values(), np.int64, len(old))
        lexical.delete(dead.tolist())
        vectors.remove(dead)
        with docs.transaction():
            docs.delete(dead.tolist())
        cache = EmbeddingCache(paths.cache)
        encoded = done = 0
        for start in range(0, len(upserted), BATCH):
            chunk = upserted[start:start + BATCH]
            documents = read_documents(catalogue, chunk)
            rows = list(range(next_row, next_row + len(documents)))
            next_row += len(documents)
            matrix, missing = _encode(cache, key, [doc.embed_text for doc in documents], progress,
                                      done, len(upserted))
            encoded += missing
            vectors.add(np.asarray(rows, np.int64), matrix)
            lexical.add(rows, documents)
            with docs.transaction():
                docs.put(rows, documents)
            done += len(chunk)
            if progress:
                progress("indexing", done, len(upserted))
        lexical.commit()
        vectors.save(paths.vectors)
        columns = Columns.build(docs, next_row)
        columns.save(paths.columns)
        live = int(columns.alive.sum())
        cache.close()
        write_meta(paths, key, seq, next_row, live, vectors.exact)
    finally:
        docs.close()
    return UpdateReport(model=spec.name, full=full, indexed=len(upserted), deleted=len(deleted),
                        encoded=encoded, documents=live, seq=seq,
                        seconds=time.perf_counter() - started)


def _encode(cache: EmbeddingCache, key: str, texts: list[str], progress: Progress | None,
            done: int, total: int) -> tuple[np.ndarray, int]:
    """The texts' vectors, and how many of them the cache lacked; the model loads only for those."""
    spec = MODELS[key]
    missing = cache.missing(spec.name, texts)
    encoded = 0

    def advance(n: int) -> None:
        nonlocal encoded
        encoded += n
        if progress:
            progress("encoding", done + encoded, total)

    model = get_embedder(key) if missing else _CachedOnly(spec.name, spec.dim)
    return cache.encode(model, texts, "passage", on_batch=advance), missing


class _CachedOnly:
    """Stands in for the model when every text is cached, so nothing is loaded."""

    def __init__(self, name: str, dim: int) -> None:
        self.name = name
        self.dim = dim

    def encode(self, texts: Any, role: str = "passage") -> np.ndarray:
        raise IndexBuildError("embedding cache lost a vector between reads",
                              hint="run `discovery index --rebuild`")


def _with_parents(catalogue: Catalogue, docs: DocStore, upserted: list[str], deleted: list[str]
                  ) -> list[str]:
    """Changed children change their parent's variable count: reindex those parents too."""
    parents = {stored.parent for stored in feed.read_records(catalogue, upserted) if stored.parent}
    parents |= docs.parents_of(deleted)
    extra = set(feed.existing_ids(catalogue, sorted(parents - set(upserted) - set(deleted))))
    return sorted(set(upserted) | extra)
