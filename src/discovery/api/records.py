"""A record with its neighbours in the graph, as the item, project and variable views need it.

Only reads: every fact comes from `Catalogue.get`, `relations` and `sources`. Relations the
linking service adds (FUNDED_BY with evidence and confidence) appear here without code changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from discovery.api.schemas import Neighbour, Source
from discovery.api.services import Services
from discovery.api.urls import STUDY_KINDS, page_path
from discovery.catalogue.store import Catalogue
from discovery.errors import NotFoundError
from discovery.export.dataset_jsonld import dataset_jsonld
from discovery.linking.jsonld import item_jsonld as linked_jsonld
from discovery.model import Kind, Output, Predicate, Project, Record, Relation, Study, Variable

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


def get_kind(catalogue: Catalogue, key: str, kinds: tuple[Kind, ...], what: str) -> Record:
    """The record a key resolves to, if it is of a kind this view shows."""
    record = catalogue.get(key)
    if record.kind not in kinds:
        raise NotFoundError(f"{record.id!r} is a {record.kind.value}, not {what}", record=key,
                            hint=f"open it at {page_path(record.kind, record.id)}")
    return record


def _neighbours(catalogue: Catalogue, relations: list[Relation], rid: str) -> list[Neighbour]:
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
    sources = [Source(location=s.location, source=s.source, catalogue=s.catalogue,
                      record_key=s.record_key, fetched_at=s.fetched_at) for s in catalogue.sources(rid)]
    return ItemView(study, sources, variable_ids, instruments, children, parents, grants, other)


def study_variables(services: Services, view: ItemView) -> list[Variable]:
    """Every variable of a study, read once and cached: the table filters and pages in memory."""
    def read() -> list[Variable]:
        catalogue = services.catalogue
        found = [catalogue.get(vid) for vid in view.variable_ids]
        return [v for v in found if isinstance(v, Variable)]
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


def project_outputs(catalogue: Catalogue, rid: str) -> list[Output]:
    ids = [r.object for r in catalogue.relations(rid)
           if r.subject == rid and r.predicate == Predicate.HAS_OUTPUT]
    return [o for o in (catalogue.get(i) for i in ids) if isinstance(o, Output)]


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


def item_kinds(catalogue: Catalogue, groups: Iterable[StudyMatches]) -> dict[str, str]:
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
