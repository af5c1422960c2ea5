from __future__ import annotations

import numpy as np
import pytest

from discovery.harmonise.bank import ItemBank
from discovery.harmonise.channels import Encoded, channel_rows
from discovery.harmonise.language import detect_languages
from discovery.harmonise.matcher import KINDS, Matcher, Settings, language_centred
from discovery.harmonise.polarity import core_text
from discovery.harmonise.scorer import shipped_scorer
from discovery.index.embed import EmbeddingCache, get_embedder


def test_short_english_items_are_read_as_the_sets_language() -> None:
    items = ["Tells Lies", "Bites nails", "Is often disobedient", "Worries about many things",
             "Is restless and cannot keep still", "Often fights with other children",
             "Is miserable or tearful", "Has few friends"]
    assert detect_languages(items) == ["en"] * len(items)


def test_a_real_language_mix_is_kept() -> None:
    items = ["Feeling nervous, anxious, or on edge", "Trouble relaxing", "Worrying too much",
             "Sentir-se nervoso/a, ansioso/a ou muito tenso/a", "Dificuldade para relaxar",
             "Preocupar-se muito com diversas coisas"]
    assert detect_languages(items) == ["en"] * 3 + ["pt"] * 3


def test_language_centring_removes_each_languages_mean() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(40, 8)).astype(np.float32)
    vectors[:20] += 5  # one language far off in one direction
    centred = language_centred(vectors, ["a"] * 20 + ["b"] * 20)
    pooled = language_centred(vectors, ["a"] * 40)  # one language: only the pool's mean goes
    assert np.allclose(np.linalg.norm(centred, axis=1), 1, atol=1e-5)
    across = float(centred[:20].mean(0) @ centred[20:].mean(0))
    assert float(pooled[:20].mean(0) @ pooled[20:].mean(0)) < -0.5  # two camps, far apart
    assert abs(across) < 0.1  # shrinkage leaves 3/23 of each language's mean


def test_bank_context_changes_english_scores_only(small_bank: ItemBank, small_e5_bank: ItemBank,
                                                  embedding_cache: EmbeddingCache,
                                                  matcher: Matcher) -> None:
    with_bank = Matcher(small_bank, embedding_cache, multilingual_bank=small_e5_bank)
    left = ["Squirmy, fidgety child", "Trouble relaxing"]
    right = ["Cannot settle to anything for more than a few moments", "Dificuldade para relaxar"]
    banked = with_bank.score_pairs(left, right).score
    plain = matcher.score_pairs(left, right).score
    assert banked[0] != pytest.approx(plain[0])
    assert banked[1] == pytest.approx(plain[1], abs=1e-5)  # a cross-language pair: e5 channel


def test_bank_must_match_the_english_model(small_bank: ItemBank) -> None:
    wrong = ItemBank("another-model", small_bank.vectors, small_bank.mean, small_bank.group_ids,
                     small_bank.group_shares)
    with pytest.raises(ValueError, match="another-model"):
        Matcher(wrong)


CONCENTRATION = "Trouble concentrating on things, such as reading the newspaper or watching television"


def test_symptoms_that_go_together_are_related_not_equivalent(small_bank: ItemBank,
                                                              small_e5_bank: ItemBank,
                                                              embedding_cache: EmbeddingCache) -> None:
    """The bank's centring pushes apart distinct depression symptoms (issue 12); relatedness reads
    them as going together, and a score that blends it in keeps part of that. The default score,
    the learned pair scorer's, ranks the equivalent first, the related next."""
    right = ["Feeling bad about yourself or that you are a failure",
             "How likely are you to recommend this drink to a friend?", "Poor concentration"]
    scored = Matcher(small_bank, embedding_cache, multilingual_bank=small_e5_bank).score_pairs(
        [CONCENTRATION] * 3, right)
    failure, drink, same = 0, 1, 2
    assert scored.relatedness[failure] > scored.equivalence[failure] + 0.3
    assert scored.relatedness[failure] > scored.relatedness[drink] + 0.2
    assert scored.equivalence[same] > scored.equivalence[failure] + 0.5
    assert scored.score[same] > scored.score[failure] > scored.score[drink]
    blended = Matcher(small_bank, embedding_cache,
                      settings=Settings(equivalence_share=0.5, learned=False),
                      multilingual_bank=small_e5_bank)
    mixed = blended.score_pairs([CONCENTRATION] * 3, right).score
    assert mixed[same] > mixed[failure] > mixed[drink]


@pytest.mark.parametrize(("banked", "learned"), [(True, False), (True, True), (False, True)])
def test_score_and_matrix_agree_with_pairs(banked: bool, learned: bool, small_bank: ItemBank,
                                           small_e5_bank: ItemBank,
                                           embedding_cache: EmbeddingCache) -> None:
    # a share below 1 (the grid chose equivalence alone), so relatedness must enter the blend; e5
    # with its bank neighbourhood, so every block of the English rows is exercised; with a bank
    # and `learned`, the score is the shipped scorer's weighted sum of the channels' cosines
    scorer = Matcher(small_bank if banked else None, embedding_cache,
                     settings=Settings(equivalence_share=0.6, e5_context=0.5, learned=learned),
                     multilingual_bank=small_e5_bank if banked else None)
    left = [CONCENTRATION, "Feeling nervous, anxious or on edge", "Trouble relaxing"]
    right = ["Poor concentration", "Not being able to stop or control worrying",
             "Dificuldade para relaxar"]
    scored = scorer.score_pairs(left, right)
    english = slice(0, 2)
    if banked and learned:
        assert np.allclose(scored.score[english], learned_score(left[:2], right[:2], small_bank,
                                                                small_e5_bank, embedding_cache), atol=1e-5)
    else:
        share = scorer.settings.equivalence_share
        assert np.allclose(scored.score[english], share * scored.equivalence[english]
                           + (1 - share) * scored.relatedness[english], atol=1e-5)
    # a cross-language pair has one number: the language-centred e5 similarity
    assert scored.score[2] == pytest.approx(scored.equivalence[2]) == pytest.approx(scored.relatedness[2])
    features = scorer.features(list(dict.fromkeys([*left, *right])))  # Portuguese last
    rows, cols = np.meshgrid(np.arange(6), np.arange(6), indexing="ij")
    every = scorer.pair_scores(features, rows.ravel(), cols.ravel())
    for kind in KINDS:
        matrix = scorer.scores(features, features, kind)
        assert np.allclose(matrix.ravel(), getattr(every, kind), atol=1e-5)
        part = scorer.scores(features.take([0, 1]), features.take([3, 4]), kind)
        assert np.allclose(np.diag(part), getattr(scored, kind)[english], atol=1e-5)


def learned_score(left: list[str], right: list[str], bank: ItemBank, e5_bank: ItemBank,
                  cache: EmbeddingCache) -> np.ndarray:
    """The shipped scorer's score of English pairs, summed channel by channel from the cosines."""
    minilm, e5 = get_embedder("minilm"), get_embedder("e5")
    texts = [*left, *right]
    cores = [core_text(t) for t in texts]
    encoded = Encoded(texts, cores, cache.encode(minilm, texts, "passage"),
                      cache.encode(minilm, cores, "passage"), cache.encode(e5, texts, "passage"))
    weights = shipped_scorer().weights
    rows = channel_rows(encoded, bank, e5_bank, list(weights))
    n = len(left)
    return sum(weight * np.einsum("ij,ij->i", rows[name][:n], rows[name][n:])
               for name, weight in weights.items())


def test_a_pairs_learned_score_does_not_depend_on_its_pool(small_bank: ItemBank,
                                                           small_e5_bank: ItemBank,
                                                           embedding_cache: EmbeddingCache) -> None:
    """score-pairs scores a pair in a pool of its own texts, the harmonise page in a pool of every
    item: the English channel reads each item against the bank, never the pool."""
    matcher = Matcher(small_bank, embedding_cache, multilingual_bank=small_e5_bank)
    alone = matcher.score_pairs([CONCENTRATION], ["Poor concentration"])
    crowd = matcher.score_pairs([CONCENTRATION, "Trouble relaxing", "Feeling nervous"],
                                ["Poor concentration", "Worrying too much", "Feeling on edge"])
    for kind in KINDS:
        assert getattr(alone, kind)[0] == pytest.approx(getattr(crowd, kind)[0], abs=1e-5)


@pytest.mark.parametrize("banked", [True, False])
def test_e5_weight_blends_the_two_encoders_english_equivalence(
        banked: bool, small_bank: ItemBank, small_e5_bank: ItemBank,
        embedding_cache: EmbeddingCache) -> None:
    """English equivalence at e5 weight w is (1 - w) x MiniLM's + w x e5's, exactly (the tuning
    grid sums the parts instead of matching again); e5's is read against its own bank as MiniLM's
    is: at e5 context 0 the cosine of the bank-centred e5 vectors; a pair in another language does
    not move."""
    left = [CONCENTRATION, "Feeling nervous, anxious or on edge", "Trouble relaxing"]
    right = ["Poor concentration", "Not being able to stop or control worrying",
             "Dificuldade para relaxar"]

    def equivalence(weight: float, context: float = 0.0) -> np.ndarray:
        scorer = Matcher(small_bank if banked else None, embedding_cache,
                         settings=Settings(e5_weight=weight, e5_context=context),
                         multilingual_bank=small_e5_bank if banked else None)
        return scorer.score_pairs(left, right).equivalence

    minilm, e5, blend = equivalence(0.0), equivalence(1.0), equivalence(0.25)
    assert np.allclose(blend, 0.75 * minilm + 0.25 * e5, atol=1e-5)
    assert abs(e5[0] - minilm[0]) > 0.01  # the two encoders read the pair differently
    assert e5[2] == pytest.approx(minilm[2], abs=1e-6)
    if banked:
        centred = small_e5_bank.centred(get_embedder("e5").encode(left[:2] + right[:2]))
        assert e5[:2] == pytest.approx([centred[0] @ centred[2], centred[1] @ centred[3]], abs=1e-5)
        in_context = equivalence(1.0, 0.5)
        assert np.abs(in_context[:2] - e5[:2]).max() > 0.01  # the e5 neighbourhood counts
        assert in_context[2] == pytest.approx(e5[2], abs=1e-6)


def test_e5_weight_with_a_bank_needs_an_e5_bank(small_bank: ItemBank) -> None:
    Matcher(small_bank, settings=Settings(e5_weight=0.0, learned=False))  # MiniLM alone: no e5 bank
    with pytest.raises(ValueError, match="multilingual_bank"):
        Matcher(small_bank, settings=Settings(e5_weight=0.5, learned=False))
    with pytest.raises(ValueError, match="multilingual_bank"):  # the learned scorer reads e5 too
        Matcher(small_bank, settings=Settings(e5_weight=0.0))
    with pytest.raises(ValueError, match="multilingual_bank"):  # a bank of the wrong model
        Matcher(small_bank, settings=Settings(e5_weight=0.5), multilingual_bank=small_bank)
