"""Search inside a PostgreSQL catalogue: the shared pipeline (`pipeline.py`) over the search tables
that `discovery index --data postgresql://...` builds (`index/postgres_build.py`).

Keywords are found by PostgreSQL full-text search (`@@` on the weighted tsvector, GIN) and scored
by BM25 in SQL from each matching row's term counts, the side's document frequencies and mean
lengths: the local index scores with tantivy's BM25, and fusion scales the keyword side by the
query's best score, so both backends need a score that weighs a rare word above a common one
(`ts_rank` has no document frequencies). Meaning is found by pgvector's HNSW index (cosine),
in the index model's vectors, and for an English query in an index built `e5+minilm` also in the
English encoder's, the two lists combined by `dense_pair.py` as the local index combines them.
Filters and facet counts are SQL over the rows' grouping records; the page's fields are read from
the same tables. Each query runs in one read-only REPEATABLE READ transaction, so all its
statements see one published index, and under a statement timeout.
"""

from __future__ import annotations

import json
import math
import threading
from typing import Any

import numpy as np
import psycopg

from discovery.catalogue.backends import open_catalogue
from discovery.catalogue.postgres_connection import connect, one_line, shown
from discovery.catalogue.postgres_schema import connect_current
from discovery.errors import CatalogueError
from discovery.index.build import IndexBuildError
from discovery.index.columns import FACETS, KINDS, RANGES, SORT_COLUMNS, SPANS, FilterError
from discovery.index.embed import MODELS, get_embedder
from discovery.index.facet_keys import filter_keys, value_key
from discovery.index.lexical import COORDINATION, LANGUAGE_TIE, TIE_BREAKER, TITLE_BOOST, LexicalQuery
from discovery.index.postgres_build import CONFIGURATIONS, VECTOR_TABLES, family_number
from discovery.search.deadline import SearchTimeout
from discovery.search.models import SearchRequest, SearchResults
from discovery.search.pipeline import Settings, run_search
from discovery.search.relevance import SemanticCut, semantic_cut
from discovery.search.spelling import Speller

K1, B = 1.2, 0.75  # BM25's, as tantivy sets them
MAX_EF_SEARCH = 1000  # pgvector's upper bound on the HNSW candidate list
QUERY_CACHE = 1024  # query vectors kept in this process's memory
FROM_ROWS = ("search_documents d JOIN search_documents t ON t.row = d.top")  # a row, its grouping record


class Filter:
    """A query's filters as SQL over `d` (the row) and `t` (the record it is grouped under), with
    named parameters (`f0`, `f1`...), so a statement adds its own beside them."""

    def __init__(self, filters: dict[str, list[str]],
                 ranges: dict[str, tuple[float | None, float | None]], within: int | None) -> None:
        self.clauses: list[str] = []
        self.params: dict[str, Any] = {}
        if filters.get("kind"):
            unknown = [k for k in filters["kind"] if k not in KINDS]
            if unknown:
                raise FilterError(f"unknown kind {unknown[0]!r}", hint=f"one of: {', '.join(KINDS)}")
            self._add("d.kind = ANY({})", list(filters["kind"]))
        for name, wanted in filters.items():
            if not wanted or name == "kind":
                continue
            if name not in FACETS:
                raise FilterError(f"unknown facet {name!r}", hint=f"one of: kind, {', '.join(FACETS)}")
            self._add("t.facet_keys && {}::text[]",
                      [f"{name}:{key}" for value in wanted for key in filter_keys(name, value)])
        for name, (low, high) in ranges.items():
            if name not in RANGES:
                raise FilterError(f"unknown range {name!r}", hint=f"one of: {', '.join(RANGES)}")
            bounds = (-math.inf if low is None else low, math.inf if high is None else high)
            if name in SPANS:  # the record's span overlaps the asked one
                start, end = SPANS[name]
                self._add(f"GREATEST(t.{end}, t.{start}) >= {{}} AND LEAST(t.{start}, t.{end}) <= {{}}",
                          *bounds)
            else:
                self._add(f"t.{name} >= {{}} AND t.{name} <= {{}}", *bounds)
        if within is not None:
            self._add("d.top = {} AND d.row <> {}", within, within)

    def _add(self, clause: str, *values: Any) -> None:
        names = [f"f{len(self.params) + i}" for i in range(len(values))]
        self.clauses.append(clause.format(*(f"%({name})s" for name in names)))
        self.params.update(zip(names, values, strict=True))

    @property
    def where(self) -> str:
        return " AND ".join(self.clauses) or "TRUE"


def _where(allowed: Filter | None) -> tuple[str, dict[str, Any]]:
    return ("TRUE", {}) if allowed is None else (allowed.where, allowed.params)


def _rows(allowed: Filter | None) -> str:
    """The rows a statement reads: with their grouping records only when filters read those."""
    return "search_documents d" if allowed is None else FROM_ROWS


def _tsquery(terms: list[tuple[str, str]]) -> str:
    """A tsquery matching any of the lexemes at the given weights, quoted so no input is syntax."""
    quoted = ("'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "':" + weights
              for lexeme, weights in terms)
    return " | ".join(quoted)


def vector_text(vector: np.ndarray) -> str:
    """pgvector's text form of a query vector; float32 values printed exactly."""
    return "[" + ",".join(repr(x) for x in np.asarray(vector, np.float32).reshape(-1).tolist()) + "]"


def _idf(df: str) -> str:
    """BM25's inverse document frequency of a term in `df` of the side's documents."""
    return f"ln(1 + (s.documents - {df} + 0.5::float8) / ({df} + 0.5::float8))"


def _bm25(tf: str, length: str, mean: str) -> str:
    """BM25's term frequency part, in double precision (numeric arithmetic took 29 of 78 ms)."""
    return (f"({tf} * {K1 + 1}::float8 / NULLIF({tf} + {K1}::float8 * (1 - {B}::float8 + {B}::float8"
            f" * {length} / GREATEST({mean}, 1)), 0))")


# Per matching row: each query lexeme's counts at the title (A), text (B) and native (C) weights,
# each with its own document frequency (as tantivy keeps one per field), scored as the local
# index's tantivy query scores them: per English term the better of title
# (boosted) and text plus a share of the other; the terms summed, doubled when every word matched
# (coordination: words PostgreSQL's English configuration drops as stop words, such as "how",
# which tantivy's list keeps, are not asked for); the native reading likewise; a row scores by its
# better reading plus a share of the other.
_LEXICAL = f"""
WITH q AS (SELECT * FROM unnest(%(groups)s::int[], %(lexemes)s::text[], %(native)s::bool[])
           AS q(grp, lexeme, native)),
w AS (SELECT count(DISTINCT grp) AS words FROM q
      WHERE NOT native AND to_tsvector('english', lexeme) <> ''::tsvector),
m AS (SELECT d.row, d.side, d.words, d.title_words,
             ts_delete(d.tsv, tsvector_to_array(ts_delete(d.tsv, %(lexemes)s::text[]))) AS held
      FROM {{rows}} WHERE d.tsv @@ %(tsquery)s::tsquery AND ({{where}})),
u AS (SELECT m.row, q.grp, q.native,
             {_idf("f.df")} AS idf, {_idf("f.title_df")} AS title_idf, {_idf("f.native_df")} AS native_idf,
             cardinality(array_positions(u.weights, 'A'))::float8 AS ta,
             cardinality(array_positions(u.weights, 'B'))::float8 AS tb,
             cardinality(array_positions(u.weights, 'C'))::float8 AS tc,
             m.words, m.title_words, s.words AS mean_words, s.title_words AS mean_title
      FROM m CROSS JOIN LATERAL unnest(m.held) AS u
      JOIN q ON q.lexeme = u.lexeme
      JOIN search_sides s ON s.side = m.side
      JOIN search_terms f ON f.side = m.side AND f.lexeme = u.lexeme),
f AS (SELECT row, grp, native,
             native_idf * COALESCE({_bm25("tc", "words", "mean_words")}, 0) AS in_native,
             {TITLE_BOOST}::float8 * title_idf * COALESCE({_bm25("ta", "title_words", "mean_title")}, 0)
                 AS in_title,
             idf * COALESCE({_bm25("tb", "words", "mean_words")}, 0) AS in_text
      FROM u),
t AS (SELECT row, grp, native, sum(CASE WHEN native THEN in_native
             ELSE GREATEST(in_title, in_text) + {TIE_BREAKER}::float8 * LEAST(in_title, in_text) END) AS score
      FROM f GROUP BY row, grp, native),
r AS (SELECT row,
             COALESCE(sum(score) FILTER (WHERE NOT native), 0) AS english,
             count(*) FILTER (WHERE NOT native AND score > 0) AS english_groups,
             COALESCE(sum(score) FILTER (WHERE native), 0) AS native,
             count(*) FILTER (WHERE native AND score > 0) AS native_groups
      FROM t GROUP BY row),
c AS (SELECT row,
             english * CASE WHEN w.words > 1 AND english_groups = w.words
                            THEN {1 + COORDINATION}::float8 ELSE 1 END AS english,
             native * CASE WHEN %(native_groups)s > 1 AND native_groups = %(native_groups)s
                           THEN {1 + COORDINATION}::float8 ELSE 1 END AS native
      FROM r CROSS JOIN w)
SELECT row, GREATEST(english, native) + {LANGUAGE_TIE}::float8 * LEAST(english, native) AS score
FROM c WHERE english > 0 OR native > 0 ORDER BY score DESC, row LIMIT %(k)s
"""


_Columns = tuple[int, str | None, int, dict[str, float | None], list[str]]  # `PostgresEngine._read`


class _Encoder:
    """One encoder whose vectors an index keeps: its MODELS key, dimension, table and cut."""

    def __init__(self, model: str, key: str, dim: int, table: str) -> None:
        self.model = model
        self.key = key
        self.dim = dim
        self.table = table
        self.cut = semantic_cut(model)


class _State:
    """What a published generation fixes for every query on it: its model (and the English
    encoder beside it, if built) and speller."""

    def __init__(self, db: psycopg.Connection[Any], generation: int, model: str, key: str, dim: int,
                 english_model: str | None, english_key: str | None) -> None:
        self.generation = generation
        self.model = model
        self.main = _Encoder(model, key, dim, VECTOR_TABLES[0])
        self.english = None if english_key is None or english_model is None else \
            _Encoder(english_model, english_key, MODELS[english_key].dim, VECTOR_TABLES[1])
        self.cut = self.main.cut
        self.speller = Speller(dict(db.execute("SELECT word, df FROM search_vocabulary").fetchall()))


class VectorTable:
    """One encoder's vectors in the database, as the pipeline and the dense pair read them
    (`engine.VectorSide`), inside the query's transaction."""

    def __init__(self, db: psycopg.Connection[Any], encoder: _Encoder, searcher: PostgresSearcher
                 ) -> None:
        self.db = db
        self.encoder = encoder
        self.searcher = searcher

    @property
    def model(self) -> str:
        return self.encoder.model

    @property
    def cut(self) -> SemanticCut:
        return self.encoder.cut

    def embed_query(self, text: str) -> np.ndarray:
        return self.searcher.embed_query(text, self.encoder.key)

    def semantic_search(self, vector: np.ndarray, k: int, allowed: Filter | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
        """The planner picks the HNSW index or an exact scan; ties come back in row order, as
        the local index has them."""
        self.db.execute("SELECT set_config('hnsw.ef_search', %s, true), "
                        "set_config('hnsw.iterative_scan', 'strict_order', true)",
                        (str(min(MAX_EF_SEARCH, max(40, k))),))
        distance = f"v.embedding::vector({self.encoder.dim}) <=> %(vector)s::vector({self.encoder.dim})"
        where, params = _where(allowed)
        rows_of = "" if allowed is None else f" JOIN {FROM_ROWS} ON d.row = v.row WHERE {where}"
        found = self.db.execute(f"SELECT v.row, 1 - ({distance}) FROM {self.encoder.table} v{rows_of}"
                                f" ORDER BY {distance} LIMIT %(k)s",
                                {**params, "vector": vector_text(vector), "k": k}).fetchall()
        rows = np.asarray([row for row, _ in found], np.int64)
        scores = np.asarray([score for _, score in found], np.float32)
        order = np.lexsort((rows, -scores))
        return rows[order], scores[order]

    def similarities(self, vector: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._cosines("embedding", vector, rows)

    def title_similarities(self, vector: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._cosines("title_embedding", vector, rows)

    def _cosines(self, column: str, vector: np.ndarray, rows: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Those of `rows` with a vector in `column`, in their order, and its cosine with `vector`."""
        dim = self.encoder.dim
        found = self.db.execute(
            f"SELECT v.row, 1 - (v.{column}::vector({dim}) <=> %s::vector({dim}))"
            " FROM unnest(%s::bigint[]) WITH ORDINALITY AS r(row, n)"
            f" JOIN {self.encoder.table} v ON v.row = r.row WHERE v.{column} IS NOT NULL ORDER BY r.n",
            (vector_text(vector), rows.tolist())).fetchall()
        return (np.asarray([row for row, _ in found], np.int64),
                np.asarray([score for _, score in found], np.float32))


class PostgresEngine:
    """One query's view of the search tables (`engine.Engine`), inside its transaction."""

    def __init__(self, db: psycopg.Connection[Any], state: _State, searcher: PostgresSearcher) -> None:
        self.db = db
        self.state = state
        self.searcher = searcher
        self.vectors = VectorTable(db, state.main, searcher)
        self._columns: dict[int, _Columns] = {}
        self._tops: dict[int, int] = {}
        self._counted: tuple[tuple[bytes, bytes, int], dict[str, list[tuple[str, int]]]] | None = None

    @property
    def model(self) -> str:
        return self.state.model

    @property
    def cut(self) -> SemanticCut:
        return self.state.cut

    @property
    def speller(self) -> Speller:
        return self.state.speller

    def embed_query(self, text: str) -> np.ndarray:
        return self.vectors.embed_query(text)

    def english_pair(self) -> tuple[VectorTable, VectorTable] | None:
        if self.state.english is None:
            return None
        return self.vectors, VectorTable(self.db, self.state.english, self.searcher)

    # ---- finding rows ------------------------------------------------------------------

    def allowed(self, filters: dict[str, list[str]], ranges: dict[str, tuple[float | None, float | None]],
                within: int | None) -> Filter:
        return Filter(filters, ranges, within)

    def allows(self, allowed: Filter | None, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros(0, bool)
        where, params = _where(allowed)
        found = self.db.execute(
            f"SELECT d.row FROM unnest(%(rows)s::bigint[]) AS r(row) JOIN {_rows(allowed)} ON d.row = r.row"
            f" WHERE {where}", {**params, "rows": rows.tolist()}).fetchall()
        return np.isin(rows, np.asarray([row for (row,) in found], np.int64))

    def browse(self, allowed: Filter | None) -> np.ndarray:
        where, params = _where(allowed)
        found = self.db.execute(f"SELECT d.row FROM {_rows(allowed)} WHERE {where} ORDER BY d.row",
                                params).fetchall()
        return np.asarray([row for (row,) in found], np.int64)

    def lexical_search(self, query: LexicalQuery, k: int, allowed: Filter | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
        terms = [(group, lexeme, False) for group, spellings in enumerate(query.english)
                 for lexeme in spellings]
        native = self._native_lexemes(query)
        terms += [(len(query.english) + i, lexeme, True) for i, lexeme in enumerate(dict.fromkeys(native))]
        if not terms or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        where, params = _where(allowed)
        named = {**params, "groups": [t[0] for t in terms], "lexemes": [t[1] for t in terms],
                 "native": [t[2] for t in terms], "k": k,
                 "tsquery": _tsquery([(lexeme, "C" if own else "AB") for _, lexeme, own in terms]),
                 "native_groups": len(dict.fromkeys(native))}
        found = self.db.execute(_LEXICAL.replace("{rows}", _rows(allowed)).replace("{where}", where),
                                named).fetchall()
        return (np.asarray([row for row, _ in found], np.int64),
                np.asarray([score for _, score in found], np.float32))

    def _native_lexemes(self, query: LexicalQuery) -> list[str]:
        """The query read by PostgreSQL's configuration of each language it may be in, as the
        records' own-language text was (tantivy folds accents after stemming, which PostgreSQL
        cannot: "éducation" is 'éduc' here, 'educ' there)."""
        languages = [CONFIGURATIONS[code] for code, found in query.native.items()
                     if found and code in CONFIGURATIONS]
        if not languages or not query.text:
            return [lexeme for found in query.native.values() for lexeme in found]
        found = self.db.execute(
            "SELECT DISTINCT unnest(tsvector_to_array(to_tsvector(c::regconfig, %s)))"
            " FROM unnest(%s::text[]) AS c", (query.text, languages)).fetchall()
        return sorted(lexeme for (lexeme,) in found)

    def semantic_search(self, vector: np.ndarray, k: int, allowed: Filter | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
        return self.vectors.semantic_search(vector, k, allowed)

    def title_similarities(self, vector: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.vectors.title_similarities(vector, rows)

    def named(self, keys: list[str], codes_only: bool = False) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for key, row in self.db.execute(
                "SELECT key, row FROM search_aliases WHERE key = ANY(%s)"
                + (" AND code" if codes_only else "") + " ORDER BY key, row", (keys,)):
            found.setdefault(key, []).append(row)
        return found

    def vector_of(self, row: int) -> np.ndarray | None:
        found = self.db.execute("SELECT embedding::text FROM search_vectors WHERE row = %s",
                                (row,)).fetchone()
        return None if found is None else np.asarray(json.loads(found[0]), np.float32)[None, :]

    def row_of(self, rid: str) -> int | None:
        found = self.db.execute("SELECT row FROM search_documents WHERE id = %s", (rid,)).fetchone()
        return None if found is None else int(found[0])

    def resolve(self, key: str) -> str:
        if self.row_of(key) is not None:
            return key
        with open_catalogue(self.searcher.url) as catalogue:
            return catalogue.resolve(key)

    # ---- columns of given rows -----------------------------------------------------------

    def _read(self, rows: np.ndarray) -> list[_Columns]:
        """(top, family, order, ranges, facet keys) of each row (hits), read once per query."""
        wanted = [row for row in dict.fromkeys(rows.tolist()) if row not in self._columns]
        if wanted:
            for row, top, family, order, ranges, keys in self.db.execute(
                    "SELECT row, top, family, ord, ranges, facet_keys FROM search_documents"
                    " WHERE row = ANY(%s)", (wanted,)):
                self._columns[row] = (top, family, order, ranges, keys)
        return [self._columns[row] for row in rows.tolist()]

    def tops(self, rows: np.ndarray) -> np.ndarray:
        """Asked of every candidate (thousands), so only this column is read for them; the
        others are read for the hits alone."""
        wanted = [row for row in dict.fromkeys(rows.tolist()) if row not in self._tops]
        if wanted:
            self._tops.update(self.db.execute(
                "SELECT row, top FROM search_documents WHERE row = ANY(%s)", (wanted,)).fetchall())
        return np.asarray([self._tops[row] for row in rows.tolist()], np.int64)

    def families(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray([family_number(c[1]) if c[1] else -(row + 1)
                           for row, c in zip(rows.tolist(), self._read(rows), strict=True)], np.int64)

    def order(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray([c[2] for c in self._read(rows)], np.int64)

    def order_mark(self, rid: str) -> float:
        found = self.db.execute("SELECT ord FROM search_documents WHERE id = %s", (rid,)).fetchone()
        if found is not None:
            return float(found[0]) + 0.5
        below = self.db.execute("SELECT count(*) FROM search_documents WHERE id < %s", (rid,)).fetchone()
        return float(below[0] if below else 0) - 0.5

    def sort_key(self, sort: str, rows: np.ndarray) -> np.ndarray:
        column = SORT_COLUMNS[sort]
        values = [c[3].get(column) for c in self._read(rows)]
        return np.asarray([-np.inf if v is None else float(v) for v in values], np.float64)

    def speaks(self, rows: np.ndarray, language: str) -> np.ndarray:
        wanted = f"language:{value_key('language', language)}"
        return np.asarray([wanted in keys or (language == "en" and not any(
            key.startswith("language:") for key in keys)) for *_, keys in self._read(rows)], bool)

    def kind_counts(self, rows: np.ndarray, owners: np.ndarray) -> list[tuple[str, int]]:
        if not len(rows):
            return []
        found = self.db.execute(
            "SELECT d.kind, count(DISTINCT o.owner) FROM unnest(%s::bigint[], %s::bigint[])"
            " AS o(row, owner) JOIN search_documents d ON d.row = o.row WHERE d.kind = ANY(%s)"
            " GROUP BY d.kind", (rows.tolist(), owners.astype(np.int64).tolist(), list(KINDS))).fetchall()
        return sorted(((kind, int(n)) for kind, n in found),
                      key=lambda item: (-item[1], KINDS.index(item[0])))

    def value_counts(self, name: str, hits: np.ndarray, limit: int, groups: np.ndarray | None
                     ) -> list[tuple[str, int]]:
        """Every facet is counted in the first call's one statement (one pass over the hits'
        grouping records instead of one per facet); the pipeline then asks facet by facet."""
        if not len(hits):
            return []
        owners = np.arange(len(hits)) if groups is None else groups.astype(np.int64)
        asked = (hits.tobytes(), owners.tobytes(), limit)
        if self._counted is None or self._counted[0] != asked:
            found = self.db.execute(
                "WITH h AS (SELECT DISTINCT v.facet, v.key, v.value, h.owner"
                "  FROM unnest(%s::bigint[], %s::bigint[]) AS h(row, owner)"
                f" JOIN {FROM_ROWS} ON d.row = h.row CROSS JOIN LATERAL unnest(t.facet_keys) AS k(key)"
                "  JOIN search_facet_values v ON v.key = k.key),"
                " n AS (SELECT facet, value, count(*) AS n, row_number() OVER (PARTITION BY facet"
                "  ORDER BY count(*) DESC, value) AS place FROM h GROUP BY facet, key, value)"
                " SELECT facet, value, n FROM n WHERE place <= %s ORDER BY facet, place",
                (hits.tolist(), owners.tolist(), limit)).fetchall()
            counts: dict[str, list[tuple[str, int]]] = {}
            for facet, value, n in found:
                counts.setdefault(facet, []).append((value, int(n)))
            self._counted = (asked, counts)
        return self._counted[1].get(name, [])

    def bodies(self, rows: list[int]) -> dict[int, dict[str, Any]]:
        return {row: {"id": rid, "kind": kind, "parent": parent, "title": title, "ranges": ranges, **body}
                for row, rid, kind, parent, title, ranges, body in self.db.execute(
                    "SELECT row, id, kind, parent, title, ranges, body FROM search_documents"
                    " WHERE row = ANY(%s)", ([int(r) for r in rows],))}

    def titles(self, rows: list[int]) -> dict[int, tuple[str, str]]:
        return {row: (rid, title) for row, rid, title in self.db.execute(
            "SELECT row, id, title FROM search_documents WHERE row = ANY(%s)", ([int(r) for r in rows],))}


class PostgresSearcher:
    """The searcher (`searcher.Searcher`) over a database's search tables: a connection per
    thread, the published generation's model and speller kept until a newer one is published."""

    def __init__(self, url: str, settings: Settings | None = None) -> None:
        self.url = url
        self.settings = settings or Settings()
        self._local = threading.local()
        self._connections: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()  # guards the state, the connection list and the vectors
        self._state: _State | None = None
        self._vectors: dict[tuple[str, str], np.ndarray] = {}  # oldest first
        with connect_current(url) as db:
            self._current(db)

    @property
    def model(self) -> str:
        with self._connection().transaction():
            return self._current(self._connection()).model

    @property
    def generation(self) -> str:
        with self._connection().transaction():
            return str(self._current(self._connection()).generation)

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                db.close()
            self._connections.clear()

    def search(self, request: SearchRequest) -> SearchResults:
        db = self._connection()
        try:
            with db.transaction():
                db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                db.execute("SELECT set_config('statement_timeout', %s, true)",  # 0 is no limit
                           (str(max(1, int(self.settings.seconds * 1000))),))
                return run_search(PostgresEngine(db, self._current(db), self), request, self.settings)
        except psycopg.errors.QueryCanceled:
            raise SearchTimeout(f"the search ran past its {self.settings.seconds:g} s limit",
                                hint="try again in a few seconds, or narrow the query with a "
                                     "filter") from None
        except psycopg.OperationalError as error:
            self._local.db = None
            raise CatalogueError(f"lost the connection to PostgreSQL: {one_line(error)}",
                                 file=shown(self.url), hint="check that the server is running") from None

    def embed_query(self, text: str, key: str) -> np.ndarray:
        """The query's vector, from this process's memory when a query repeats (paging, facets)."""
        with self._lock:
            vector = self._vectors.pop((key, text), None)
            if vector is None:
                vector = get_embedder(key).encode([text], "query")
            if len(self._vectors) >= QUERY_CACHE:
                self._vectors.pop(next(iter(self._vectors)))
            self._vectors[(key, text)] = vector
            return vector

    def _connection(self) -> psycopg.Connection[Any]:
        db = getattr(self._local, "db", None)
        if db is None or db.closed:
            db = connect(self.url)
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    def _current(self, db: psycopg.Connection[Any]) -> _State:
        """The published generation as this transaction sees it (its speller read once)."""
        found = db.execute("SELECT generation, model, model_key, dim, english_model, english_key"
                           " FROM search_meta").fetchone()
        if found is None:
            raise IndexBuildError("no search index in this database yet", file=shown(self.url),
                                  hint=f"run `discovery index --data {shown(self.url)}` first")
        state = self._state
        if state is None or state.generation != found[0]:
            state = _State(db, *found)
            with self._lock:
                self._state = state
        return state
