"""Harmonisation over the JSON API, against a real server on 127.0.0.1: a crosswalk between
instruments (GAD-7 in English and Portuguese from the corpus), polarity, downloads, bounds, rate
limits, and "which studies measured this question?" over the search index."""

from __future__ import annotations

import csv
import io
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from discovery.server.limits import Rate
from discovery.server.services import Services, ServiceUnavailable
from discovery.harmonise.polarity import core_text
from discovery.index.build import index_paths
from discovery.index.embed import text_key
from tests.server.site import Site, serve

FSD = "financial-awareness-of-finnish-people-2014"


def post(site: Site, path: str, body: Any) -> httpx.Response:
    return httpx.post(site.url + path, json=body, timeout=60)


def gad7(corpus: Path, language: str) -> dict[str, Any]:
    path = corpus / "instruments" / "harmony_original_csv" / f"GAD-7_{language}.csv"
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return {"name": f"GAD-7 {language}",
            "items": [{"text": row["Question"], "options": row["Options"].split("/")} for row in rows]}


def test_gad7_english_matches_its_portuguese_translation(search_site: Site, corpus: Path) -> None:
    english, portuguese = gad7(corpus, "English"), gad7(corpus, "Portuguese")
    response = post(search_site, "/api/harmonise", {"instruments": [english, portuguese]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(i["name"], i["items"]) for i in body["instruments"]] == [
        ("GAD-7 English", len(english["items"])), ("GAD-7 Portuguese", len(portuguese["items"]))]
    best = {}  # English item number -> its best Portuguese match's number
    for match in body["matches"]:  # best first: the first match seen for an item is its best
        if match["instrument_1"] == "GAD-7 English":
            best.setdefault(match["item_1"], match["item_2"])
    translated = sum(english.split(".")[-1] == portuguese.split(".")[-1]
                     for english, portuguese in best.items())
    assert translated >= 6, best
    first = body["matches"][0]
    assert first["score"] >= body["matches"][-1]["score"]
    assert first["polarity"] != -1  # a translation is never to be reverse-coded
    assert len(body["clusters"]) >= 5
    assert all(len(c["items"]) >= 2 and c["label"] for c in body["clusters"])


def test_at_ease_and_nervous_are_one_construct_worded_the_other_way(search_site: Site) -> None:
    # This catalogue holds no English questions, so the matcher has no item bank here and centres
    # three items on their own mean, which makes every pair's score negative: threshold -0.2 keeps
    # the pair (-0.08); the unrelated item (-0.42) stays below it.
    body = post(search_site, "/api/harmonise", {
        "instruments": [{"name": "A", "items": ["I feel at ease", "I own a car"]},
                        {"name": "B", "items": ["I feel nervous"]}],
        "threshold": -0.2}).json()
    pairs = {(m["text_1"], m["text_2"]): m for m in body["matches"]}
    assert pairs[("I feel at ease", "I feel nervous")]["polarity"] == -1
    assert ("I own a car", "I feel nervous") not in pairs
    [cluster] = body["clusters"]
    assert {i["text"]: i["polarity"] for i in cluster["items"]}["I feel nervous"] == \
        -{i["text"]: i["polarity"] for i in cluster["items"]}["I feel at ease"]


def test_crosswalk_downloads_open_in_a_spreadsheet_reader(search_site: Site) -> None:
    body = {"instruments": [{"name": "=cmd", "items": ["I feel calm", "I worry a lot"]},
                            {"name": "B", "items": ["I feel nervous", "I worry too much"]}]}
    xlsx = post(search_site, "/api/harmonise.xlsx", body)
    assert xlsx.status_code == 200, xlsx.text
    assert 'filename="crosswalk.xlsx"' in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    rows = list(book["matches"].iter_rows(values_only=True))
    assert rows[0][:3] == ("instrument_1", "item_1", "text_1")
    header = rows[0]
    pairs = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert any(pair["text_1"] == "I worry a lot" and pair["text_2"] == "I worry too much"
               and -1 <= pair["equivalence"] <= 1 and -1 <= pair["relatedness"] <= 1 for pair in pairs)
    assert "'=cmd" in [row[2] for row in book["crosswalk"].iter_rows(values_only=True)]
    text = post(search_site, "/api/harmonise.csv", body)
    assert text.headers["content-type"].startswith("text/csv")
    crosswalk = list(csv.DictReader(io.StringIO(text.text)))
    assert {row["text"] for row in crosswalk} == {"I feel calm", "I worry a lot", "I feel nervous",
                                                  "I worry too much"}
    assert all(row["score"] for row in crosswalk if row["cluster"] and row["text"] != row["cluster_label"])


@pytest.mark.parametrize("body, status, words", [
    ({"instruments": [{"name": "A", "items": ["x"]}]}, 422, ["instruments", "at least 2"]),
    ({"instruments": [{"name": "A", "items": ["x"] * 300}, {"name": "B", "items": ["y"] * 101}]},
     400, ["401 items", "at most 400"]),
    ({"instruments": [{"name": "A", "items": ["x"] * 401}, {"name": "B", "items": ["y"]}]}, 422,
     ["at most 400"]),
    ({"instruments": [{"name": "A", "items": ["  "]}, {"name": "B", "items": ["y"]}]}, 422,
     ["items.0"]),  # a blank item is outside the schema (it was a schema-valid 400)
    ({"instruments": [{"name": " ", "items": ["x"]}, {"name": "B", "items": ["y"]}]}, 422, ["name"]),
    ({"instruments": [{"name": "A", "items": ["x"]}, {"name": "B", "items": ["y"]}], "threshold": False},
     422, ["threshold"]),  # was read as 0.0
    ({"instruments": [{"name": "A", "items": ["x"]}, {"name": "B", "items": ["y"]}], "threshold": 5},
     422, ["threshold", "1"]),
    ({"instruments": [{"name": "", "items": ["x"]}, {"name": "B", "items": ["y"]}]}, 422, ["name"]),
    ({"instruments": [{"name": "A", "items": ["x" * 1001]}, {"name": "B", "items": ["y"]}]}, 422,
     ["1000 characters"]),
])
def test_bad_harmonise_requests_are_json_errors(search_site: Site, body: dict[str, Any], status: int,
                                                words: list[str]) -> None:
    response = post(search_site, "/api/harmonise", body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    for word in words:
        assert word in error["message"], error


def test_which_studies_measured_a_question(search_site: Site) -> None:
    response = httpx.get(search_site.url + "/api/measured", timeout=60,
                         params={"q": "Have you saved money for your retirement?", "limit": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["candidates"] > 0 and 0 < len(body["studies"]) <= 5
    by_id = {study["id"]: study for study in body["studies"]}
    assert FSD in by_id and by_id[FSD]["url"].endswith(f"/items/{FSD}")
    items = by_id[FSD]["items"]
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    assert items[0]["score"] == by_id[FSD]["best"] and "/variables/" in items[0]["url"]
    assert [s["best"] for s in body["studies"]] == sorted((s["best"] for s in body["studies"]), reverse=True)

    blank = httpx.get(search_site.url + "/api/measured", params={"q": " "}, timeout=30)
    assert blank.status_code == 422 and "q" in blank.json()["error"]["message"]


def cached_texts(data: Path, texts: list[str]) -> list[str]:
    """Those of `texts` (or their cores, the matcher's second text per item) with a cached vector."""
    keys = {text_key(t): t for text in texts for t in (" ".join(text.split()), core_text(text))}
    with sqlite3.connect(index_paths(data).cache) as db:
        found = db.execute(f"SELECT DISTINCT key FROM vectors WHERE key IN ({','.join('?' * len(keys))})",
                           list(keys)).fetchall()
    return [keys[key] for (key,) in found]


def test_anonymous_requests_do_not_grow_the_embedding_cache(search_site: Site) -> None:
    # a 2,000-item request used to add 4,000 vectors to the cache on disk for good
    stamp = time.time_ns()
    english = [f"I worried {n} times on day {stamp}" for n in range(20)]
    spanish = [f"Preocupé {n} veces el día {stamp}" for n in range(20)]
    body = {"instruments": [{"name": "A", "items": english}, {"name": "B", "items": spanish}]}
    assert post(search_site, "/api/harmonise", body).status_code == 200
    question = f"Did you save money for retirement in {stamp}?"
    assert httpx.get(search_site.url + "/api/measured", params={"q": question}, timeout=60).status_code == 200
    assert cached_texts(search_site.data, english + spanish + [question]) == []


def test_expensive_routes_are_rate_limited_per_client(search_site: Site) -> None:
    url = serve(search_site.data, rates={"harmonise": Rate(burst=6, per_minute=6),
                                         "measured": Rate(burst=1, per_minute=1)})
    body = {"instruments": [{"name": "A", "items": ["I feel calm", "I worry"]},
                            {"name": "B", "items": ["I feel nervous", "I fret"]}]}
    assert httpx.post(url + "/api/harmonise", json=body, timeout=60).status_code == 200
    refused = httpx.post(url + "/api/harmonise.csv", json=body, timeout=60)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 20
    assert "too many harmonise requests" in refused.json()["error"]["message"]
    bad = {"instruments": [{"name": "A", "items": ["x"]}]}
    assert httpx.post(url + "/api/harmonise", json=bad, timeout=60).status_code == 422  # checked first
    page = httpx.post(url + "/harmonise", data={"name": ["A", "B"], "items": ["calm\nworry", "nervous"],
                                                "action": "match"}, timeout=60)
    assert page.status_code == 429 and "too many harmonise requests" in page.text
    question = {"q": "Have you saved money for your retirement?"}
    assert httpx.get(url + "/api/measured", params=question, timeout=60).status_code == 200
    assert httpx.get(url + "/api/measured", params=question, timeout=60).status_code == 429


def test_a_request_waits_a_bounded_time_for_the_models(search_site: Site) -> None:
    # the first /api/measured of a server took 61 s while the item bank was encoded
    services = Services(search_site.data)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="still loading") as loading:
        services.matcher(wait=0.0)
    assert time.monotonic() - started < 1 and loading.value.retry_after
    assert services.matcher(wait=120) is services.matcher(wait=0.0)  # loaded once, in the background
