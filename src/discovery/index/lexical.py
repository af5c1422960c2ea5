"""The BM25 side of the index: tantivy, one document per record.

Items (variables, questions) and records (studies, instruments, projects...) live in two tantivy
indexes. BM25 normalises a field's length by its average over all documents; in one index the
fifteen thousand one-line questions would make every study description look enormous, and a
keyword list that names the query exactly would score below a blog title. Apart, each side is
normalised against its own kind, and their scores merge on a comparable scale.

Each document has two fields: `title` (boosted) and `text` (everything searchable: title,
question, description, keywords, categories, names and, for a study or instrument, its items),
both read by an English analyser. A document in another language with a Snowball stemmer also
has `text_<code>` read by that language's analyser, so "logements" meets "logement" and
"Kindern" meets "Kind"; a query is read by every analyser, and a document scores by its best
language (`disjunction_max`), not the sum of them.
Queries are built from analysed terms rather than parsed, so user input is never query syntax;
a record holding every term gets its match counted again (coordination, which BM25 lacks), and
a word may come in several spellings (behaviour, behavior) that count as one.

A query's filters run inside tantivy (`LexicalFilter`): every document carries its kind and, as
raw terms and numbers, the facet value keys and ranges filters read for it, which for an item are
its parent's (`columns.py`), so a filtered query intersects posting lists instead of reading
thousands of matches and dropping most. A variable count is not carried: it changes whenever an
item is added, and items would all have to be rewritten with it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import tantivy

from discovery.index.columns import FACETS, SPANS
from discovery.index.documents import FilterValues, IndexDocument
from discovery.index.facet_keys import value_key
from discovery.model import ITEM_KINDS

ANALYZER = "discovery_en"
# ISO 639-1 code -> Snowball stemmer (and stop word list) of the languages read natively
STEMMED = {"fr": "french", "de": "german", "es": "spanish", "pt": "portuguese", "it": "italian",
           "nl": "dutch", "fi": "finnish", "sv": "swedish", "no": "norwegian", "da": "danish"}
LANGUAGE_TIE = 0.1  # what a match in a document's other language adds to its best one
TITLE_BOOST = 2.0
TIE_BREAKER = 0.3  # how much a term's match in the other field adds to its best one
COORDINATION = 1.0  # what holding every query term adds, relative to the terms' own scores
SIDES = ("records", "items")
CARRIED_RANGES = (*SPANS, "sample_size")  # the ranges a filter reads from the lexical index


def analyzer() -> tantivy.TextAnalyzer:
    """Lower case, accents folded, English stop words out, Snowball stems."""
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .filter(tantivy.Filter.stopword("english"))
            .filter(tantivy.Filter.stemmer("english"))
            .build())


def native_analyzer(language: str) -> tantivy.TextAnalyzer:
    """One language's analyser: its stop words out, its stems, then accents folded (after
    stemming, which needs them), so a query typed without accents still matches."""
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.stopword(language))
            .filter(tantivy.Filter.stemmer(language))
            .filter(tantivy.Filter.ascii_fold())
            .build())


_ANALYZER = analyzer()
_NATIVE = {code: native_analyzer(name) for code, name in STEMMED.items()}


@lru_cache(maxsize=65536)
def _terms(text: str, language: str | None = None) -> tuple[str, ...]:
    found = (_NATIVE[language] if language else _ANALYZER).analyze(text)
    return tuple(dict.fromkeys(found))


def terms(text: str, language: str | None = None) -> list[str]:
    """The distinct index terms of a text, in order (explanations ask for the same texts often):
    by the English analyser, or by `language`'s (a key of STEMMED)."""
    return list(_terms(text, language))


def native_field(language: str) -> str:
    return f"text_{language}"


def facet_field(name: str) -> str:
    return f"facet_{name}"


def range_fields(name: str) -> tuple[str, str]:
    """The fields holding a range's lowest and highest value (one number: both the same)."""
    return f"range_{name}_min", f"range_{name}_max"


@dataclass
class LexicalFilter:
    """Filter clauses tantivy evaluates: each document's own kind, and the facet value keys and
    ranges of the record it is filtered by; every clause must hold, any value within one."""

    kinds: list[str] = field(default_factory=list)
    values: list[tuple[str, list[str]]] = field(default_factory=list)  # facet, value keys
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    group: str | None = None  # only this record and the items grouped under it

    def query(self, schema: tantivy.Schema) -> tantivy.Query:
        clauses = [_any_term(schema, "kind", self.kinds)] if self.kinds else []
        if self.group is not None:
            clauses.append(tantivy.Query.term_query(schema, "group", self.group))
        clauses += [_any_term(schema, facet_field(name), keys) for name, keys in self.values]
        for name, (low, high) in self.ranges.items():
            lowest, highest = range_fields(name)  # a span overlaps [low, high]
            if low is None and high is None:
                clauses.append(tantivy.Query.exists_query(highest))
            if low is not None:
                clauses.append(tantivy.Query.range_query(schema, highest, tantivy.FieldType.Float,
                                                         lower_bound=float(low)))
            if high is not None:
                clauses.append(tantivy.Query.range_query(schema, lowest, tantivy.FieldType.Float,
                                                         upper_bound=float(high)))
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, c) for c in clauses]) \
            if clauses else tantivy.Query.all_query()


def _any_term(schema: tantivy.Schema, name: str, values: list[str]) -> tantivy.Query:
    """Documents holding any of `values` in a raw field (none: no document)."""
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Should, tantivy.Query.term_query(schema, name, v)) for v in values])


def filter_terms(values: FilterValues) -> tuple[list[tuple[str, str]], list[tuple[str, float]]]:
    """The (field, term) and (field, number) pairs a document carries for its filter values."""
    terms_ = [(facet_field(name), value_key(name, value))
              for name, found in sorted(values.facets.items()) if name in FACETS for value in found]
    numbers: list[tuple[str, float]] = []
    for name in CARRIED_RANGES:
        found = [float(n) for n in (values.ranges.get(c) for c in SPANS.get(name, (name,)))
                 if n is not None]
        if found:
            lowest, highest = range_fields(name)
            numbers += [(lowest, min(found)), (highest, max(found))]
    return terms_, numbers


def _add_filter_values(document: tantivy.Document, kind: str, values: FilterValues) -> None:
    document.add_text("kind", kind)
    terms_, numbers = filter_terms(values)
    for name, term in terms_:
        document.add_text(name, term)
    for name, number in numbers:
        document.add_float(name, number)


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("row", stored=False, indexed=True, fast=True)
    builder.add_text_field("title", stored=False, tokenizer_name=ANALYZER)
    builder.add_text_field("text", stored=False, tokenizer_name=ANALYZER)
    for code in STEMMED:
        builder.add_text_field(native_field(code), stored=False, tokenizer_name=native_field(code))
    # the id of the hit a document is grouped under (and its own): a search within one record
    builder.add_text_field("group", stored=False, tokenizer_name="raw")
    builder.add_text_field("kind", stored=False, tokenizer_name="raw")
    for name in FACETS:
        builder.add_text_field(facet_field(name), stored=False, tokenizer_name="raw")
    for name in CARRIED_RANGES:
        for column in range_fields(name):
            builder.add_float_field(column, stored=False, indexed=True, fast=True)
    return builder.build()


@dataclass
class LexicalQuery:
    """A query's index terms: by the English analyser, one group per word holding its accepted
    spellings (behaviour, behavior); and by each other language's analyser."""

    english: list[list[str]]
    native: dict[str, list[str]] = field(default_factory=dict)
    text: str = ""  # what the terms were read from, for an engine that analyses it its own way

    @classmethod
    def of(cls, text: str, english: list[list[str]] | None = None,
           languages: list[str] | None = None) -> LexicalQuery:
        """`languages`: the other languages the text may be in (None: every stemmed one)."""
        return cls(english if english is not None else [[t] for t in terms(text)],
                   {code: terms(text, code) for code in (STEMMED if languages is None else languages)
                    if code in STEMMED}, text)


class _Side:
    def __init__(self, path: Path, create: bool) -> None:
        if create and path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(path), reuse=not create)
        self.index.register_tokenizer(ANALYZER, _ANALYZER)
        for code, native in _NATIVE.items():
            self.index.register_tokenizer(native_field(code), native)
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

    def query(self, query: LexicalQuery) -> tantivy.Query:
        english = self._matching([[q for term in spellings for q in (
            tantivy.Query.boost_query(tantivy.Query.term_query(self.schema, "title", term), TITLE_BOOST),
            tantivy.Query.term_query(self.schema, "text", term))] for spellings in query.english])
        native = [self._matching([[tantivy.Query.term_query(self.schema, native_field(code), term)]
                                  for term in found])
                  for code, found in query.native.items() if found]
        if not native:
            return english
        return tantivy.Query.disjunction_max_query([english, *native], LANGUAGE_TIE)

    @staticmethod
    def _matching(per_term: list[list[tantivy.Query]]) -> tantivy.Query:
        """Any term (each term its best field), plus `COORDINATION` more for holding them all."""
        terms_ = [tantivy.Query.disjunction_max_query(fields, TIE_BREAKER) for fields in per_term]
        any_term = tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in terms_])
        if len(terms_) == 1:
            return any_term
        every_term = tantivy.Query.boost_query(
            tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in terms_]), COORDINATION)
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, any_term),
                                            (tantivy.Occur.Should, every_term)])

    def search(self, query_terms: LexicalQuery, limit: int, filters: LexicalFilter | None = None
               ) -> tuple[np.ndarray, np.ndarray, int]:
        query = self.query(query_terms)
        if filters is not None:  # scored 0: the matches keep their own BM25 scores
            query = tantivy.Query.boolean_query([
                (tantivy.Occur.Must, query),
                (tantivy.Occur.Must, tantivy.Query.const_score_query(filters.query(self.schema), 0.0))])
        result = self.searcher.search(query, limit=limit, count=True)
        addresses = [address for _, address in result.hits]
        rows = np.asarray(self.searcher.fast_field_values("row", addresses), dtype=np.int64)
        scores = np.asarray([score for score, _ in result.hits], dtype=np.float32)
        return rows, scores, result.count  # type: ignore[attr-defined]  # tantivy's stubs omit `count`


class LexicalIndex:
    """The two tantivy indexes under `path`; rows are the index-wide document numbers."""

    def __init__(self, path: Path, create: bool = False) -> None:
        self.sides = {name: _Side(path / name, create) for name in SIDES}

    def add(self, rows: list[int], documents: list[IndexDocument]) -> None:
        for row, doc in zip(rows, documents, strict=True):
            text = "\n".join(doc.fields.values())
            document = tantivy.Document(title=doc.title, text=text)
            for code in doc.languages:
                if code in STEMMED:
                    document.add_text(native_field(code), text)
            document.add_unsigned("row", row)
            document.add_text("group", doc.id)
            if doc.parent and doc.kind in ITEM_KINDS:
                document.add_text("group", doc.parent)
            _add_filter_values(document, doc.kind, doc.filter_values())
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

    def search(self, query_terms: LexicalQuery, limit: int, filters: LexicalFilter | None = None
               ) -> tuple[np.ndarray, np.ndarray, int]:
        """Rows and BM25 scores of the best `limit` matches of both sides (only those passing
        `filters`), and how many match."""
        if not query_terms.english and not any(query_terms.native.values()) or limit <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32), 0
        found = [side.search(query_terms, limit, filters) for side in self.sides.values()]
        rows = np.concatenate([f[0] for f in found])
        scores = np.concatenate([f[1] for f in found])
        best = np.lexsort((rows, -scores))[:limit]
        return rows[best], scores[best], sum(f[2] for f in found)
