"""From a similarity matrix to what a user harmonising studies needs: the best match of each item
in every other instrument, groups of equivalent items with a readable label, and a crosswalk file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from discovery.errors import DiscoveryError
from discovery.export.spreadsheet import spreadsheet_safe
from discovery.harmonise.items import Instrument, Item
from discovery.harmonise.matcher import Matcher, Progress

# the mean of the best-F1 score cuts on the tuning halves, 0.084 (GAD-7) and 0.303 (McElroy), for
# the default matcher's score (the learned pair scorer); `python bench/matching.py --threshold`
DEFAULT_THRESHOLD = 0.19
EXPORT_FORMATS = ("csv", "xlsx", "json")


@dataclass(frozen=True)
class Match:
    left: Item
    right: Item
    score: float  # what matches are ranked and cut by (matcher.py: the learned pair score)
    equivalence: float  # the same question, direction-free
    relatedness: float  # constructs that go together in people
    polarity: int  # -1: reverse-code one of the two; 0: a direction is unclear


@dataclass
class Cluster:
    number: int
    label: str  # the member most like all the others
    items: list[Item]
    polarity: list[int]  # per item, relative to the label item (0: unclear)


@dataclass
class Harmonisation:
    instruments: list[Instrument]
    items: list[Item]
    owner: np.ndarray  # instrument index per item
    scores: np.ndarray  # item x item
    polarity: np.ndarray  # item x item, +1/-1, 0 where either direction is unclear
    threshold: float
    matches: list[Match]
    clusters: list[Cluster]
    model: str
    # item id -> the pair its crosswalk row gives numbers for: a clustered item with its cluster's
    # label item, an unclustered one with its best match at or above the threshold
    links: dict[str, Match] = field(default_factory=dict)


def harmonise(instruments: Sequence[Instrument], matcher: Matcher,
              threshold: float = DEFAULT_THRESHOLD, progress: Progress | None = None,
              remember: bool = True) -> Harmonisation:
    """Match every item against every item of the other instruments. With `remember` false the
    items' vectors are not added to the matcher's cache (the web app's anonymous requests)."""
    instruments = [instrument for instrument in instruments if instrument.items]
    if len(instruments) < 2:
        raise DiscoveryError("need at least two instruments with items to harmonise",
                             hint="give two or more questionnaire files, or several studies")
    items = [item for instrument in instruments for item in instrument.items]
    owner = np.concatenate([np.full(len(instrument.items), i) for i, instrument in enumerate(instruments)])
    features = matcher.features([item.text for item in items], progress,
                                None if remember else [False] * len(items))
    scores = matcher.scores(features, features)
    polarity = matcher.polarity(features, features)
    pairs, best = best_matches(owner, scores, threshold)
    clusters, centres = cluster(items, scores, polarity, best)
    linked = row_links(owner, scores, threshold, centres)
    wanted = [*pairs, *linked]
    parts = matcher.pair_scores(features, [a for a, _ in wanted], [b for _, b in wanted])
    scored = [Match(items[a], items[b], float(scores[a, b]), float(equivalence), float(related),
                    int(polarity[a, b]))
              for (a, b), equivalence, related in zip(wanted, parts.equivalence, parts.relatedness,
                                                      strict=True)]
    model = f"{matcher.english_model.name} + {matcher.multilingual_model.name}"
    return Harmonisation(list(instruments), items, owner, scores, polarity, threshold,
                         scored[:len(pairs)], clusters, model,
                         {match.left.id: match for match in scored[len(pairs):]})


def row_links(owner: np.ndarray, scores: np.ndarray, threshold: float,
              centres: dict[int, int]) -> list[tuple[int, int]]:
    """(item, other) per item the crosswalk gives numbers for: a clustered item with its
    cluster's centre (the centre itself has none), else its best match in any other
    instrument at or above the threshold."""
    links = []
    for row in range(len(owner)):
        if row in centres:
            if centres[row] != row:
                links.append((row, centres[row]))
            continue
        others = np.flatnonzero(owner != owner[row])
        if len(others):
            best = int(others[scores[row, others].argmax()])
            if scores[row, best] >= threshold:
                links.append((row, best))
    return links


def best_matches(owner: np.ndarray, scores: np.ndarray, threshold: float
                 ) -> tuple[list[tuple[int, int]], set[tuple[int, int]]]:
    """Each item's best match in every other instrument, at or above the threshold.

    Returns the matched pairs of item rows (each pair once, best first) and the pairs that are
    each other's best match, which are what clusters are built from."""
    choice: dict[tuple[int, int], int] = {}  # (item, other instrument) -> best item there
    for other in np.unique(owner):
        columns = np.flatnonzero(owner == other)
        rows = np.flatnonzero(owner != other)
        if not len(rows):
            continue
        block = scores[np.ix_(rows, columns)]
        picks = columns[block.argmax(1)]
        for row, pick in zip(rows, picks, strict=True):
            if scores[row, pick] >= threshold:
                choice[(int(row), int(other))] = int(pick)
    pairs = {(min(row, pick), max(row, pick)) for (row, _), pick in choice.items()}
    mutual = {(a, b) for a, b in pairs
              if choice.get((a, int(owner[b]))) == b and choice.get((b, int(owner[a]))) == a}
    return sorted(pairs, key=lambda pair: -scores[pair]), mutual


def cluster(items: list[Item], scores: np.ndarray, polarity: np.ndarray,
            links: set[tuple[int, int]]) -> tuple[list[Cluster], dict[int, int]]:
    """Groups of items joined by mutual best matches, each labelled by its most central member;
    and the centre of each clustered item's group, by item row."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in sorted(links):
        parent[root(a)] = root(b)
    groups: dict[int, list[int]] = {}
    for i in range(len(items)):
        groups.setdefault(root(i), []).append(i)
    members = sorted((g for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g[0]))
    clusters: list[Cluster] = []
    centres: dict[int, int] = {}
    for number, group in enumerate(members, start=1):
        inner = scores[np.ix_(group, group)]
        centre = group[int(inner.sum(1).argmax())]
        clusters.append(Cluster(number, items[centre].text, [items[i] for i in group],
                                [int(polarity[centre, i]) for i in group]))
        centres |= dict.fromkeys(group, centre)
    return clusters, centres


def crosswalk_rows(result: Harmonisation) -> list[dict[str, Any]]:
    """One row per item in a cluster, then one per item outside clusters: the crosswalk sheet.
    A row's numbers compare its item with `matched_text`: its cluster's label item (the label's
    own row has none), or outside clusters its best match at or above the threshold, if any.
    Polarity in a cluster is relative to the label item, as for the rest of the cluster."""
    def row(item: Item, cluster: Cluster | None = None, sign: int | None = None) -> dict[str, Any]:
        link = result.links.get(item.id)
        if sign is None and link is not None:
            sign = link.polarity
        return {"cluster": cluster.number if cluster else "",
                "cluster_label": cluster.label if cluster else "", "instrument": item.instrument,
                "item_id": item.id, "number": item.number or "", "text": item.text,
                "options": " | ".join(item.options),
                "matched_instrument": link.right.instrument if link else "",
                "matched_item_id": link.right.id if link else "",
                "matched_text": link.right.text if link else "",
                "score": round(link.score, 4) if link else "",
                "equivalence": round(link.equivalence, 4) if link else "",
                "relatedness": round(link.relatedness, 4) if link else "",
                "same_options": "yes" if link and same_scale(link.left, link.right) else "",
                "polarity": "" if sign is None else sign,
                "reverse_code": "" if sign is None else REVERSE_CODE[int(np.sign(sign))]}

    rows = [row(item, group, sign) for group in result.clusters
            for item, sign in zip(group.items, group.polarity, strict=True)]
    clustered = {item.id for group in result.clusters for item in group.items}
    return rows + [row(item) for item in result.items if item.id not in clustered]


def match_rows(result: Harmonisation) -> list[dict[str, Any]]:
    return [{"instrument_1": m.left.instrument, "item_1": m.left.id, "text_1": m.left.text,
             "options_1": " | ".join(m.left.options),
             "instrument_2": m.right.instrument, "item_2": m.right.id, "text_2": m.right.text,
             "options_2": " | ".join(m.right.options),
             "score": round(m.score, 4), "equivalence": round(m.equivalence, 4),
             "relatedness": round(m.relatedness, 4), "polarity": m.polarity,
             "same_options": "yes" if same_scale(m.left, m.right) else ""}
            for m in result.matches]


def same_scale(left: Item, right: Item) -> bool:
    """Whether two items offer the same response options (case and spacing aside): if so, their
    answers can be pooled without recoding the scale."""
    def options(item: Item) -> tuple[str, ...]:
        return tuple(" ".join(option.casefold().split()) for option in item.options)
    return bool(left.options) and options(left) == options(right)


def to_csv(result: Harmonisation) -> str:
    rows = crosswalk_rows(result)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CROSSWALK_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: spreadsheet_safe(value) for key, value in row.items()} for row in rows)
    return out.getvalue()


def to_json(result: Harmonisation) -> str:
    return json.dumps({
        "model": result.model, "threshold": result.threshold,
        "instruments": [{"id": i.id, "name": i.name, "source": i.source, "items": len(i.items)}
                        for i in result.instruments],
        "clusters": [{"cluster": c.number, "label": c.label,
                      "items": [{"item_id": item.id, "instrument": item.instrument, "text": item.text,
                                 "options": list(item.options), "polarity": sign}
                                for item, sign in zip(c.items, c.polarity, strict=True)]}
                     for c in result.clusters],
        "matches": match_rows(result)}, ensure_ascii=False, indent=2)


def to_xlsx(result: Harmonisation) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheets = (("crosswalk", list(CROSSWALK_COLUMNS), crosswalk_rows(result)),
              ("matches", list(MATCH_COLUMNS), match_rows(result)))
    for index, (title, columns, rows) in enumerate(sheets):
        sheet = book.worksheets[0] if index == 0 else book.create_sheet()
        sheet.title = title
        sheet.append(columns)
        for row in rows:
            sheet.append([spreadsheet_safe(row[column]) for column in columns])
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


REVERSE_CODE = {-1: "yes", 0: "direction unclear", 1: "no"}  # the crosswalk's reverse_code column
CROSSWALK_COLUMNS = ("cluster", "cluster_label", "instrument", "item_id", "number", "text", "options",
                     "matched_instrument", "matched_item_id", "matched_text", "score", "equivalence",
                     "relatedness", "same_options", "polarity", "reverse_code")
MATCH_COLUMNS = ("instrument_1", "item_1", "text_1", "options_1", "instrument_2", "item_2", "text_2",
                 "options_2", "score", "equivalence", "relatedness", "polarity", "same_options")


def encoded(result: Harmonisation, fmt: str, file: str | None = None) -> bytes:
    """The crosswalk file's bytes in one of EXPORT_FORMATS (`file` names it in the error)."""
    if fmt not in EXPORT_FORMATS:
        raise DiscoveryError(f"cannot write .{fmt} crosswalks", file=file,
                             hint=f"use one of: {', '.join('.' + f for f in EXPORT_FORMATS)}")
    if fmt == "xlsx":
        return to_xlsx(result)
    return (to_csv(result) if fmt == "csv" else to_json(result)).encode("utf-8")


def export(result: Harmonisation, path: Path) -> None:
    """Write the crosswalk in the format the file name's suffix names."""
    path.write_bytes(encoded(result, path.suffix.lower().lstrip("."), str(path)))
