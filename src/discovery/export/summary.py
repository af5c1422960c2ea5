"""A short summary of a study or dataset, built only from its own fields and its graph.

No model writes it: each sentence fills a fixed template with values read from one place (a
field of the record, its variables, a grant it is linked to, a study it is part of), and carries
a link to that place and the facts it used. Nothing is inferred, rounded or counted beyond the
number of variables, so every number, name and date in a summary can be checked against the
record it cites (tests/export/test_summary.py does, for every study and dataset in the corpus).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from discovery.model import Kind, Project, Study, Variable

MAX_NAMES = 3  # names listed in one sentence before "and others"
MAX_CONSTRUCTS = 5
MAX_VALUE_CHARS = 120  # a longer value (a paragraph in a method field) is not summarised
VARIABLES = "variables"  # the field name of a count or a construct read from the variables
# where a field is shown on the item page
ANCHORS = {"title": "#item-title", "publisher": "#cite", "creators": "#cite",
           "temporal_coverage": "#coverage", "spatial_coverage": "#coverage",
           "sample_size": "#coverage", "methods.collection_mode": "#coverage",
           "topics": "#topics", VARIABLES: "#variables", "funders": "#grant",
           "grant_numbers": "#grant", "provenance.catalogue": "#sources"}
# the fixed words of the templates below: everything else in a sentence is a fact
TEMPLATE_WORDS = frozenset("""a study dataset published by created and others it covers to the period
from on its sample size is data were collected through has variables among them topics include
was funded grant source names funders numbers part of listed""".split())


@dataclass(frozen=True)
class Fact:
    """A value a sentence states, and where it was read: a field of record `record`."""

    record: str
    field: str
    value: str


@dataclass(frozen=True)
class Sentence:
    text: str
    facts: tuple[Fact, ...]
    href: str  # the field's place on the page, or the related record's page
    label: str  # what the link names: "coverage", "variables", a grant's reference


def summarise(study: Study, variables: Sequence[Variable], grants: Sequence[Project] = (),
              parents: Sequence[tuple[str, str, str]] = (),
              page: Callable[[str, str], str] = lambda kind, rid: f"/{kind}/{rid}") -> list[Sentence]:
    """The summary of `study`: `variables` are its variables, `grants` the projects linked to it
    as funding it, `parents` (kind, id, title) of the records it is part of; `page(kind, id)`
    is a related record's page."""
    builders: list[Callable[[], Sentence | None]] = [
        lambda: _what(study), lambda: _who(study), lambda: _when(study), lambda: _where(study),
        lambda: _how_many(study), lambda: _how(study), lambda: _measures(study, variables),
        lambda: _topics(study)]
    sentences = [s for s in (build() for build in builders) if s is not None]
    sentences += [_grant(project, page) for project in grants]
    if not grants:
        sentences += [s for s in [_named_funding(study)] if s is not None]
    sentences += [_part_of(kind, rid, title, page) for kind, rid, title in parents]
    return sentences


def _sentence(study: Study, field: str, text: str, values: Sequence[str]) -> Sentence:
    return Sentence(_ended(text), tuple(Fact(study.id, field, v) for v in values), ANCHORS[field],
                    field.rsplit(".", 1)[-1].replace("_", " "))


def _ended(text: str) -> str:
    """One full stop, also after a value that ends with one (`Thomson, K.S.`)."""
    return text[:-1] if text.endswith("..") else text


def _names(values: Sequence[str]) -> tuple[str, list[str]]:
    """`A`, `A and B`, `A, B and C`, `A, B, C and others`, with the names used."""
    shown = list(values[:MAX_NAMES])
    if len(values) > MAX_NAMES:
        return f"{', '.join(shown)} and others", shown
    if len(shown) == 1:
        return shown[0], shown
    return f"{', '.join(shown[:-1])} and {shown[-1]}", shown


def _short(values: Sequence[str]) -> list[str]:
    return [v for v in dict.fromkeys(" ".join(v.split()) for v in values) if v and
            len(v) <= MAX_VALUE_CHARS]


def _what(study: Study) -> Sentence | None:
    """What it is and who published it, else which catalogue listed it."""
    kind = "dataset" if study.kind == Kind.DATASET else "study"
    if study.publisher:
        return _sentence(study, "publisher", f"A {kind} published by {study.publisher.name}.",
                         [study.publisher.name])
    listed_by = study.provenance.catalogue
    if listed_by:
        return _sentence(study, "provenance.catalogue", f"A {kind} listed by {listed_by}.", [listed_by])
    return None


def _who(study: Study) -> Sentence | None:
    names = _short([agent.name for agent in study.creators])
    if not names:
        return None
    text, used = _names(names)
    return _sentence(study, "creators", f"Created by {text}.", used)


def _when(study: Study) -> Sentence | None:
    coverage = study.temporal_coverage
    if not coverage or len(coverage) > MAX_VALUE_CHARS:
        return None
    start, slash, end = coverage.partition("/")
    if not slash:
        return _sentence(study, "temporal_coverage", f"It covers {start}.", [start])
    if end in ("", ".."):
        return _sentence(study, "temporal_coverage", f"It covers the period from {start} on.", [start])
    if start in ("", ".."):
        return _sentence(study, "temporal_coverage", f"It covers the period to {end}.", [end])
    return _sentence(study, "temporal_coverage", f"It covers {start} to {end}.", [start, end])


def _where(study: Study) -> Sentence | None:
    places = _short(study.spatial_coverage)
    if not places:
        return None
    text, used = _names(places)
    return _sentence(study, "spatial_coverage", f"It covers {text}.", used)


def _how_many(study: Study) -> Sentence | None:
    if study.sample_size is None:
        return None
    return _sentence(study, "sample_size", f"Its sample size is {study.sample_size:,}.",
                     [str(study.sample_size)])


def _how(study: Study) -> Sentence | None:
    modes = _short(study.methods.get("collection_mode", []))
    if not modes:
        return None
    text, used = _names(modes)
    return _sentence(study, "methods.collection_mode", f"Data were collected through {text}.", used)


def _measures(study: Study, variables: Sequence[Variable]) -> Sentence | None:
    """How many variables, and the constructs they measure: their concepts, else the groups
    the source files them under, else the labels of the first few."""
    if not variables:
        return None
    count = str(len(variables))
    constructs = _constructs(variables)
    if not constructs:
        return Sentence(f"It has {len(variables):,} variables.",
                        (Fact(study.id, VARIABLES, count),), ANCHORS[VARIABLES], VARIABLES)
    text, used = _names(constructs)
    return Sentence(f"It has {len(variables):,} variables, among them {text}.",
                    (Fact(study.id, VARIABLES, count),
                     *(Fact(study.id, VARIABLES, name) for name in used)),
                    ANCHORS[VARIABLES], VARIABLES)


def _constructs(variables: Sequence[Variable]) -> list[str]:
    concepts = Counter(c for v in variables for c in _short(v.concepts))
    if not concepts:
        concepts = Counter(g for v in variables for g in _short(v.extra.get("groups") or []))
    if concepts:
        return [name for name, _ in concepts.most_common(MAX_CONSTRUCTS)]
    return _short([v.title for v in variables])[:MAX_CONSTRUCTS]


def _topics(study: Study) -> Sentence | None:
    topics = _short(study.topics) or _short(study.keywords)
    if not topics:
        return None
    field = "topics" if _short(study.topics) else "keywords"
    text, used = _names(topics)
    return Sentence(f"Its topics include {text}.", tuple(Fact(study.id, field, v) for v in used),
                    ANCHORS["topics"], "topics")


def _grant(project: Project, page: Callable[[str, str], str]) -> Sentence:
    """One linked grant: its reference, its title and its funder, all from the project record."""
    facts = [Fact(project.id, "title", project.title)]
    text = f"It was funded by grant {project.title}"
    if project.grant_reference:
        facts.append(Fact(project.id, "grant_reference", project.grant_reference))
        text += f" ({project.grant_reference})"
    if project.funder:
        facts.append(Fact(project.id, "funder", project.funder))
        text += f" from {project.funder}"
    return Sentence(_ended(text + "."), tuple(facts), page(Kind.PROJECT.value, project.id),
                    project.grant_reference or "grant")


def _named_funding(study: Study) -> Sentence | None:
    """Funders and grant numbers the record names, where no grant record is linked."""
    funders = _short([agent.name for agent in study.funders])
    if funders:
        text, used = _names(funders)
        return _sentence(study, "funders", f"The source names funders {text}.", used)
    numbers = _short(study.grant_numbers)
    if numbers:
        text, used = _names(numbers)
        return _sentence(study, "grant_numbers", f"The source names grant numbers {text}.", used)
    return None


def _part_of(kind: str, rid: str, title: str, page: Callable[[str, str], str]) -> Sentence:
    return Sentence(_ended(f"It is part of {title}."), (Fact(rid, "title", title),), page(kind, rid),
                    "part of")
