from __future__ import annotations

import csv
import json
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from discovery.cli import app

runner = CliRunner()


def test_score_pairs_round_trip_keeps_other_columns(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("id\ttext_1\ttext_2\tnote\n"
                     "1\tI feel at ease\tI feel nervous\topposed\n"
                     "2\tTrouble relaxing\tDificuldade para relaxar\ttranslation\n"
                     "3\tTrouble relaxing\tI own a bicycle\tunrelated\n", encoding="utf-8")
    out = tmp_path / "scored.tsv"
    result = runner.invoke(app, ["score-pairs", str(pairs), "--out", str(out), "--no-bank",
                                 "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert list(rows[0]) == ["id", "text_1", "text_2", "note", "score", "equivalence", "relatedness",
                             "polarity"]
    assert [row["note"] for row in rows] == ["opposed", "translation", "unrelated"]
    assert rows[0]["polarity"] == "-1" and rows[1]["polarity"] == "1"
    assert float(rows[1]["score"]) > float(rows[2]["score"])


def test_score_pairs_without_text_1_is_a_clear_error(tmp_path: Path) -> None:
    pairs = tmp_path / "bad.tsv"
    pairs.write_text("left\ttext_2\nI feel calm\tI feel nervous\n", encoding="utf-8")
    result = runner.invoke(app, ["score-pairs", str(pairs), "--no-bank", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "bad.tsv: missing column text_1" in result.output
    assert "found: left, text_2" in result.output


def test_harmonise_files_and_pasted_text_to_xlsx(corpus: Path, tmp_path: Path) -> None:
    english = corpus / "instruments" / "harmony_original_csv" / "GAD-7_English.csv"
    out = tmp_path / "crosswalk.xlsx"
    result = runner.invoke(app, ["harmonise", str(english), "--text", "I worry a lot\nI cannot relax",
                                 "--no-bank", "--data", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Crosswalk written" in result.output
    rows = list(load_workbook(out, read_only=True)["matches"].iter_rows(values_only=True))
    pairs = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert any("relax" in str(pair["text_1"]).lower() and "relax" in str(pair["text_2"]).lower()
               for pair in pairs)


def test_measured_groups_items_by_study(corpus: Path, tmp_path: Path) -> None:
    instruments = corpus / "instruments"
    files = [instruments / "harmony_original_csv" / "GAD-7_English.csv",
             instruments / "harmony_original_csv" / "CES_D_English.csv",
             instruments / "variables_alspac_sws_advance_ahms_aesop_items.csv"]
    assert runner.invoke(app, ["ingest", *map(str, files), "--data", str(tmp_path)]).exit_code == 0
    # one encoder is enough to find candidates (the default adds MiniLM beside e5: twice the work)
    indexed = runner.invoke(app, ["index", "--model", "e5", "--data", str(tmp_path)])
    assert indexed.exit_code == 0, indexed.output
    # the item bank is encoded with the index, so the matcher below encodes none of it
    assert "vectors encoded (the rest cached)" in " ".join(indexed.output.split())
    result = runner.invoke(app, ["measured", "I feel nervous and anxious", "--json", "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    groups = json.loads(result.output)
    by_id = {group["id"]: group for group in groups}
    assert {"gad-7-english", "advance"} <= set(by_id)
    assert by_id["gad-7-english"]["items"][0]["text"] == "Feeling nervous, anxious, or on edge"
    assert all(g["best"] >= h["best"] for g, h in zip(groups, groups[1:], strict=False))
    for group in groups:
        assert [i["score"] for i in group["items"]] == sorted((i["score"] for i in group["items"]),
                                                             reverse=True)


def test_measured_without_a_catalogue_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["measured", "I feel calm", "--data", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "no catalogue here" in result.output
