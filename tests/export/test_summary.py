"""Summaries say nothing the catalogue does not: over every study and dataset of the corpus, each
fact a sentence states is read again from the record it cites (the study itself, a grant linked
to it, a study it is part of), and once the facts are taken out, what is left of the sentence is
template words only: no number, name or date from anywhere else."""

from __future__ import annotations

import re
from typing import Any

import pytest

from discovery.server import records
from discovery.server.services import Services
from discovery.server.urls import page_path
from discovery.export.summary import ANCHORS, TEMPLATE_WORDS, VARIABLES, Fact, summarise
from discovery.model import Kind, Predicate, Record, Study, Variable
from tests.server.site import Site

WORD = re.compile(r"[^\W\d_]+|\d+")


@pytest.fixture(scope="module")
def summaries(full_site: Site) -> list[tuple[Study, list[Variable], list[Any]]]:
    """(study, its variables, its summary) for every study and dataset, built as the page is."""
    services = Services(full_site.data)
    found = []
    for (rid,) in services.catalogue.db.execute(
            "SELECT id FROM records WHERE kind IN ('study', 'dataset') ORDER BY id"):
        view = records.item_view(services, rid)
        variables = records.study_variables(services, view)
        summary = summarise(view.study, variables, [g.project for g in view.grants],
                            [(p.kind, p.id, p.title) for p in view.parents], page_path)
        found.append((view.study, variables, summary))
    return found


def field_values(record: Record, field: str, variables: list[Variable]) -> list[str]:
    """Every value the field holds, as text, read straight from the record."""
    if field == VARIABLES:
        return [str(len(variables))] + [text for v in variables for text in
                                        [v.title, *v.concepts, *(v.extra.get("groups") or [])]]
    head, _, rest = field.partition(".")
    value: Any = getattr(record, head)
    if rest:
        value = value.get(rest, []) if isinstance(value, dict) else getattr(value, rest)
    values = value if isinstance(value, list) else [value]
    texts = []
    for item in values:
        if item is None:
            continue
        texts.append(item.name if hasattr(item, "name") else str(item))
    return [" ".join(t.split()) for t in texts]


def related(catalogue: Any, study: Study, fact: Fact) -> Record:
    """The record a fact cites: the study, or one it is tied to by a grant or containment edge."""
    if fact.record != study.id:
        edges = {(r.subject, r.predicate, r.object) for r in catalogue.relations(study.id)}
        assert (study.id, Predicate.FUNDED_BY, fact.record) in edges or \
            (fact.record, Predicate.HAS_PART, study.id) in edges, fact
    return catalogue.get(fact.record)


def test_every_fact_is_in_the_record_it_cites(full_site: Site, summaries: list) -> None:
    services = Services(full_site.data)
    checked = 0
    for study, variables, summary in summaries:
        for sentence in summary:
            for fact in sentence.facts:
                record = related(services.catalogue, study, fact)
                values = field_values(record, fact.field, variables if record.id == study.id else [])
                assert any(fact.value == v or fact.value in v.split("/") for v in values), \
                    (study.id, sentence.text, fact)
                checked += 1
    assert checked > 100


def test_nothing_but_facts_and_template_words(summaries: list) -> None:
    for study, _, summary in summaries:
        for sentence in summary:
            text = sentence.text
            values = sorted({f.value for f in sentence.facts}, key=len, reverse=True)
            for value in values:
                if value.isdigit():
                    text = text.replace(f"{int(value):,}", " ")
                text = text.replace(value, " ")
            leftover = [w.lower() for w in WORD.findall(text)]
            assert not any(w.isdigit() for w in leftover), (study.id, sentence.text)
            assert set(leftover) <= TEMPLATE_WORDS, (study.id, sentence.text, set(leftover) - TEMPLATE_WORDS)


def test_every_sentence_links_to_where_its_facts_are(summaries: list) -> None:
    anchors = set(ANCHORS.values())
    for study, _, summary in summaries:
        for sentence in summary:
            cited = {f.record for f in sentence.facts}
            if cited == {study.id}:
                assert sentence.href in anchors, sentence
            else:
                (other,) = cited
                pages = (page_path(Kind.PROJECT, other), page_path(Kind.STUDY, other))
                assert sentence.href in pages, sentence


def test_the_corpus_exercises_every_kind_of_sentence(summaries: list) -> None:
    studies = [s for s, _, _ in summaries]
    assert {s.kind for s in studies} == {Kind.STUDY, Kind.DATASET}
    labels = {sentence.label for _, _, summary in summaries for sentence in summary}
    assert {"publisher", "creators", "temporal coverage", "spatial coverage", "sample size",
            "collection mode", VARIABLES, "topics", "part of"} <= labels
    assert all(summary for _, _, summary in summaries), [s.id for s, _, m in summaries if not m]
