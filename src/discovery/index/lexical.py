"""The BM25 side of the index: tantivy, one document per record.

Items (variables, questions) and records (studies, instruments, projects...) live in two tantivy
indexes. BM25 normalises a field's length by its average over all documents; in one index the
fifteen thousand one-line questions would make every study description look enormous, and a
keyword list that names the query exactly would score below a blog title. Apart, each side is
normalised against its own kind, and their scores merge on a comparable scale.

Each document has two fields: `title` (boosted) and `text` (everything searchable: title,
question, description, keywords, categories, names and, for a study or instrument, its items).
Queries are built from analysed terms rather than parsed, so user input is never query syntax;
a record holding every term gets its match counted again (coordination, which BM25 lacks), and
a word may come in several spellings (behaviour, behavior) that count as one.
"""

from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path

import numpy as np
import tantivy

from discovery.index.documents import IndexDocument
from discovery.model import ITEM_KINDS

ANALYZER = "discovery_en"
TITLE_BOOST = 2.0
TIE_BREAKER = 0.3  # how much a term's match in the other field adds to its best one
COORDINATION = 1.0  # what holding every query term adds, relative to the terms' own scores
SIDES = ("records", "items")


def analyzer() -> tantivy.TextAnalyzer:
    """Lower case, accents folded, English stop words out, Snowball stems."""
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .filter(tantivy.Filter.stopword("english"))
            .filter(tantivy.Filter.stemmer("english"))
            .build())


_ANALYZER = analyzer()


@lru_cache(maxsize=65536)
def _terms(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_ANALYZER.analyze(text)))


def terms(text: str) -> list[str]:
    """The distinct index terms of a text, in order (explanations ask for the same texts often)."""
    return list(_terms(text))


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("row", stored=False, indexed=True, fast=True)
    builder.add_text_field("title", stored=False, tokenizer_name=ANALYZER)
    builder.add_text_field("text", stored=False, tokenizer_name=ANALYZER)
    # the id of the hit a document is grouped under (and its own): selective filters run inside
    # tantivy as a set of these, instead of reading every match and discarding most
    builder.add_text_field("group", stored=False, tokenizer_name="raw")
    return builder.build()


class _Side:
    def __init__(self, path: Path, create: bool) -> None:
        if create and path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(path), reuse=not create)
        self.index.register_tokenizer(ANALYZER, _ANALYZER)
        self.writer: tantivy.IndexWriter | None = None
        self.searcher = self.index.searcher()

    def write(self) -> tantivy.IndexWriter:
        if self.writer is None:
            self.writer = self.index.writer(heap_size=100_000_000, num_threads=1)
        return self.writer

    def commit(self) -> None:
        if self.writer is not None:
            self.writer.commit()
            self.writer.wait_merging_threads()
            self.writer = None
        self.index.reload()
        self.searcher = self.index.searcher()

    def query(self, query_terms: list[list[str]]) -> tantivy.Query:
        per_term = []
        for spellings in query_terms:
            fields = [query for term in spellings for query in (
                tantivy.Query.boost_query(tantivy.Query.term_query(self.schema, "title", term),
                                          TITLE_BOOST),
                tantivy.Query.term_query(self.schema, "text", term))]
            per_term.append(tantivy.Query.disjunction_max_query(fields, TIE_BREAKER))
        any_term = tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in per_term])
        if len(per_term) == 1:
            return any_term
        every_term = tantivy.Query.boost_query(
            tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in per_term]), COORDINATION)
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, any_term),
                                            (tantivy.Occur.Should, every_term)])

    def search(self, query_terms: list[list[str]], limit: int, groups: list[str] | None = None
               ) -> tuple[np.ndarray, np.ndarray, int]:
        query = self.query(query_terms)
        if groups is not None:
            within = tantivy.Query.const_score_query(
                tantivy.Query.term_set_query(self.schema, "group", groups), 0.0)
            query = tantivy.Query.boolean_query([(tantivy.Occur.Must, query),
                                                 (tantivy.Occur.Must, within)])
        result = self.searcher.search(query, limit=limit, count=True)
        addresses = [address for _, address in result.hits]
        rows = np.asarray(self.searcher.fast_field_values("row", addresses), dtype=np.int64)
        scores = np.asarray([score for score, _ in result.hits], dtype=np.float32)
        return rows, scores, result.count


class LexicalIndex:
    """The two tantivy indexes under `path`; rows are the index-wide document numbers."""

    def __init__(self, path: Path, create: bool = False) -> None:
        self.sides = {name: _Side(path / name, create) for name in SIDES}

    def add(self, rows: list[int], documents: list[IndexDocument]) -> None:
        for row, doc in zip(rows, documents, strict=True):
            document = tantivy.Document(title=doc.title, text="\n".join(doc.fields.values()))
            document.add_unsigned("row", row)
            document.add_text("group", doc.id)
            if doc.parent and doc.kind in ITEM_KINDS:
                document.add_text("group", doc.parent)
            self.sides["items" if doc.kind in ITEM_KINDS else "records"].write().add_document(document)

    def delete(self, rows: list[int]) -> None:
        for side in self.sides.values():
            for start in range(0, len(rows), 10_000):
                chunk = rows[start:start + 10_000]
                side.write().delete_documents_by_query(
                    tantivy.Query.term_set_query(side.schema, "row", chunk))

    def commit(self) -> None:
        for side in self.sides.values():
            side.commit()

    def search(self, query_terms: list[list[str]], limit: int, groups: list[str] | None = None
               ) -> tuple[np.ndarray, np.ndarray, int]:
        """Rows and BM25 scores of the best `limit` matches of both sides, and how many match;
        with `groups`, only documents that are, or are grouped under, one of those ids. Each of
        `query_terms` is one query word's index terms in its accepted spellings."""
        if not query_terms or limit <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32), 0
        found = [side.search(query_terms, limit, groups) for side in self.sides.values()]
        rows = np.concatenate([f[0] for f in found])
        scores = np.concatenate([f[1] for f in found])
        best = np.lexsort((rows, -scores))[:limit]
        return rows[best], scores[best], sum(f[2] for f in found)
