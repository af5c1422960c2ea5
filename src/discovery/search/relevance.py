"""Where a match stops: the cuts that bound a result list to the records that fit the query.

Cosine similarities mean different things per model (MiniLM spreads unrelated texts around 0.1,
multilingual e5 packs everything above 0.75), so the semantic cut is calibrated per model: a row
enters when its cosine is at least `floor` and within `margin` of the query's best row. A model
without a calibration gets no floor and only the margin.

No cosine tells a query about nothing in the corpus from a hard real one: e5 puts random letters
at 0.87 from their nearest row and a real cross-language query at 0.82. So a query none of whose
words the index knows (after spelling correction) and that names nothing fits nothing by
definition, and gets its nearest records offered as such.

The lexical cut is relative: a row must score at least `LEXICAL_FLOOR` of the query's best BM25,
which drops the rows that share only a common word with a long query.
"""

from __future__ import annotations

from dataclasses import dataclass

LEXICAL_FLOOR = 0.15


@dataclass(frozen=True)
class SemanticCut:
    floor: float  # no row below this cosine fits
    margin: float  # nor a row this far below the query's best

    def threshold(self, best: float) -> float:
        return max(self.floor, best - self.margin)


# floor: where queries about nothing in the corpus ("car engine repair manual", random letters)
# have their 100th-1,000th nearest row; margin: what keeps ~90% of the tuning judgments' relevant
# records (their best row's cosine against the query's best)
CUTS = {"minilm-l6-int8": SemanticCut(floor=0.30, margin=0.25),
        "multilingual-e5-small-q4": SemanticCut(floor=0.80, margin=0.04)}
UNCALIBRATED = SemanticCut(floor=-1.0, margin=0.25)


def semantic_cut(model: str) -> SemanticCut:
    return CUTS.get(model, UNCALIBRATED)
