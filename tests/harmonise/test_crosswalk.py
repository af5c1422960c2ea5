from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from discovery.errors import DiscoveryError
from discovery.harmonise.bank import ItemBank
from discovery.harmonise.crosswalk import Harmonisation, export, harmonise, same_scale
from discovery.harmonise.items import Instrument, Item, instruments_from_files
from discovery.harmonise.matcher import Matcher
from discovery.index.embed import EmbeddingCache

GAD7 = "instruments/harmony_original_csv/GAD-7_{}.csv"


@pytest.fixture(scope="module")
def gad7(corpus: Path, matcher: Matcher) -> Harmonisation:
    """GAD-7 in English and Portuguese, plus a pasted instrument with one hostile cell."""
    files = [str(corpus / GAD7.format(lang)) for lang in ("English", "Portuguese")]
    pasted = Instrument("pasted", "pasted", "pasted text", [
        Item("p1", "=HYPERLINK(\"http://x\") I feel calm", "pasted"),
        Item("p2", "I own a bicycle", "pasted")])
    return harmonise([*instruments_from_files(files), pasted], matcher)


def test_translations_are_each_others_best_match(gad7: Harmonisation) -> None:
    english = [i for i in gad7.items if i.instrument == "GAD-7 English"]
    portuguese = {i.id: i for i in gad7.items if i.instrument == "GAD-7 Portuguese"}
    best = {m.left.id: m.right.id for m in gad7.matches if m.right.id in portuguese}
    best |= {m.right.id: m.left.id for m in gad7.matches if m.left.id in portuguese}
    correct = sum(best.get(item.id, "").rsplit(".", 1)[-1] == item.id.rsplit(".", 1)[-1] for item in english)
    assert correct >= 6, best


def test_clusters_join_translations_and_have_readable_labels(gad7: Harmonisation) -> None:
    assert len(gad7.clusters) >= 5
    for cluster in gad7.clusters:
        assert cluster.label in {item.text for item in cluster.items}
        assert len({item.instrument for item in cluster.items}) == len(cluster.items)
    numbers = [{item.id.rsplit(".", 1)[-1] for item in c.items if item.instrument.startswith("GAD")}
               for c in gad7.clusters]
    assert sum(len(n) == 1 for n in numbers) >= 5  # same item number in both languages


def test_unrelated_item_stays_unmatched(gad7: Harmonisation) -> None:
    assert not any("bicycle" in (m.left.text + m.right.text) for m in gad7.matches)


def test_threshold_above_every_score_gives_nothing(corpus: Path, matcher: Matcher) -> None:
    files = [str(corpus / GAD7.format(lang)) for lang in ("English", "Portuguese")]
    result = harmonise(instruments_from_files(files), matcher, threshold=2.0)
    assert result.matches == [] and result.clusters == []


def test_one_instrument_is_not_enough(corpus: Path, matcher: Matcher) -> None:
    with pytest.raises(DiscoveryError, match="at least two instruments"):
        harmonise(instruments_from_files([str(corpus / GAD7.format("English"))]), matcher)


def test_xlsx_opens_in_a_spreadsheet_reader(gad7: Harmonisation, tmp_path: Path) -> None:
    path = tmp_path / "crosswalk.xlsx"
    export(gad7, path)
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["crosswalk", "matches"]
    rows = list(book["crosswalk"].iter_rows(values_only=True))
    assert rows[0][:3] == ("cluster", "cluster_label", "instrument")
    assert len(rows) == 1 + len(gad7.items)
    texts = [row[5] for row in rows[1:]]
    assert "'=HYPERLINK(\"http://x\") I feel calm" in texts  # formulas are defused
    matches = list(book["matches"].iter_rows(values_only=True))
    assert len(matches) == 1 + len(gad7.matches)


def test_csv_and_json_exports_read_back(gad7: Harmonisation, tmp_path: Path) -> None:
    export(gad7, tmp_path / "crosswalk.csv")
    with open(tmp_path / "crosswalk.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(gad7.items)
    clustered = [row for row in rows if row["cluster"]]
    assert {row["polarity"] for row in clustered} <= {"1", "-1", "0"}
    export(gad7, tmp_path / "crosswalk.json")
    data = json.loads((tmp_path / "crosswalk.json").read_text(encoding="utf-8"))
    assert len(data["clusters"]) == len(gad7.clusters)
    assert data["matches"][0]["score"] >= data["matches"][-1]["score"]
    assert {"score", "equivalence", "relatedness", "polarity"} <= set(data["matches"][0])


def test_english_matches_give_the_score_and_its_parts(corpus: Path, small_bank: ItemBank,
                                                      small_e5_bank: ItemBank,
                                                      embedding_cache: EmbeddingCache) -> None:
    matcher = Matcher(small_bank, embedding_cache, multilingual_bank=small_e5_bank)
    pasted = Instrument("pasted", "pasted", "pasted text", [
        Item("p1", "Feeling worried", "pasted"), Item("p2", "Poor concentration", "pasted"),
        Item("p3", "Feeling restless", "pasted")])
    result = harmonise([*instruments_from_files([str(corpus / GAD7.format("English"))]), pasted],
                       matcher, threshold=-1.0)
    assert len(result.matches) >= 3
    alone = matcher.score_pairs([m.left.text for m in result.matches], [m.right.text for m in result.matches])
    for match, score, equivalence, relatedness in zip(result.matches, alone.score, alone.equivalence,
                                                      alone.relatedness, strict=True):
        assert (match.score, match.equivalence, match.relatedness) == pytest.approx(
            (score, equivalence, relatedness), abs=1e-5)


def test_unknown_export_format_is_refused(gad7: Harmonisation, tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError, match="cannot write .docx"):
        export(gad7, tmp_path / "crosswalk.docx")


def test_same_scale_ignores_case_and_spacing() -> None:
    left = Item("a", "x", "A", options=("Not at all", "Several  days"))
    assert same_scale(left, Item("b", "y", "B", options=("not at all", "several days")))
    assert not same_scale(left, Item("c", "y", "B", options=("Never", "Always")))
    assert not same_scale(Item("d", "x", "A"), Item("e", "y", "B"))
