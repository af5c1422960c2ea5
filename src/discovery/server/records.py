"""A record with its neighbours in the graph, as the item, project and variable views need it.

Only reads: every fact comes from `CatalogueStore.get`, `relations` and `sources`. Relations the
linking service adds (FUNDED_BY with evidence and confidence) appear here without code changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, TypeVar

from discovery.server.schemas import Neighbour, Source
from discovery.server.services import Services
from discovery.server.urls import STUDY_KINDS, page_path
from discovery.catalogue.protocol import CatalogueStore
from discovery.errors import NotFoundError
from discovery.export.dataset_jsonld import dataset_jsonld
from discovery.linking.jsonld import item_jsonld as linked_jsonld
from discovery.model import (Instrument, Kind, Output, Predicate, Project, Question, Record, Relation,
                             Study, Variable)

if TYPE_CHECKING:
    from discovery.harmonise.measured import StudyMatches


@dataclass
class GrantView:
    project: Project
    link: Neighbour
    outputs: list[Output] = field(default_factory=list)


@dataclass
class ItemView:
    study: Study
    sources: list[Source]
    variable_ids: list[str]
    instruments: list[Neighbour]
    children: list[Neighbour]
    parents: list[Neighbour]
    grants: list[GrantView]
    other: list[Neighbour]  # any other relation, shown so no edge is invisible


@dataclass
class ProjectView:
    project: Project
    outputs: dict[str, list[Output]]  # by output type, in a stable order
    datasets: list[Neighbour]
    organisations: list[Neighbour]
    people: list[Neighbour]


@dataclass
class VariableView:
    variable: Variable
    study: Neighbour | None
    questions: list[Neighbour]


@dataclass
class QuestionnaireView:
    instrument: Instrument
    questions: list[Question]  # in the order the instrument asks them
    variables: list[Neighbour]  # variables recorded from it, where the source lists them
    studies: list[Neighbour]  # studies that use it, or whose variables its questions measure
    sources: list[Source]
    other: list[Neighbour]


@dataclass
class QuestionView:
    question: Question
    instrument: Neighbour | None
    position: int | None  # 1-based place in its instrument's order
    count: int  # questions in its instrument
    previous: Question | None
    next: Question | None
    variables: list[Neighbour]  # variables this question measures
    studies: list[Neighbour]  # the studies those variables belong to


@dataclass
class RecordView:
    """Any other record (an output, an organisation, a person) with all its relations."""

    record: Record
    related: list[Neighbour]  # edges from this record
    related_to: list[Neighbour]  # edges into it, read the other way round ("leads", not "led by")
    sources: list[Source]


def get_kind(catalogue: CatalogueStore, key: str, kinds: tuple[Kind, ...], what: str) -> Record:
    """The record a key resolves to, if it is of a kind this view shows."""
    record = catalogue.get(key)
    if record.kind not in kinds:
        raise NotFoundError(f"{record.id!r} is a {record.kind.value}, not {what}", record=key,
                            hint=f"open it at {page_path(record.kind, record.id)}")
    return record


def _neighbours(catalogue: CatalogueStore, relations: list[Relation], rid: str) -> list[Neighbour]:
    others = [r.object if r.subject == rid else r.subject for r in relations]
    titles = catalogue.titles(others)
    found = []
    for relation, other in zip(relations, others, strict=True):
        if other in titles:
            kind, title = titles[other]
            found.append(Neighbour(id=other, kind=kind, title=title,
                                   predicate=relation.predicate.value, evidence=relation.evidence,
                                   confidence=relation.confidence))
    return found


def item_view(services: Services, key: str) -> ItemView:
    catalogue = services.catalogue
    study = get_kind(catalogue, key, STUDY_KINDS, "a study or dataset")
    assert isinstance(study, Study)
    rid = study.id
    relations = catalogue.relations(rid)
    out = [r for r in relations if r.subject == rid]
    into = [r for r in relations if r.object == rid]
    variable_ids = [r.object for r in out if r.predicate == Predicate.HAS_VARIABLE]
    instruments = _neighbours(catalogue, [r for r in out if r.predicate == Predicate.USES_INSTRUMENT],
                              rid)
    children = _neighbours(catalogue, [r for r in out if r.predicate == Predicate.HAS_PART], rid)
    parents = _neighbours(catalogue, [r for r in into if r.predicate == Predicate.HAS_PART], rid)
    funded = _neighbours(catalogue, [r for r in out if r.predicate == Predicate.FUNDED_BY], rid)
    grants = []
    for link in funded:
        if link.kind == Kind.PROJECT.value:
            project = catalogue.get(link.id)
            assert isinstance(project, Project)
            grants.append(GrantView(project, link, project_outputs(catalogue, project.id)))
    shown = {Predicate.HAS_VARIABLE, Predicate.USES_INSTRUMENT, Predicate.HAS_PART,
             Predicate.FUNDED_BY}
    other = _neighbours(catalogue, [r for r in relations if r.predicate not in shown], rid)
    return ItemView(study, public_sources(catalogue, rid), variable_ids, instruments, children,
                    parents, grants, other)


def public_location(location: str) -> str:
    """Where a source document can be seen by the public: its URL, else only the file's name.
    A harvested file's path on the server (`../shared/corpus/...`) is nobody's business."""
    if re.match(r"https?://", location, re.IGNORECASE):
        return location
    return PurePath(location.replace("\\", "/")).name or "a file"


def public_sources(catalogue: CatalogueStore, rid: str) -> list[Source]:
    return [Source(location=public_location(s.location), source=s.source, catalogue=s.catalogue,
                   record_key=s.record_key, fetched_at=s.fetched_at) for s in catalogue.sources(rid)]


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that reads digits as numbers: Q1, Q2, ..., Q10, not Q1, Q10, Q100, Q2."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.casefold())
                 for part in re.split(r"(\d+)", text) if part)


R = TypeVar("R", bound=Record)


def records_of(catalogue: CatalogueStore, ids: list[str], kind: type[R]) -> list[R]:
    """The records of `ids` that exist and are of `kind`, in the order of `ids`, read together
    (`get_many`: one query a batch, not two a record)."""
    found = catalogue.get_many(ids)
    return [record for record in (found.get(rid) for rid in ids) if isinstance(record, kind)]


def study_variables(services: Services, view: ItemView) -> list[Variable]:
    """Every variable of a study, read once and cached: the table filters and pages in memory."""
    def read() -> list[Variable]:
        return sorted(records_of(services.catalogue, view.variable_ids, Variable),
                      key=lambda v: natural_key(v.name))
    return services.cached(("variables", view.study.id, len(view.variable_ids)), read)


def filter_variables(variables: list[Variable], query: str) -> list[Variable]:
    """Variables whose name, label, question or category labels contain every query word."""
    words = query.lower().split()
    if not words:
        return variables
    kept = []
    for variable in variables:
        text = " ".join([variable.name, variable.title, *(t.value for t in variable.question_texts),
                         *(c.label for c in variable.categories)]).lower()
        if all(word in text for word in words):
            kept.append(variable)
    return kept


def project_outputs(catalogue: CatalogueStore, rid: str) -> list[Output]:
    ids = [r.object for r in catalogue.relations(rid)
           if r.subject == rid and r.predicate == Predicate.HAS_OUTPUT]
    return records_of(catalogue, ids, Output)


def project_view(services: Services, key: str) -> ProjectView:
    catalogue = services.catalogue
    project = get_kind(catalogue, key, (Kind.PROJECT,), "a project")
    assert isinstance(project, Project)
    rid = project.id
    relations = catalogue.relations(rid)
    grouped: dict[str, list[Output]] = {}
    for output in sorted(project_outputs(catalogue, rid), key=lambda o: (o.output_type, o.title)):
        grouped.setdefault(output.output_type, []).append(output)
    datasets = _neighbours(catalogue, [r for r in relations if r.object == rid
                                       and r.predicate == Predicate.FUNDED_BY], rid)
    organisations = _neighbours(catalogue, [r for r in relations if r.subject == rid and r.predicate
                                            in (Predicate.LED_BY, Predicate.HAS_PARTICIPANT,
                                                Predicate.FUNDED_BY)], rid)
    people = _neighbours(catalogue, [r for r in relations if r.subject == rid
                                     and r.predicate == Predicate.HAS_INVESTIGATOR], rid)
    return ProjectView(project, grouped, [d for d in datasets if d.kind in STUDY_KINDS],
                       organisations, people)


def variable_view(services: Services, key: str) -> VariableView:
    catalogue = services.catalogue
    variable = get_kind(catalogue, key, (Kind.VARIABLE,), "a variable")
    assert isinstance(variable, Variable)
    study = None
    if variable.study_id:
        titles = catalogue.titles([variable.study_id])
        if variable.study_id in titles:
            kind, title = titles[variable.study_id]
            study = Neighbour(id=variable.study_id, kind=kind, title=title,
                              predicate=Predicate.HAS_VARIABLE.value)
    questions = _neighbours(catalogue, [r for r in catalogue.relations(variable.id)
                                        if r.predicate == Predicate.MEASURED_BY], variable.id)
    return VariableView(variable, study, questions)


def _question_order(question: Question) -> tuple[int, tuple[tuple[int, int, str], ...]]:
    return (question.position if question.position is not None else 1 << 30,
            natural_key(question.number or question.id))


def instrument_questions(services: Services, instrument_id: str) -> list[Question]:
    """An instrument's questions in the order it asks them, read once and cached (its question
    pages all need the list, for their place and their neighbours)."""
    def read() -> list[Question]:
        catalogue = services.catalogue
        ids = [r.object for r in catalogue.relations(instrument_id, [Predicate.HAS_QUESTION])
               if r.subject == instrument_id]
        return sorted(records_of(catalogue, ids, Question), key=_question_order)
    return services.cached(("questions", instrument_id), read)


def _measured_variables(catalogue: CatalogueStore, question_ids: Iterable[str]) -> list[Neighbour]:
    """Variables that the source says these questions measure (MEASURED_BY edges into them)."""
    found: dict[str, Neighbour] = {}
    for qid in question_ids:
        edges = [r for r in catalogue.relations(qid, [Predicate.MEASURED_BY]) if r.object == qid]
        for neighbour in _neighbours(catalogue, edges, qid):
            found.setdefault(neighbour.id, neighbour)
    return list(found.values())


def _studies_of(catalogue: CatalogueStore, variables: Iterable[Neighbour]) -> list[Neighbour]:
    """The studies or datasets the variables belong to, once each."""
    parents: dict[str, None] = {}
    for variable in records_of(catalogue, [neighbour.id for neighbour in variables], Variable):
        if variable.study_id:
            parents.setdefault(variable.study_id)
    titles = catalogue.titles(parents)
    return [Neighbour(id=rid, kind=titles[rid][0], title=titles[rid][1],
                      predicate=Predicate.HAS_VARIABLE.value)
            for rid in parents if rid in titles and titles[rid][0] in STUDY_KINDS]


def questionnaire_view(services: Services, key: str) -> QuestionnaireView:
    catalogue = services.catalogue
    instrument = get_kind(catalogue, key, (Kind.INSTRUMENT,), "a questionnaire")
    assert isinstance(instrument, Instrument)
    rid = instrument.id
    relations = catalogue.relations(rid)
    questions = instrument_questions(services, rid)

    def studies() -> list[Neighbour]:
        users = _neighbours(catalogue, [r for r in relations if r.object == rid
                                        and r.predicate == Predicate.USES_INSTRUMENT], rid)
        measured = _studies_of(catalogue, _measured_variables(catalogue, (q.id for q in questions)))
        seen = {n.id for n in users}
        return users + [n for n in measured if n.id not in seen]
    variables = _neighbours(catalogue, [r for r in relations if r.subject == rid
                                        and r.predicate == Predicate.HAS_VARIABLE], rid)
    shown = {Predicate.HAS_QUESTION, Predicate.HAS_VARIABLE, Predicate.USES_INSTRUMENT}
    other = _neighbours(catalogue, [r for r in relations if r.predicate not in shown], rid)
    return QuestionnaireView(instrument, questions,
                             sorted(variables, key=lambda n: natural_key(n.title)),
                             services.cached(("instrument-studies", rid), studies),
                             public_sources(catalogue, rid), other)


def question_view(services: Services, key: str) -> QuestionView:
    catalogue = services.catalogue
    question = get_kind(catalogue, key, (Kind.QUESTION,), "a question")
    assert isinstance(question, Question)
    instrument = None
    siblings: list[Question] = []
    if question.instrument_id:
        titles = catalogue.titles([question.instrument_id])
        if question.instrument_id in titles:
            kind, title = titles[question.instrument_id]
            instrument = Neighbour(id=question.instrument_id, kind=kind, title=title,
                                   predicate=Predicate.HAS_QUESTION.value)
            siblings = instrument_questions(services, question.instrument_id)
    place = next((n for n, q in enumerate(siblings) if q.id == question.id), None)
    variables = _measured_variables(catalogue, [question.id])
    return QuestionView(
        question, instrument, None if place is None else place + 1, len(siblings),
        siblings[place - 1] if place else None,
        siblings[place + 1] if place is not None and place + 1 < len(siblings) else None,
        variables, _studies_of(catalogue, variables))


def record_view(services: Services, key: str) -> RecordView:
    catalogue = services.catalogue
    record = catalogue.get(key)
    relations = catalogue.relations(record.id)
    return RecordView(record, _neighbours(catalogue, [r for r in relations if r.subject == record.id],
                                          record.id),
                      _neighbours(catalogue, [r for r in relations if r.object == record.id], record.id),
                      public_sources(catalogue, record.id))


def item_kinds(catalogue: CatalogueStore, groups: Iterable[StudyMatches]) -> dict[str, str]:
    """The kind of every matched item of `Services.measured`, for links to its page."""
    ids = {m.item.id for g in groups for m in g.items}
    titles = catalogue.titles(ids)
    return {rid: titles.get(rid, (Kind.VARIABLE.value, ""))[0] for rid in ids}


def item_jsonld(services: Services, view: ItemView, root: str) -> dict[str, Any]:
    """The item page's schema.org Dataset, with absolute URLs under `root`."""
    variables = study_variables(services, view)
    return services.cached(("jsonld", view.study.id, root), lambda: dataset_jsonld(
        view.study, url=root + page_path(view.study.kind, view.study.id),
        catalogue_name=services.site_name, catalogue_url=root + "/",
        variables=variables,
        grants=[(g.project, root + page_path(Kind.PROJECT, g.project.id)) for g in view.grants],
        variable_url=lambda vid: root + page_path(Kind.VARIABLE, vid),
        base=linked_jsonld(services.catalogue, view.study.id)))


def script_json(data: Any) -> str:
    """JSON safe inside an HTML <script> element: `<`, `>` and `&` are escaped so a value holding
    `</script>` cannot end the element."""
    return (json.dumps(data, ensure_ascii=False, indent=1).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026"))
