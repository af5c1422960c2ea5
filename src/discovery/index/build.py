"""Build the search index from the catalogue, or bring it up to date from the catalogue history.

The index is derived data under `<data>/index/`, written as generations (`generations.py`): each
update writes a complete new folder (document table, tantivy, faiss, the hits' title vectors,
facet columns and `meta.json` with the model, dimension and the history number read so far) and
publishes it by replacing a pointer file, so readers never see a half-written index and a killed
update leaves the previous one serving. An update reads only records created, updated or deleted
after the published generation's history number, plus the parents whose variable counts they
change; it starts from a copy of the previous generation (the document table copied, tantivy's
write-once segment files hard-linked, faiss re-written from memory as before), and vectors come
from the embedding cache, shared by every generation, so unchanged texts are never encoded
twice. `rebuild` starts from nothing (keeping the cache) and gives the same results.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from discovery.catalogue.protocol import CatalogueStore
from discovery.errors import DiscoveryError
from discovery.index.columns import Columns
from discovery.index.docstore import DocStore
from discovery.index.documents import (FilterValues, IndexDocument, declared_languages,
                                       filter_values, index_document)
from discovery.index.embed import MODELS, EmbeddingCache, get_embedder, model_key
from discovery.index.generations import GenerationFiles, building, index_root, link_tree
from discovery.index.lexical import LexicalIndex, filter_terms
from discovery.index.vectors import VectorIndex
from discovery.model import ITEM_KINDS

BATCH = 2000
FORMAT = 9  # bump when the layout changes: an older index is then rebuilt (5: generations;
# 6: normalised facet values and the questionnaire facet; 7: title vectors; 8: filter values in
# the lexical index; 9: the count of the items a record's page lists)
# The search index's model, chosen by `discovery eval` on the tuning judgments (README, "Search"):
# on the 26 English tuning queries MiniLM and multilingual e5 are within noise (hybrid nDCG@10
# 0.703 / 0.688), on the 14 non-English ones e5 is far ahead (0.434 / 0.308): MiniLM reads
# English only. e5 encodes about four times slower. "+minilm": the index also keeps MiniLM
# vectors, which join e5's for queries read as English (`search/dense_pair.py`; 1.03x hybrid
# nDCG@10 over e5 alone on the 75 tuning queries, `bench/dense_pair.py`).
INDEX_MODEL = "e5+minilm"
TANTIVY_LOCKS = re.compile(r"\.tantivy-.*\.lock$")  # a writer's and readers' own, never shared


class IndexBuildError(DiscoveryError):
    """The index is missing, stale in format, or cannot be written."""


class Paths:
    """The index folder: its generations, and the embedding cache they share."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache = root / "embeddings.sqlite"


def index_paths(data_dir: Path) -> Paths:
    return Paths(index_root(data_dir))


def read_meta(files: GenerationFiles) -> dict[str, Any] | None:
    """A generation's meta; None when it is of an older layout and must be rebuilt."""
    meta = json.loads(files.meta.read_text())
    return meta if meta.get("format") == FORMAT else None


def model_keys(model: str) -> tuple[str, str | None]:
    """The MODELS keys of an index model written `main` or `main+english`: the model every
    query uses, and the English encoder whose vectors join it for English queries (or None)."""
    main, _, english = model.partition("+")
    return model_key(main.strip()), model_key(english.strip()) if english.strip() else None


def models_name(key: str, english: str | None) -> str:
    """The name of an index's encoders as reports show it: 'e5-name + minilm-name' when English
    texts are read by a second one."""
    return " + ".join(MODELS[k].name for k in (key, english) if k)


def write_meta(files: GenerationFiles, key: str, english: str | None, seq: int, next_row: int,
               documents: int, exact: bool) -> None:
    """Record the model (by name and MODELS key), the English encoder beside it if any, the
    history read so far and the row counter."""
    meta: dict[str, Any] = {"format": FORMAT, "model": MODELS[key].name, "model_key": key,
                            "dim": MODELS[key].dim}
    if english:
        meta |= {"english_model": MODELS[english].name, "english_key": english}
    meta |= {"seq": seq, "next_row": next_row, "documents": documents, "exact": exact,
             "built_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    files.meta.write_text(json.dumps(meta, indent=1))


def read_documents(catalogue: CatalogueStore, ids: list[str]) -> list[IndexDocument]:
    """The index documents of `ids` that still exist, each with its children; an item
    is filtered by its parent's facet values and ranges, and read in its parent's language if it
    declares none."""
    children = catalogue.children(ids)
    documents = [index_document(stored, children.get(stored.id, []))
                 for stored in catalogue.read_records(ids)]
    items = [doc for doc in documents if doc.parent and doc.kind in ITEM_KINDS]
    wanted = sorted({doc.parent for doc in documents if doc.parent and not doc.languages}
                    | {doc.parent for doc in items if doc.parent})
    parents = {stored.id: stored for stored in catalogue.read_records(wanted)} if wanted else {}
    for doc in documents:
        parent = parents.get(doc.parent) if doc.parent else None
        if parent is None:
            continue
        if not doc.languages:
            doc.languages = declared_languages(parent.data)
        if doc.kind in ITEM_KINDS:
            doc.inherited = filter_values(parent)
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
    generation: str | None = None  # the folder published; None when nothing changed
    interrupted: list[str] = field(default_factory=list)  # dead builds' folders removed first


Progress = Callable[[str, int, int], None]  # (stage, done, total)


def update_index(catalogue: CatalogueStore, data_dir: Path, model: str | None = None,
                 rebuild: bool = False, progress: Progress | None = None) -> UpdateReport:
    """Bring `<data_dir>/index` up to date with the catalogue (or rebuild it) as a new generation,
    and report. Nothing is published when nothing changed."""
    started = time.perf_counter()
    paths = index_paths(data_dir)
    with building(paths.root) as build:
        written = build.previous_meta or {}
        # an index rebuilt for a newer layout keeps the model(s) it was built with
        if model:
            key, english = model_keys(model)
        elif written.get("model_key"):
            key, english = model_key(written["model_key"]), written.get("english_key")
        else:
            key, english = model_keys(INDEX_MODEL)
        spec = MODELS[key]
        meta = written if build.previous and written.get("format") == FORMAT else None
        full = (rebuild or meta is None or meta["model"] != spec.name
                or meta.get("english_key") != english)
        seq = catalogue.last_seq()
        if full:
            upserted, deleted = catalogue.all_ids(), []
        else:
            assert meta is not None and build.previous is not None
            changes = catalogue.changes_since(meta["seq"])
            if not changes.upserted and not changes.deleted:
                return UpdateReport(model=models_name(key, english), full=False, indexed=0,
                                    deleted=0, encoded=0, documents=meta["documents"], seq=meta["seq"],
                                    seconds=time.perf_counter() - started,
                                    interrupted=build.interrupted)
            seq = max(seq, changes.seq)
            upserted, deleted = sorted(changes.upserted), sorted(changes.deleted)
            _carry_over(build.previous, build.files)
        files = build.files
        docs = DocStore(files.docs)
        try:
            if not full:
                upserted = _with_parents(catalogue, docs, upserted, deleted)
            lexical = LexicalIndex(files.lexical, create=full)
            sets = [_VectorSet(key, files.vectors, files.titles)]
            if english:
                sets.append(_VectorSet(english, files.english_vectors, files.english_titles))
            previous = build.previous if not full else None
            for vector_set in sets:
                vector_set.open(previous, len(upserted))
            next_row = meta["next_row"] if meta and not full else 0  # rows are never reused
            old = docs.rows_of(upserted + deleted)
            filtered_by = docs.filter_values(upserted + deleted) if not full else {}
            dead = np.fromiter(old.values(), np.int64, len(old))
            lexical.delete(dead.tolist())
            for vector_set in sets:
                vector_set.remove(dead)
            with docs.transaction():
                docs.delete(dead.tolist())
            cache = EmbeddingCache(paths.cache)
            encoded = done = 0
            for start in range(0, len(upserted), BATCH):
                chunk = upserted[start:start + BATCH]
                documents = read_documents(catalogue, chunk)
                rows = list(range(next_row, next_row + len(documents)))
                next_row += len(documents)
                for vector_set in sets:
                    matrix, missing = encode_texts(cache, vector_set.key,
                                                   [doc.embed_text for doc in documents], progress,
                                                   done, len(upserted))
                    encoded += missing
                    vector_set.vectors.add(np.asarray(rows, np.int64), matrix)
                    encoded += _add_titles(vector_set.titles, cache, vector_set.key, rows, documents)
                lexical.add(rows, documents)
                with docs.transaction():
                    docs.put(rows, documents)
                done += len(chunk)
                if progress:
                    progress("indexing", done, len(upserted))
            cache.close()
            if not full:
                _refilter_items(catalogue, docs, lexical, filtered_by, set(upserted + deleted))
            lexical.commit()
            for vector_set in sets:
                vector_set.save()
            columns = Columns.build(docs, next_row)
            columns.save(files.columns)
            live = int(columns.alive.sum())
            docs.seal()
        finally:
            docs.close()
        write_meta(files, key, english, seq, next_row, live, sets[0].vectors.exact)
        build.publish()
    return UpdateReport(model=models_name(key, english), full=full, indexed=len(upserted),
                        deleted=len(deleted), encoded=encoded, documents=live, seq=seq,
                        seconds=time.perf_counter() - started, generation=build.name,
                        interrupted=build.interrupted)


class _VectorSet:
    """One model's vectors of every row and of the hits' titles, and where they are written."""

    def __init__(self, key: str, vectors_path: Path, titles_path: Path) -> None:
        self.key = key
        self.vectors_path = vectors_path
        self.titles_path = titles_path
        self.vectors = VectorIndex.flat(MODELS[key].dim)
        self.titles = VectorIndex.flat(MODELS[key].dim)

    def open(self, previous: GenerationFiles | None, expected: int) -> None:
        """The previous generation's sets to update, else empty ones for `expected` rows."""
        if previous is None:
            self.vectors = VectorIndex.for_size(MODELS[self.key].dim, expected)
            return
        self.vectors = VectorIndex.load(previous.folder / self.vectors_path.name)
        self.titles = VectorIndex.load(previous.folder / self.titles_path.name)

    def remove(self, rows: np.ndarray) -> None:
        self.vectors.remove(rows)
        self.titles.remove(rows)

    def save(self) -> None:
        self.vectors.save(self.vectors_path)
        self.titles.save(self.titles_path)


def _refilter_items(catalogue: CatalogueStore, docs: DocStore, lexical: LexicalIndex,
                    before: dict[str, FilterValues], changed: set[str]) -> None:
    """Items carry their parent's filter values in the lexical index: rewrite (under the same
    rows) those of items left unchanged under a parent whose values changed, appeared or went."""
    after = docs.filter_values(sorted(changed))
    moved = sorted(rid for rid in changed
                   if _carried(before.get(rid)) != _carried(after.get(rid)))
    items = {rid: row for rid, row in docs.items_under(moved).items() if rid not in changed}
    ids = sorted(items)
    for start in range(0, len(ids), BATCH):
        documents = read_documents(catalogue, ids[start:start + BATCH])
        rows = [items[doc.id] for doc in documents]
        lexical.delete(rows)
        lexical.add(rows, documents)


def _carried(values: FilterValues | None) -> object:
    return None if values is None else filter_terms(values)


def _carry_over(previous: GenerationFiles, files: GenerationFiles) -> None:
    """Start the new generation from the previous one: the document table is copied (SQLite
    changes pages in place), tantivy's files are hard-linked (it never changes a written file:
    new segments, deletes and its meta go to new files, renamed into place); faiss and the columns
    are read whole and written anew by every update anyway."""
    shutil.copyfile(previous.docs, files.docs)
    link_tree(previous.lexical, files.lexical, TANTIVY_LOCKS)


def _add_titles(titles: VectorIndex, cache: EmbeddingCache, key: str, rows: list[int],
                documents: list[IndexDocument]) -> int:
    """Encode the titles of the documents that are hits themselves (not variables or questions),
    for the fused ranking's title cosine (`search/fusion.py`); returns how many were not cached.
    A hit's whole text mixes its title with descriptions and its items' titles; the title alone
    says what it is. Items are left out: their text is mostly their title already, and they are
    most of the index (14,000 of 16,300 rows in the corpus)."""
    heads = [(row, doc.title) for row, doc in zip(rows, documents, strict=True)
             if doc.kind not in ITEM_KINDS]
    if not heads:
        return 0
    matrix, missing = encode_texts(cache, key, [title for _, title in heads], None, 0, 0)
    titles.add(np.asarray([row for row, _ in heads], np.int64), matrix)
    return missing


def encode_texts(cache: EmbeddingCache, key: str, texts: list[str], progress: Progress | None,
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


def _with_parents(catalogue: CatalogueStore, docs: DocStore, upserted: list[str], deleted: list[str]
                  ) -> list[str]:
    """Changed children change their parent's variable count: reindex those parents too."""
    parents = {stored.parent for stored in catalogue.read_records(upserted) if stored.parent}
    parents |= docs.parents_of(deleted)
    extra = set(catalogue.existing_ids(sorted(parents - set(upserted) - set(deleted))))
    return sorted(set(upserted) | extra)
