"""Build the search index inside a PostgreSQL catalogue, or bring it up to date from its history.

The same documents, rows and vectors as the local index (`build.py`), kept in tables the schema
migration made (`catalogue/postgres_schema.py`, version 3): one row per record with a weighted
tsvector (its title at weight A, its whole text at B, both read by the `english` configuration
as tantivy reads every document in English; the text again at C in the configuration of each
Snowball language the record declares), its vector and its title's in pgvector (HNSW, cosine),
and, for an index built `e5+minilm` (the default, as for a local index), the English encoder's
two in a table of their own (version 7), its facet value keys (GIN) and range columns. Filters
read a row's grouping record, so items are never rewritten when their study's values change.
Document frequencies per side (records, items) and each side's mean length are kept for BM25
(`search/postgres.py`).

An update runs in one transaction: readers keep seeing the previous index until it commits, and
a failure leaves it unchanged. It reads only the records changed since the history number of the
last build (plus the parents whose item counts they change); vectors come from the embedding
cache in the database's cache folder, so unchanged texts are never encoded twice.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from discovery.catalogue.postgres_connection import connect, one_line, shown
from discovery.catalogue.postgres_schema import connect_current
from discovery.catalogue.protocol import CatalogueStore
from discovery.index.build import (BATCH, INDEX_MODEL, IndexBuildError, Progress, UpdateReport,
                                   encode_texts, model_keys, models_name,
                                   read_documents)
from discovery.index.columns import FACETS, RANGE_COLUMNS
from discovery.index.documents import IndexDocument
from discovery.index.embed import MODELS, EmbeddingCache
from discovery.index.facet_keys import value_key
from discovery.index.lexical import STEMMED
from discovery.index.vocabulary import words as vocabulary_words
from discovery.model import ITEM_KINDS

EMBEDDING_CACHE = "embeddings.sqlite"  # in the database's cache folder (`backends.cache_folder`)
# Taken by an index update for its whole transaction: two builds queue instead of both writing
# rows numbered from the same counter. Not the catalogue's write lock: ingests carry on meanwhile.
BUILD_LOCK = 0x44697378  # "Disx"
# PostgreSQL's text search configurations for the languages the lexical side stems
CONFIGURATIONS = {"fr": "french", "de": "german", "es": "spanish", "pt": "portuguese",
                  "it": "italian", "nl": "dutch", "fi": "finnish", "sv": "swedish",
                  "no": "norwegian", "da": "danish"}
TOKEN = re.compile(r"[^\W_]+")
# letters that NFKD does not split into a base letter and a mark, folded as tantivy folds them
_LETTERS = str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe",
                          "Œ": "OE", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH"})
SEARCH_TABLES = ("search_documents", "search_vectors", "search_english_vectors", "search_terms",
                 "search_aliases", "search_vocabulary", "search_sides", "search_facet_values")
# each encoder's vectors of every row and of the hits' titles: the index model's, the English one's
VECTOR_TABLES = ("search_vectors", "search_english_vectors")
ITEMS, RECORDS = 1, 0  # the two sides BM25 normalises apart, as the local index's two tantivy indexes


def fold(text: str) -> str:
    """Accents off ("Gesundheitsförderung" -> "Gesundheitsforderung"), so the English reading
    matches the query terms tantivy's analyser makes (which folds before stemming)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def configuration(language: str) -> str | None:
    """The text search configuration of an ISO 639-1 code, or None when it is not stemmed."""
    return CONFIGURATIONS.get(language) if language in STEMMED else None


def family_number(key: str) -> int:
    """A stable number for a family key: versions share it in every query and process."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=7).digest(), "big")


def _vector_field(vector: np.ndarray | None) -> bytes:
    """One field of binary COPY: pgvector's binary form (dimensions, a reserved zero, big-endian
    float32s), or NULL."""
    if vector is None:
        return struct.pack(">i", -1)
    values = np.asarray(vector, ">f4").reshape(-1)
    return struct.pack(">iHH", 4 + 4 * len(values), len(values), 0) + values.tobytes()


def _copy_vectors(db: psycopg.Connection[Any], table: str, rows: list[int], vectors: np.ndarray,
                  titles: list[np.ndarray | None]) -> None:
    """The rows' vectors by binary COPY: formatting 16,300 x 2 vectors as text in Python took 5.5
    of the corpus's 24 s of indexing, and psycopg's array dumper longer."""
    data = [b"PGCOPY\n\xff\r\n\x00", struct.pack(">ii", 0, 0)]
    for row, vector, title in zip(rows, vectors, titles, strict=True):
        data += [struct.pack(">hiq", 3, 8, row), _vector_field(vector), _vector_field(title)]
    data.append(struct.pack(">h", -1))
    with db.cursor().copy(f"COPY {table} (row, embedding, title_embedding) FROM STDIN "
                          "WITH (FORMAT BINARY)") as copy:
        copy.write(b"".join(data))


def published_search_meta(url: str) -> dict[str, Any] | None:
    """The published search index's model and history number, None when there is none yet."""
    with connect(url) as db:
        found = db.execute("SELECT model, seq FROM search_meta").fetchone()
    return None if found is None else {"model": found[0], "seq": found[1]}


def update_postgres_index(catalogue: CatalogueStore, url: str, cache_dir: Path,
                          model: str | None = None, rebuild: bool = False,
                          progress: Progress | None = None) -> UpdateReport:
    """Bring the search tables of the database at `url` up to date with its catalogue (or
    rebuild them), in one transaction, and report."""
    started = time.perf_counter()
    where = shown(url)
    with connect_current(url) as db:
        try:
            with db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (BUILD_LOCK,))
                report = _update(db, catalogue, cache_dir, model, rebuild, progress, started)
        except psycopg.Error as error:
            raise IndexBuildError(f"building the search index failed: {one_line(error)}",
                                  file=where, hint="the previous index is unchanged; fix the cause "
                                  "and run `discovery index` again") from None
        if report.indexed:
            _analyze(db)
    return report


def _analyze(db: psycopg.Connection[Any]) -> None:
    """Planner statistics for the rows just written. Without them the planner guesses: right
    after a build of the corpus, 7 of its 75 tuning queries took 1.1-7.0 s; with them, at most
    0.14 s (the first, cold query aside).
    A role that may not analyze these tables leaves it to autovacuum (PostgreSQL warns, skips)."""
    db.execute(f"ANALYZE {', '.join(SEARCH_TABLES)}")


def _update(db: psycopg.Connection[Any], catalogue: CatalogueStore, cache_dir: Path,
            model: str | None, rebuild: bool, progress: Progress | None, started: float
            ) -> UpdateReport:
    meta = db.execute("SELECT model, model_key, seq, next_row, generation, english_key"
                      " FROM search_meta").fetchone()
    # as a local index: the models asked for, else those the index was built with (an index
    # built before version 7 keeps its model alone until asked), else the default
    if model:
        key, english = model_keys(model)
    elif meta:
        key, english = meta[1], meta[5]
    else:
        key, english = model_keys(INDEX_MODEL)
    spec = MODELS[key]
    full = rebuild or meta is None or meta[0] != spec.name or meta[5] != english
    encoders = [(table, encoder) for table, encoder in zip(VECTOR_TABLES, (key, english), strict=True)
                if encoder]
    seq = catalogue.last_seq()
    generation = (meta[4] if meta else 0) + 1
    if full:
        upserted, deleted = catalogue.all_ids(), []
        db.execute("DELETE FROM search_documents")
        for table in VECTOR_TABLES:
            db.execute(f"DELETE FROM {table}")
        db.execute("DELETE FROM search_aliases")
        db.execute("DELETE FROM search_vocabulary")
        next_row = 0
    else:
        assert meta is not None
        changes = catalogue.changes_since(meta[2])
        if not changes.upserted and not changes.deleted:
            return UpdateReport(model=models_name(key, english), full=False, indexed=0, deleted=0, encoded=0,
                                documents=_count(db), seq=meta[2],
                                seconds=time.perf_counter() - started)
        seq = max(seq, changes.seq)
        deleted = sorted(changes.deleted)
        upserted = _with_parents(db, catalogue, sorted(changes.upserted), deleted)
        next_row = meta[3]
        _delete(db, upserted + deleted)
    cache = EmbeddingCache(cache_dir / EMBEDDING_CACHE)
    encoded = done = 0
    try:
        for start in range(0, len(upserted), BATCH):
            documents = read_documents(catalogue, upserted[start:start + BATCH])
            rows = list(range(next_row, next_row + len(documents)))
            next_row += len(documents)
            _insert(db, rows, documents)
            for table, encoder in encoders:
                encoded += _add_vectors(db, table, cache, encoder, rows, documents, progress, done,
                                        len(upserted))
            done += len(documents)
            if progress:
                progress("indexing", done, len(upserted))
    finally:
        cache.close()
    _derive(db, [(table, MODELS[encoder].dim) for table, encoder in encoders])
    live = _count(db)
    db.execute("DELETE FROM search_meta")
    db.execute("INSERT INTO search_meta (model, model_key, dim, seq, next_row, generation, built_at,"
               " english_model, english_key) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
               (spec.name, key, spec.dim, seq, next_row, generation,
                time.strftime("%Y-%m-%dT%H:%M:%S"), MODELS[english].name if english else None,
                english))
    return UpdateReport(model=models_name(key, english), full=full, indexed=len(upserted),
                        deleted=len(deleted), encoded=encoded, documents=live, seq=seq,
                        seconds=time.perf_counter() - started, generation=f"generation {generation}")


def _count(db: psycopg.Connection[Any]) -> int:
    found = db.execute("SELECT count(*) FROM search_documents").fetchone()
    return int(found[0]) if found else 0


def _with_parents(db: psycopg.Connection[Any], catalogue: CatalogueStore, upserted: list[str],
                  deleted: list[str]) -> list[str]:
    """Changed items change their parent's item count: reindex those parents too."""
    parents = {stored.parent for stored in catalogue.read_records(upserted) if stored.parent}
    parents |= {parent for (parent,) in db.execute(
        "SELECT parent FROM search_documents WHERE id = ANY(%s) AND parent IS NOT NULL", (deleted,))}
    extra = set(catalogue.existing_ids(sorted(parents - set(upserted) - set(deleted))))
    return sorted(set(upserted) | extra)


def _delete(db: psycopg.Connection[Any], ids: list[str]) -> None:
    """Remove the rows of `ids` (rows are never reused), uncounting their words."""
    found = db.execute("SELECT row, body->'fields' FROM search_documents WHERE id = ANY(%s)",
                       (ids,)).fetchall()
    counts = _word_counts(fields for _, fields in found)
    db.cursor().executemany("UPDATE search_vocabulary SET df = df - %s WHERE word = %s",
                            [(n, word) for word, n in counts.items()])
    db.execute("DELETE FROM search_vocabulary WHERE df <= 0")
    rows = [row for row, _ in found]
    db.execute("DELETE FROM search_aliases WHERE row = ANY(%s)", (rows,))
    db.execute("DELETE FROM search_documents WHERE row = ANY(%s)", (rows,))
    for table in VECTOR_TABLES:
        db.execute(f"DELETE FROM {table} WHERE row = ANY(%s)", (rows,))


def _word_counts(all_fields: Any) -> Counter[str]:
    """How many documents hold each word, as the speller's vocabulary counts them."""
    counts: Counter[str] = Counter()
    for fields in all_fields:
        counts.update(vocabulary_words("\n".join(fields.values())))
    return counts


def _add_vectors(db: psycopg.Connection[Any], table: str, cache: EmbeddingCache, key: str,
                 rows: list[int], documents: list[IndexDocument], progress: Progress | None,
                 done: int, total: int) -> int:
    """One encoder's vectors of the rows and of the hits' titles (items have none, as in the
    local index) into `table`; returns how many texts the cache lacked."""
    vectors, missing = encode_texts(cache, key, [doc.embed_text for doc in documents], progress,
                                    done, total)
    heads = [i for i, doc in enumerate(documents) if doc.kind not in ITEM_KINDS]
    titles, missing_titles = encode_texts(cache, key, [documents[i].title for i in heads], None, 0, 0)
    title_of = dict(zip(heads, titles, strict=True))
    _copy_vectors(db, table, rows, vectors, [title_of.get(i) for i in range(len(documents))])
    return missing + missing_titles


def _insert(db: psycopg.Connection[Any], rows: list[int], documents: list[IndexDocument]) -> None:
    values = []
    for row, doc in zip(rows, documents, strict=True):
        text = "\n".join(doc.fields.values())
        native = [CONFIGURATIONS[code] for code in dict.fromkeys(doc.languages)
                  if configuration(code)]
        keys = sorted({f"{name}:{value_key(name, value)}" for name, found in doc.facets.items()
                       if name in FACETS for value in found})
        values.append((
            row, doc.id, doc.kind, doc.parent, row, ITEMS if doc.kind in ITEM_KINDS else RECORDS,
            doc.title, doc.family, keys, json.dumps(doc.facets, ensure_ascii=False),
            json.dumps(doc.ranges), *(doc.ranges.get(name) for name in RANGE_COLUMNS),
            len(TOKEN.findall(text)), len(TOKEN.findall(doc.title)),
            fold(doc.title), fold(text), native, text,
            json.dumps({"fields": doc.fields, "display": doc.display}, ensure_ascii=False)))
    db.cursor().executemany(
        "INSERT INTO search_documents (row, id, kind, parent, top, side, title, family, facet_keys,"
        " facets, ranges, year_start, year_end, age_min, age_max, sample_size, variables, words,"
        " title_words, tsv, body) VALUES (%s, %s, %s, %s, %s, %s, %s,"
        " %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
        " setweight(to_tsvector('english', %s), 'A') || setweight(to_tsvector('english', %s), 'B')"
        " || search_native_tsvector(%s::regconfig[], %s), %s)", values)
    db.cursor().executemany(
        "INSERT INTO search_aliases VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        [(key, row, bool(code)) for row, doc in zip(rows, documents, strict=True)
         for key, code in doc.aliases.items()])
    db.cursor().executemany(
        "INSERT INTO search_vocabulary VALUES (%s, %s) "
        "ON CONFLICT (word) DO UPDATE SET df = search_vocabulary.df + excluded.df",
        list(_word_counts(doc.fields for doc in documents).items()))


def _derive(db: psycopg.Connection[Any], dims: list[tuple[str, int]]) -> None:
    """What every row's neighbours decide, worked out again after the rows changed: the row each
    item is grouped under, the order of ids, the shown spelling of each facet value, document
    frequencies and mean lengths per side, and each vector table's indexes for the dimension of
    the model it holds (`dims`: table, dimension)."""
    db.execute(
        "UPDATE search_documents d SET top = n.top FROM (SELECT c.row, COALESCE(p.row, c.row) AS top"
        " FROM search_documents c LEFT JOIN search_documents p ON c.side = %s AND p.id = c.parent)"
        " n WHERE n.row = d.row AND d.top <> n.top", (ITEMS,))
    db.execute(
        "UPDATE search_documents d SET ord = o.n FROM (SELECT row, row_number() OVER (ORDER BY id)"
        " - 1 AS n FROM search_documents) o WHERE o.row = d.row AND d.ord IS DISTINCT FROM o.n")
    _facet_values(db)
    db.execute("DELETE FROM search_terms")
    db.execute("DELETE FROM search_sides")
    for side in (RECORDS, ITEMS):
        db.execute(
            "INSERT INTO search_terms SELECT %s, word, COALESCE(max(ndoc) FILTER (WHERE w = 'B'), 0),"
            " COALESCE(max(ndoc) FILTER (WHERE w = 'A'), 0), COALESCE(max(ndoc) FILTER (WHERE w = 'C'), 0)"
            " FROM (SELECT 'A' AS w, * FROM ts_stat(%s, 'A') UNION ALL SELECT 'B', * FROM ts_stat(%s, 'B')"
            " UNION ALL SELECT 'C', * FROM ts_stat(%s, 'C')) AS found GROUP BY word",
            (side, *[f"SELECT tsv FROM search_documents WHERE side = {side}"] * 3))
        db.execute("INSERT INTO search_sides SELECT %s, count(*), COALESCE(avg(words), 0),"
                   " COALESCE(avg(title_words), 0) FROM search_documents WHERE side = %s",
                   (side, side))
    for table, dim in dims:
        for column in ("embedding", "title_embedding"):
            name = f"{table}_{column}_{dim}"
            if not db.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0]:  # type: ignore[index]
                db.execute(f"CREATE INDEX {name} ON {table} USING hnsw "
                           f"(({column}::vector({dim})) vector_cosine_ops)")


def _facet_values(db: psycopg.Connection[Any]) -> None:
    """Each facet key's shown spelling: the one most records grouping items use (as the local
    index's columns show it), ties to the first in code point order."""
    spellings: dict[str, Counter[str]] = {}
    for (facets,) in db.execute("SELECT facets FROM search_documents WHERE row = top"):
        for name, found in facets.items():
            if name in FACETS:
                for value in dict.fromkeys(found):
                    spellings.setdefault(f"{name}:{value_key(name, value)}", Counter())[value] += 1
    db.execute("DELETE FROM search_facet_values")
    db.cursor().executemany("INSERT INTO search_facet_values VALUES (%s, %s, %s)", [
        (key, key.split(":", 1)[0], min(found, key=lambda v: (-found[v], v)))
        for key, found in spellings.items()])
