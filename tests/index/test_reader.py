"""Opening the published index for reading."""

from __future__ import annotations

import json

import pytest

from discovery.index.build import FORMAT, IndexBuildError, index_paths
from discovery.index.generations import current_name
from discovery.index.reader import IndexReader
from tests.search.built_index import private_copy


def test_an_index_of_an_older_format_is_refused_with_what_to_run(index_data, tmp_path):
    """Format 6 had no title vectors: its generation is not read, and the message says so."""
    data = private_copy(index_data, tmp_path / "data")
    root = index_paths(data).root
    meta_file = root / current_name(root) / "meta.json"
    meta = json.loads(meta_file.read_text())
    assert meta["format"] == FORMAT
    meta_file.write_text(json.dumps({**meta, "format": FORMAT - 1}))
    with pytest.raises(IndexBuildError, match="older version") as raised:
        IndexReader(data)
    assert "discovery index" in str(raised.value.hint)
