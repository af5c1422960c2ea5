"""Dumps: every selected record once, in a form that reads back to the record; filters; and a
stream that yields as it goes instead of building the whole dump first."""

from __future__ import annotations

import io
import json
import zipfile

import pyarrow.parquet as pq
import pytest

from discovery.catalogue.store import Catalogue
from discovery.errors import DiscoveryError
from discovery.export import dump
from discovery.export.dump import dump_format, selection
from discovery.model import record_from_json
from discovery.sources.base import Document
from discovery.sources.ddi import parse as parse_ddi
from tests.oai.site import build


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    return Catalogue(build(tmp_path_factory.mktemp("dump") / "data"))


def everything(catalogue: Catalogue, fmt: str, **chosen: object) -> bytes:
    chosen_format = dump_format(fmt)
    return b"".join(chosen_format.chunks(catalogue, selection(chosen_format, **chosen)))


def test_json_lines_read_back_to_the_stored_records(catalogue: Catalogue) -> None:
    lines = everything(catalogue, "jsonl").decode().splitlines()
    assert len(lines) == catalogue.db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    for line in lines[::25]:
        record = record_from_json(json.loads(line))
        assert record == catalogue.get(record.id)


def test_parquet_has_a_row_per_record(catalogue: Catalogue) -> None:
    table = pq.read_table(io.BytesIO(everything(catalogue, "parquet", kinds=["variable"])))
    variables = catalogue.db.execute("SELECT COUNT(*) FROM records WHERE kind='variable'").fetchone()[0]
    assert table.num_rows == variables and set(table.column("kind").to_pylist()) == {"variable"}
    first = table.slice(0, 1).to_pylist()[0]
    assert json.loads(first["record"])["id"] == first["id"]


def test_ddi_zip_holds_a_codebook_per_study_with_its_variables(catalogue: Catalogue) -> None:
    archive = zipfile.ZipFile(io.BytesIO(everything(catalogue, "ddi")))
    studies = catalogue.db.execute("SELECT id FROM records WHERE kind IN ('study','dataset')").fetchall()
    assert sorted(archive.namelist()) == sorted(f"{rid}.xml" for (rid,) in studies)
    name = next(n for n in archive.namelist() if n.startswith("financial-awareness"))
    parsed = parse_ddi(Document(location=name, content=archive.read(name)))
    variables = catalogue.db.execute("SELECT COUNT(*) FROM records WHERE parent=?",
                                     (name.removesuffix(".xml"),)).fetchone()[0]
    assert sum(r.kind == "variable" for r in parsed.records) == variables > 100


def test_filters_by_kind_catalogue_and_date(catalogue: Catalogue) -> None:
    lines = everything(catalogue, "jsonl", kinds=["study"], catalogues=["UK Data Service"]).splitlines()
    assert lines and all(json.loads(line)["kind"] == "study" for line in lines)
    assert not everything(catalogue, "jsonl", since="2999-01-01")
    with pytest.raises(DiscoveryError, match="not variable"):
        everything(catalogue, "ddi", kinds=["variable"])
    with pytest.raises(DiscoveryError, match="no kind of record"):
        selection(dump_format("jsonl"), kinds=["studies"])
    with pytest.raises(DiscoveryError, match="not a date"):
        selection(dump_format("jsonl"), since="last week")


def test_the_stream_yields_as_it_reads(catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch) -> None:
    """With small batches the first bytes come before the last record is read: the stream never
    holds the whole dump."""
    monkeypatch.setattr(dump, "CHUNK_BYTES", 10_000)
    chunks = dump_format("jsonl").chunks(catalogue, selection(dump_format("jsonl")))
    first = next(chunks)
    assert 10_000 <= len(first) < 20_000 + max(map(len, first.splitlines()))
    assert sum(1 for _ in chunks) > 10
