"""The catalogue's rules that hold whatever stores it: how sources merge into one record, how a
record's JSON and digests are made, which ids a re-read document keeps, and the containment
edges its parent fields imply. Plain functions over records and rows, so every backend applies
the same rules and only its queries differ.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from discovery.catalogue.protocol import Applied
from discovery.model import (STRONG_SCHEMES, Kind, ParseResult, Predicate, Record, Relation,
                             content_hash, slug)

PARENT_FIELDS = {Kind.VARIABLE: "study_id", Kind.QUESTION: "instrument_id", Kind.OUTPUT: "project_id"}
PARENT_PREDICATES = {Kind.VARIABLE: Predicate.HAS_VARIABLE, Kind.QUESTION: Predicate.HAS_QUESTION,
                     Kind.OUTPUT: Predicate.HAS_OUTPUT}
LINKING = "linking:"  # relations derived by linking live under locations with this prefix


def quarantine_digest(location: str, record: str | None, reason: str, raw: bytes | None) -> str:
    """What makes two failures one: the location, the record and the bytes, or the reason where
    no bytes were kept (a URL that could not be fetched)."""
    what = content_hash(raw) if raw is not None else f"reason {reason}"
    return content_hash("\n".join((location, record or "", what)))


def storable_text(text: str) -> str:
    """`text` as a database can store it: a lone surrogate (JSON's `"\\ud800"`) is not Unicode
    and cannot be encoded, so it is kept as its escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def record_json(record: Record) -> str:
    """Compact JSON of a record without its provenance (stored beside it): defaults are left out
    and filled in again on reading, except `kind`, which says which class to read it back as."""
    data = record.model_dump_json(exclude={"provenance"}, exclude_defaults=True)
    if '"kind":' not in data:
        data = f'{{"kind":"{record.kind.value}",{data[1:]}'
    return data


def data_digest(data: str) -> str:
    """Short hash of a record's JSON: only compared with the same record's previous version, so
    64 bits are plenty, and a catalogue holds millions of them."""
    return content_hash(data)[:16]


def merge_source_data(datas: list[dict[str, Any]]) -> dict[str, Any]:
    """One view of a record several sources describe: the earliest source's values first, gaps
    filled from later ones, lists united without repeats. Per-source values stay in record_sources."""
    return merge_with_origins(datas)[0]


def merged_json(datas: list[str]) -> str:
    """The merged record's JSON from its sources' JSON, earliest first; one source's as it is."""
    return datas[0] if len(datas) == 1 else json.dumps(
        merge_source_data([json.loads(d) for d in datas]), ensure_ascii=False)


@dataclass
class MergePlan:
    """The writes that recomputing records from their sources calls for, in the form both
    backends' statements take: rows to upsert into `records` (id, kind, title, parent, data,
    data_hash, created_at, updated_at), rows of `history`, and the ids left with no source."""

    upserts: list[tuple[str, str, str, str | None, str, str, str, str]] = field(default_factory=list)
    history: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)


def merge_plan(ids: Iterable[str], sources: dict[str, list[str]], existing: dict[str, str], now: str,
               location: str, applied: Applied, clean: Callable[[str], str] = str) -> MergePlan:
    """What to write for each id, given its sources' JSON (earliest first) and its stored digest;
    counts the records created and updated in `applied`. `clean` makes a title storable."""
    plan = MergePlan()
    for rid in ids:
        datas = sources.get(rid)
        if not datas:
            if rid in existing:
                plan.gone.append(rid)
            continue
        merged = merged_json(datas)
        digest = data_digest(merged)
        if existing.get(rid) == digest:
            continue
        head = stored_head(json.loads(merged))
        plan.upserts.append((rid, head["kind"], clean(head["title"]), head.get("parent"), merged,
                             digest, now, now))
        action = "updated" if rid in existing else "created"
        plan.history.append((rid, now, action, digest, location))
        if action == "created":
            applied.created += 1
        else:
            applied.updated += 1
    return plan


def merge_with_origins(datas: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """`merge_source_data`, also saying field by field which of the inputs (by position) the
    merged value came from: one rule, so a cluster's provenance cannot drift from its merge."""
    merged = dict(datas[0])
    origins = {key: [0] for key, value in merged.items() if value not in (None, "", [], {})}
    for position, other in enumerate(datas[1:], start=1):
        for key, value in other.items():
            current = merged.get(key)
            if isinstance(current, list) and isinstance(value, list):
                seen = {json.dumps(item, sort_keys=True) for item in current}
                added = [item for item in value if json.dumps(item, sort_keys=True) not in seen]
                merged[key] = current + added
                if added:
                    origins.setdefault(key, []).append(position)
            elif isinstance(current, dict) and isinstance(value, dict):
                merged[key] = {**value, **current}
                if set(value) - set(current):
                    origins.setdefault(key, []).append(position)
            elif current in (None, "", [], {}):
                merged[key] = value
                if value not in (None, "", [], {}):
                    origins[key] = [position]
    return merged, origins


def stored_head(parsed: dict[str, Any]) -> dict[str, Any]:
    """kind, title and parent of a stored record without building the model."""
    kind = Kind(parsed["kind"])
    return {"kind": parsed["kind"], "title": parsed["title"],
            "parent": parsed.get(PARENT_FIELDS[kind]) if kind in PARENT_FIELDS else None}


def unique_ids(result: ParseResult) -> list[Record]:
    """Two records of one document must not share an id: later ones get `-2`, `-3`..."""
    seen: dict[str, int] = {}
    records: list[Record] = []
    for record in result.records:
        count = seen.get(record.id, 0) + 1
        seen[record.id] = count
        if count > 1:
            record = record.model_copy(update={"id": f"{record.id}-{count}"})
        records.append(record)
    return records


def strong_identifiers(aliases: Iterable[str]) -> dict[str, set[str]]:
    """Identifiers that name one study or grant and nothing else, by scheme."""
    found: dict[str, set[str]] = {}
    for alias in aliases:
        scheme, _, value = alias.partition(":")
        if scheme in STRONG_SCHEMES:
            found.setdefault(scheme, set()).add(value)
    return found


def folded_history(rows: Iterable[tuple[int, str, str]], seq: int) -> tuple[set[str], set[str], int]:
    """Ids upserted and ids deleted in (history number, id, action) rows read after `seq`, in
    order: the last action of each id decides. Also the newest number read (`seq` if none)."""
    upserted: set[str] = set()
    deleted: set[str] = set()
    newest = seq
    for number, rid, action in rows:
        newest = number
        if action == "deleted":
            deleted.add(rid)
            upserted.discard(rid)
        else:
            upserted.add(rid)
            deleted.discard(rid)
    return upserted, deleted, newest


def parent_relations(records: list[Record], relations: list[Relation]) -> list[Relation]:
    """Containment edges implied by parent fields that the parser did not state itself."""
    stated = {(r.subject, r.predicate, r.object) for r in relations}
    implied = []
    for record in records:
        if record.kind in PARENT_FIELDS:
            parent = getattr(record, PARENT_FIELDS[record.kind])
            edge = (parent, PARENT_PREDICATES[record.kind], record.id)
            if parent and edge not in stated:
                implied.append(Relation(subject=parent, predicate=edge[1], object=record.id))
    return implied


# ---- ids a document keeps when it is read again ----------------------------------------------

def kept_ids(records: list[Record], previous: dict[str, str],
             old_aliases: dict[tuple[str, str], str]) -> dict[str, str]:
    """A record this location held before under another id (its title changed, say) keeps the
    old id when it still carries one of the old record's identifiers. `previous` maps the ids
    the location held to their digests; `old_aliases` maps (kind, alias) of those that are not
    coming back to their id. Returns new id -> kept id."""
    renames: dict[str, str] = {}
    for record in records:
        if record.id in previous or record.kind in PARENT_FIELDS:
            continue
        for alias in record.aliases():
            old = old_aliases.get((record.kind.value, alias))
            if old and old not in renames.values():
                renames[record.id] = old
                break
    return renames


def conflict_candidates(records: list[Record], previous: dict[str, str],
                        taken: dict[str, str]) -> list[Record]:
    """New records with strong identifiers whose ids may already belong to a record from
    elsewhere: the ones `separated_ids` looks at."""
    return [r for r in records if r.id not in previous and r.id not in taken
            and r.kind not in PARENT_FIELDS and strong_identifiers(r.aliases())]


def separated_ids(candidates: list[Record], theirs: dict[str, list[str]]) -> dict[str, str]:
    """Two studies must not merge because their titles slug alike: when an id already belongs to
    a record from elsewhere (`theirs`: id -> that record's aliases from other locations) whose
    strong identifiers disagree with the incoming record's, the incoming one gets an id that adds
    its own identifier. Returns new id -> separate id."""
    renames: dict[str, str] = {}
    for record in candidates:
        mine = strong_identifiers(record.aliases())
        other = strong_identifiers(theirs.get(record.id, []))
        if any(scheme in other and values.isdisjoint(other[scheme])
               for scheme, values in mine.items()):
            scheme = sorted(mine)[0]
            renames[record.id] = f"{record.id}-{slug(min(mine[scheme]), max_length=40)}"
    return renames


def renamed(records: list[Record], relations: list[Relation], renames: dict[str, str]
            ) -> tuple[list[Record], list[Relation]]:
    """Records and relations under their final ids. Children, whose ids derive from their
    parent's, follow the parent."""
    if not renames:
        return records, relations

    def final(rid: str | None) -> str | None:
        if rid is None or rid in renames:
            return None if rid is None else renames[rid]
        parent, dot, rest = rid.partition(".")
        return f"{renames[parent]}.{rest}" if dot and parent in renames else rid

    moved = []
    for record in records:
        update: dict[str, Any] = {"id": final(record.id)}
        if record.kind in PARENT_FIELDS:
            field_name = PARENT_FIELDS[record.kind]
            update[field_name] = final(getattr(record, field_name))
        moved.append(record.model_copy(update=update))
    return moved, [r.model_copy(update={"subject": final(r.subject), "object": final(r.object)})
                   for r in relations]
