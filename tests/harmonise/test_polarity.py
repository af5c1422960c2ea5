from __future__ import annotations

import csv
import html
import io
import re
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from discovery.catalogue.store import Catalogue
from discovery.cli import app
from discovery.harmonise.matcher import Matcher
from discovery.harmonise.polarity import REVERSE, SAME, UNCLEAR, core_text, label, negations, pair_polarity
from tests.server.site import serve

OPPOSED = [
    ("en", "I can relax easily", "I feel nervous"),
    ("en", "I feel cheerful and in good spirits", "Trouble relaxing"),
    ("pt", "Estou satisfeito com a minha vida", "Sinto-me triste"),
    ("fr", "Je me sens heureux", "Je me sens triste"),
    ("es", "Me siento feliz y tranquilo", "Me siento triste"),
    ("en-pt", "I can relax easily", "Dificuldade para relaxar"),
]
ALIGNED = [
    ("en", "I feel nervous", "Trouble relaxing"),
    ("pt-en", "Dificuldade para relaxar", "Trouble relaxing"),
    ("fr-es", "Je me sens triste", "Me siento triste"),
    ("en-fr", "I can relax easily", "Je me sens heureux"),
]
UNDECIDED = [
    ("en", "I can relax easily", "Age"),
    ("en", "I feel nervous", "I do not feel sad."),
    ("pt", "Sinto-me triste", "Não me sinto triste"),
]
# One of each polarity among the best matches (threshold -1: every item's best match is kept).
INSTRUMENTS = {"A": ["I feel nervous", "I can relax easily", "Age", "Sinto-me triste"],
               "B": ["Trouble relaxing", "I feel cheerful and in good spirits", "What is your date of birth?",
                     "Me siento triste"]}


@pytest.mark.parametrize(("lang", "left", "right"), OPPOSED)
def test_opposed_items_get_reverse_code(matcher: Matcher, lang: str, left: str, right: str) -> None:
    assert matcher.score_pairs([left], [right]).polarity.tolist() == [REVERSE], lang


@pytest.mark.parametrize(("lang", "left", "right"), ALIGNED)
def test_same_direction_items_get_plus_one(matcher: Matcher, lang: str, left: str, right: str) -> None:
    assert matcher.score_pairs([left], [right]).polarity.tolist() == [SAME], lang


@pytest.mark.parametrize(("lang", "left", "right"), UNDECIDED)
def test_a_pair_with_an_unclear_item_is_unclear_never_a_guess(matcher: Matcher, lang: str, left: str,
                                                              right: str) -> None:
    assert matcher.score_pairs([left], [right]).polarity.tolist() == [UNCLEAR], lang


def test_pair_polarity_is_the_product_of_directions_and_broadcasts() -> None:
    directions = np.array([-1, 0, 1], np.int8)
    assert pair_polarity(directions, directions[::-1]).tolist() == [-1, 0, -1]
    assert pair_polarity(directions[:, None], directions[None, :]).tolist() == [
        [1, 0, -1], [0, 0, 0], [-1, 0, 1]]
    assert [label(p) for p in (-1, 0, 1)] == ["reverse-code", "direction unclear", "same direction"]


def test_nearby_negators_count_once() -> None:
    assert negations("Seldom or never disobedient") == 1
    assert negations("Je ne me sens pas calme") == 1
    assert negations("Not being able to stop or control worrying") == 2
    assert negations("I feel calm") == 0


def test_core_text_keeps_what_is_measured() -> None:
    assert core_text("Seldom or never disobedient") == core_text("Frequently disobedient") == "disobedient"
    assert core_text("not") == "not"  # nothing left: the text itself


def test_direction_does_not_hurt_equivalence(matcher: Matcher) -> None:
    """The main score is direction-free: a reversed item is closer than an unrelated one."""
    scores = matcher.score_pairs(
        ["Seldom or never disobedient", "Seldom or never disobedient", "I feel calm", "I feel calm"],
        ["Frequently disobedient", "Has a stutter or stammer", "I feel nervous", "I have a car"]).score
    assert scores[0] > scores[1]
    assert scores[2] > scores[3]


def answered(request: httpx.Request) -> httpx.Response:
    """The response once the server's matcher has loaded (it answers 503 while loading)."""
    deadline = time.monotonic() + 300
    with httpx.Client(timeout=300) as client:
        while True:
            response = client.send(request)
            if response.status_code != 503 or time.monotonic() > deadline:
                return response
            time.sleep(1)


PAGE_ROW = re.compile(r'<tr>\s*<td><span class="instrument-name">[^<]*</span> ([^<]*)</td>\s*'
                      r'<td><span class="instrument-name">[^<]*</span> ([^<]*)</td>\s*'
                      r'(?:<td class="score">[^<]*</td>\s*){3}'
                      r'<td><span class="polarity[^"]*">([^<]*)</span></td>')


def test_score_pairs_the_page_the_api_and_the_crosswalk_agree_on_every_pair(tmp_path: Path) -> None:
    Catalogue(tmp_path).close()  # an empty catalogue: no item bank, like --no-bank below
    url = serve(tmp_path)
    body = {"instruments": [{"name": name, "items": items} for name, items in INSTRUMENTS.items()],
            "threshold": -1}
    api = answered(httpx.Request("POST", url + "/api/harmonise", json=body))
    assert api.status_code == 200, api.text
    from_api = {(m["text_1"], m["text_2"]): m["polarity"] for m in api.json()["matches"]}
    assert set(from_api.values()) == {REVERSE, UNCLEAR, SAME}, from_api

    form = {"name": list(INSTRUMENTS), "items": ["\n".join(items) for items in INSTRUMENTS.values()],
            "threshold": "-1", "action": "match"}
    page = answered(httpx.Request("POST", url + "/harmonise", data=form))
    assert page.status_code == 200, page.text
    on_page = {(html.unescape(a), html.unescape(b)): shown for a, b, shown in PAGE_ROW.findall(page.text)}
    assert on_page == {pair: label(sign) for pair, sign in from_api.items()}

    download = answered(httpx.Request("POST", url + "/api/harmonise.csv", json=body))
    crosswalk = list(csv.DictReader(io.StringIO(download.text)))
    clustered = [row for row in crosswalk if row["cluster"]]
    in_clusters = {(row["cluster_label"], row["text"]): int(row["polarity"]) for row in clustered}
    assert in_clusters
    said = {REVERSE: "yes", UNCLEAR: "direction unclear", SAME: "no"}
    assert all(row["reverse_code"] == said[int(row["polarity"])] for row in clustered)

    pairs = [*from_api, *in_clusters]
    table = tmp_path / "pairs.tsv"
    table.write_text("text_1\ttext_2\n" + "".join(f"{a}\t{b}\n" for a, b in pairs), encoding="utf-8")
    result = CliRunner().invoke(app, ["score-pairs", str(table), "--no-bank", "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    from_cli = {(row["text_1"], row["text_2"]): int(row["polarity"])
                for row in csv.DictReader(io.StringIO(result.stdout), delimiter="\t")}
    assert from_cli == {**from_api, **in_clusters}
