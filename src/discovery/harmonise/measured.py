"""Which studies measured this question? Candidates come from the search index (keyword and
meaning), then the harmonisation matcher rescores each against the question, so the answer ranks
by construct equivalence, direction-free, and says which items are worded the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from discovery.catalogue.protocol import CatalogueStore
from discovery.errors import DiscoveryError
from discovery.harmonise.items import Item, item_of, owner_of
from discovery.harmonise.matcher import Matcher
from discovery.model import ITEM_KINDS
from discovery.search.models import SearchRequest
from discovery.search.searcher import Searcher

CANDIDATES = 300
PAGE = 100


@dataclass
class MeasuredItem:
    item: Item
    score: float
    polarity: int


@dataclass
class StudyMatches:
    """A study (its variables) or an instrument (its questions) and its items that match."""

    id: str
    kind: str
    title: str
    best: float
    items: list[MeasuredItem] = field(default_factory=list)


def candidate_ids(searcher: Searcher, question: str, limit: int = CANDIDATES) -> list[str]:
    """Variables and questions the search index ranks highest for the question, best first."""
    ids: list[str] = []
    cursor = None
    while len(ids) < limit:
        results = searcher.search(SearchRequest(q=question, filters={"kind": list(ITEM_KINDS)}, group=False,
                                               size=min(PAGE, limit - len(ids)), cursor=cursor,
                                               facets=False))
        ids += [hit.id for hit in results.hits]
        cursor = results.next_cursor
        if not cursor or not results.hits:
            break
    return list(dict.fromkeys(ids))


def who_measured(question: str, ids: list[str], catalogue: CatalogueStore, matcher: Matcher,
                 min_score: float) -> list[StudyMatches]:
    """The candidates rescored against the question, grouped by their study or instrument."""
    question = " ".join(question.split())
    if not question:
        raise DiscoveryError("the question is empty", hint='give the question text, e.g. "I feel calm"')
    owners: dict[str, str] = {}
    items: list[Item] = []
    for rid in ids:
        record = catalogue.get(rid)
        owner = owner_of(record, rid)
        item = item_of(record, owner)
        if item is not None and item.text.strip():
            owners[item.id] = owner
            items.append(item)
    if not items:
        return []
    # the catalogue's items are cached for the next question; the question itself is not
    scored = matcher.score_pairs([question] * len(items), [item.text for item in items],
                                 keep_left=False)
    scores, polarity = scored.score, scored.polarity
    titles = catalogue.titles(set(owners.values()))
    groups: dict[str, StudyMatches] = {}
    for item, score, sign in zip(items, scores.tolist(), polarity.tolist(), strict=True):
        if score < min_score:
            continue
        owner = owners[item.id]
        kind, title = titles.get(owner, ("study", owner))
        group = groups.setdefault(owner, StudyMatches(owner, kind, title, score))
        group.best = max(group.best, score)
        group.items.append(MeasuredItem(item, float(score), int(sign)))
    for group in groups.values():
        group.items.sort(key=lambda m: -m.score)
    return sorted(groups.values(), key=lambda g: -g.best)
