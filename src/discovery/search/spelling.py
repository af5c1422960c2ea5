"""Query spelling: "did you mean" corrections against the index vocabulary, and British <-> American
spelling variants. Pure functions over a word -> document frequency dict, no I/O.

The speller finds candidates with a letter-count filter instead of a symmetric-delete table: each
vocabulary word (df >= 2) is a row of 32 letter counts (code point % 32, so a-z stay apart and
other scripts share buckets), rows sorted by length. One edit changes the counts by at most 2 (an
adjacent transposition by 0), so the words within distance k of a query word are among the rows
of length +-k whose counts differ by at most 2k; only those get the exact distance, highest df
first, stopping at the first df that has a match. It is exact at distance 2, where deletes of
deletes are not, and holds 32 bytes a word instead of one entry per delete.
Measured on a shared, loaded 2-core machine (numpy 2.4) with the real index vocabulary (14k words,
10k with df >= 2) and 50k / 300k vocabularies grown from it by an order-3 letter model: build
7 / 43 / 340 ms; memory beside the dict 0.5 / 1.1 / 5.4 MB (build peak 1.5 / 3.5 / 19 MB; the
dict itself 1 / 5 / 25 MB); correct() of a two-typo query, median 0.2 / 0.4 / 1.9 ms, p95 1 / 5 /
10 ms. For 500 typos the filter gave the same answer as a scan of every word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

TOKEN = re.compile(r"[^\W_]+")  # letters and digits: a token with a digit (PHQ9, covid19) stays
MIN_LETTERS = 4  # shorter words have too many neighbours to guess from
LONG_WORD = 7  # from this length a word may carry two typos
MAX_LETTERS = 30  # the vocabulary keeps no longer words
MIN_DF = 2  # a word seen in one document only may itself be a typo
BUCKETS = 32  # letter-count columns: 32 bytes, four uint64 words a row
BLOCK = 16384  # rows compared at a time
VARIANTS_KEPT = 65536  # words whose spelling variants are kept
BYTE_SUM = np.uint64(0x0101010101010101)  # times a uint64: its top byte is the sum of its 8 bytes


@dataclass
class Correction:
    """The corrected query and each (typed, suggested) word, to show "did you mean"."""
    text: str
    changes: list[tuple[str, str]] = field(default_factory=list)


class Speller:
    """Built once per opened index from its vocabulary; correct() and variants() only read."""

    def __init__(self, frequencies: dict[str, int]) -> None:
        self.frequencies = frequencies
        # Longer words are never within two edits of a word the vocabulary could hold.
        words = sorted((w for w, n in frequencies.items() if n >= MIN_DF and len(w) <= MAX_LETTERS + 2),
                       key=len)
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        self._words = words
        self._df = np.fromiter((frequencies[w] for w in words), dtype=np.int64, count=len(words))
        self._starts = np.searchsorted(lengths, np.arange(MAX_LETTERS + 4))  # first row of each length
        self._letters = _letter_counts(words, lengths)

    def correct(self, query: str) -> Correction | None:
        """The query with each misspelt word replaced by its likeliest vocabulary word; None when
        no word changes. Words in the vocabulary, in any language, are never touched, nor a word
        whose other British or American spelling is (it is searched in both)."""
        changes: list[tuple[str, str]] = []

        def fix(match: re.Match[str]) -> str:
            token = match.group()
            suggestion = None if self.variants(token.lower()) else self._suggest(token)
            if suggestion is None:
                return token
            changes.append((token, suggestion))
            return suggestion

        text = TOKEN.sub(fix, unicodedata.normalize("NFC", query))
        return Correction(text, changes) if changes else None

    def variants(self, word: str) -> list[str]:
        """The British or American spellings of `word` that the indexed texts use."""
        return [v for v in variants(word) if v in self.frequencies]

    def _suggest(self, token: str) -> str | None:
        if not MIN_LETTERS <= len(token) <= MAX_LETTERS or not token.isalpha() or token.isupper():
            return None  # short words, numbers and acronyms (PHQ, GAD) are not guessed at
        word = token.lower()
        if word in self.frequencies:
            return None
        best = self._nearest(word)
        if best is None:
            return None
        return best[:1].upper() + best[1:] if token.istitle() else best

    def _nearest(self, word: str) -> str | None:
        """The vocabulary word within reach with the highest df; ties: nearer, then alphabetical."""
        limit = 2 if len(word) >= LONG_WORD else 1
        low = self._starts[max(len(word) - limit, 0)]
        high = self._starts[len(word) + limit + 1]
        rows = low + _near_rows(self._letters[low:high], _letter_counts([word], np.array([len(word)]))[0],
                                2 * limit)
        found: list[tuple[int, str]] = []
        level = 0
        for row in rows[np.argsort(-self._df[rows], kind="stable")]:
            if found and self._df[row] < level:
                break
            candidate = self._words[row]
            distance = _distance(word, candidate, limit)
            if distance <= limit:
                found.append((distance, candidate))
                level = self._df[row]
        return min(found)[1] if found else None


def _letter_counts(words: list[str], lengths: np.ndarray) -> np.ndarray:
    """One row of 32 letter counts per word (int8: words have at most 32 letters)."""
    codes = np.frombuffer("".join(words).encode("utf-32-le"), dtype=np.uint32) % BUCKETS
    owners = np.repeat(np.arange(len(words)), lengths)
    counts = np.zeros((len(words), BUCKETS), dtype=np.int8)
    np.add.at(counts, (owners, codes), 1)
    return counts


def _near_rows(counts: np.ndarray, target: np.ndarray, limit: int) -> np.ndarray:
    """The rows of `counts` whose letter counts differ from `target` by at most `limit` in all.
    A row's differences total at most 64 (two words of 32 letters), so its 32 bytes are added as
    four uint64 words whose bytes a multiply then sums; blocks of 16k rows keep the temporaries
    in cache. Measured on 80k rows: 1.5 ms, against 8 ms for np.abs(counts - target).sum(axis=1)."""
    found = []
    for start in range(0, len(counts), BLOCK):
        words = np.abs(counts[start:start + BLOCK] - target).view(np.uint64)
        gaps = ((words[:, 0] + words[:, 1] + words[:, 2] + words[:, 3]) * BYTE_SUM) >> np.uint64(56)
        found.append(start + np.flatnonzero(gaps <= limit))
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (optimal string alignment: swapping two neighbours costs 1),
    or limit + 1 as soon as it must exceed `limit`."""
    while a and b and a[0] == b[0]:
        a, b = a[1:], b[1:]
    while a and b and a[-1] == b[-1]:
        a, b = a[:-1], b[:-1]
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y and x != y:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return min(previous[-1], limit + 1)


# British <-> American spelling. Each rule is (before, British, American, after): regexes around a
# literal slot, anchored to the whole word, so the contexts keep "four" and "hour" out of -our.
_ANY = ".*?"
_ISE_BEFORE = (r".{3,}(?<![aeiou])(?<![^aeiouy]s)(?<!w)(?<!v)(?<!pr)(?<!prom)(?<!prem)(?<!dem)(?<!surm)"
               r"(?<!expert)(?<!advert)(?<!chast)(?<!merchand)(?<!parad)(?<!franch)(?<!treat)(?<!val)"
               r"(?<!cer)(?<!mort)(?<!chem)(?<!desp)(?<!prec)(?<!conc)(?<!exerc)(?<!exc)(?<!inc)"
               r"(?<!circumc)(?<!sunr)(?<!moonr)(?<!upr)")  # promise, surprise, wise, advise, size...
_OUR_STEMS = (r".*(?:behavi|col|fav|arb|lab|neighb|hum|hon|flav|od|rum|tum|vap|vig|rig|sav|savi|endeav"
              r"|arm|cand|clam|clang|ferv|parl|ranc|splend|val|demean|ard|succ)")
_OUR_TAILS = r"(?:|s|ed|ing|ings|ful|fully|less|able|ably|ite|ites|itism|ism|ist|ists|er|ers|al|ally" \
             r"|hood|hoods|ly|y|ation)"
_RE_STEMS = (r"(?:(?:epi)?cent|theat|(?:kilo|centi|milli|micro|nano)?met|(?:milli|centi|deci)?lit|fib"
             r"|calib|somb|spect|lust|meag|sab|scept|sepulch|tit|goit|mit)")
_DOUBLE_L = (r".*(?:trave|mode|labe|counse|cance|leve|signa|fue|channe|marsha|dia|quarre|tunne|funne"
             r"|shove|peda|pane|yode|due|riva|initia|tota|equa|jewe|libe|marve|reve|snorke|stenci|penci"
             r"|grove|swive|towe|beve|ename|chise|spira)")
_AEMIA = r".*(?:an|leuk|glyc|isch|tox|septic|ur|bacter|vir|lipid|calc|natr|kal|ox)"
RULES: list[tuple[str, str, str, str]] = [
    (_ISE_BEFORE, "is", "iz", r"(?:e|es|ed|ing|er|ers|ation|ations|ational)"),
    (r".{2,}l", "ys", "yz", r"(?:e|es|ed|ing|er|ers)"),  # analyse, paralysed
    (_OUR_STEMS, "our", "or", _OUR_TAILS),
    (_RE_STEMS, "re", "er", "s?"),
    (r"(?:epi|de)?cent", "red", "ered", ""),
    (r"(?:epi|de)?cent", "ring", "ering", ""),
    (r"(?:catal|dial|anal|prol|monol|epil)", "ogue", "og", "s?"),
    (r"catal", "ogued", "oged", ""),
    (r"catal", "oguing", "oging", ""),
    (r"(?:lic|def|off|pret)en", "c", "s", r"e(?:s|less)?"),
    (_DOUBLE_L, "ll", "l", r"(?:ed|ing|er|ers|or|ors|ous|ist|ists)"),
    (r"(?:enro|fulfi|insti|disti|appa)", "l", "ll", r"(?:|s|ment|ments)"),
    (r"insta", "l", "ll", r"ments?"),
    (r"(?:ski|wi)", "l", "ll", r"ful(?:ly|ness)?"),
    (_ANY, "orthopaed", "orthoped", ".*"),
    (_ANY, "encyclopaed", "encycloped", ".*"),
    ("", "paediatr", "pediatr", ".*"),
    ("", "paedophil", "pedophil", ".*"),
    ("", "haem", "hem", "[ao].*"),  # haemorrhage, haematology; not hemisphere
    (_AEMIA, "aemi", "emi", "(?:a|as|c)"),  # anaemia, leukaemic, hypoglycaemia; not academia
    (_ANY, "anaesth", "anesth", ".*"),
    ("", "aetiolog", "etiolog", ".*"),
    (_ANY, "gynaec", "gynec", ".*"),
    ("", "oestr", "estr", "(?:og|adiol|us|ous).*"),  # oestrogen; not estrange
    (_ANY, "oesophag", "esophag", ".*"),
    ("(?:lymph|myx)?", "oedem", "edem", ".*"),
    (_ANY, "rrhoea", "rrhea", ".*"),  # diarrhoea, gonorrhoea
    ("", "foet", "fet", "(?:us|uses|al|icide)"),  # not fetch
    ("", "coeliac", "celiac", ".*"),
    (_ANY, "pnoea", "pnea", ".*"),  # apnoea, dyspnoea
    (_ANY, "caesar", "cesar", "(?:ean|ian).*"),
    ("", "faec", "fec", "(?:es|al)"),  # not fecund
    (_ANY, "amoeb", "ameb", ".*"),
    (_ANY, "homoeo", "homeo", ".*"),
]
WORD_PAIRS = [
    ("programme", "program"), ("programmes", "programs"), ("grey", "gray"), ("greys", "grays"),
    ("greyish", "grayish"), ("greying", "graying"), ("greyed", "grayed"), ("greyer", "grayer"),
    ("ageing", "aging"), ("judgement", "judgment"), ("judgements", "judgments"),
    ("judgemental", "judgmental"), ("mould", "mold"), ("moulds", "molds"), ("mouldy", "moldy"),
    ("moulded", "molded"), ("moulding", "molding"), ("smoulder", "smolder"),
    ("smouldering", "smoldering"), ("smouldered", "smoldered"), ("plough", "plow"),
    ("ploughs", "plows"), ("ploughed", "plowed"), ("ploughing", "plowing"), ("tyre", "tire"),
    ("tyres", "tires"), ("kerb", "curb"), ("kerbs", "curbs"), ("cheque", "check"),
    ("cheques", "checks"), ("sceptic", "skeptic"), ("sceptics", "skeptics"),
    ("sceptical", "skeptical"), ("sceptically", "skeptically"), ("scepticism", "skepticism"),
    ("practise", "practice"), ("practises", "practices"), ("practised", "practiced"),
    ("practising", "practicing"), ("manoeuvre", "maneuver"), ("manoeuvres", "maneuvers"),
    ("manoeuvred", "maneuvered"), ("manoeuvring", "maneuvering"), ("manoeuvrable", "maneuverable"),
    ("jewellery", "jewelry"), ("artefact", "artifact"), ("artefacts", "artifacts"),
    ("aluminium", "aluminum"), ("sulphur", "sulfur"), ("moustache", "mustache"),
    ("pyjamas", "pajamas"), ("cosy", "cozy"),
]


_Compiled = tuple[re.Pattern[str], str, re.Pattern[str], str]


def _compile(rules: list[tuple[str, str, str, str]]) -> list[_Compiled]:
    """Each rule as (British pattern, American slot, American pattern, British slot)."""
    return [(re.compile(f"^({before})({re.escape(british)})({after})$"), american,
             re.compile(f"^({before})({re.escape(american)})({after})$"), british)
            for before, british, american, after in rules]


_RULES = _compile(RULES)
_TO_AMERICAN = dict(WORD_PAIRS)
_TO_BRITISH = {american: british for british, american in WORD_PAIRS}


def variants(word: str) -> list[str]:
    """The other British or American spellings of one word (lower case), by rule: victimisation ->
    victimization, behaviour -> behavior, paediatric -> pediatric, center -> centre, and back."""
    return list(_variants(word.lower()))


@lru_cache(maxsize=VARIANTS_KEPT)
def _variants(word: str) -> tuple[str, ...]:
    """Kept per word: every query asks for each of its words twice (correcting, then widening),
    and the rules' regexes were a tenth of understanding a query."""
    american = _TO_AMERICAN.get(word, word)
    british = _TO_BRITISH.get(word, word)
    for british_pattern, american_slot, american_pattern, british_slot in _RULES:
        if match := british_pattern.match(american):
            american = match[1] + american_slot + match[3]
        if not british_pattern.match(british) and (match := american_pattern.match(british)):
            british = match[1] + british_slot + match[3]  # oesophagus also holds "esophag"
    return tuple(v for v in dict.fromkeys([american, british]) if v != word)
