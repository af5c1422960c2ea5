"""The shared pipeline's own machinery: a hybrid query's retrievers side by side answer as one
after the other does, and a helper's error reaches the query."""

from __future__ import annotations

import os
import threading

import pytest

from discovery.search import pipeline
from discovery.search.local import LocalEngine
from discovery.search.models import SearchRequest
from discovery.search.pipeline import Settings, run_search

REQUESTS = [SearchRequest(q="anxiety"), SearchRequest(q="GAD-7 generalised anxiety"),
            SearchRequest(q="alcohol", filters={"language": ["en"]}, size=3),
            SearchRequest(q="income", mode="lexical"), SearchRequest(q="zzzqqq nothing")]


@pytest.fixture(scope="module")
def engine(service):
    opened = LocalEngine(service.data_dir)
    yield opened
    opened.close()


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: f"{r.q} {r.mode}")
def test_side_by_side_answers_as_one_after_the_other(engine, request_):
    apart = run_search(engine, request_, Settings(side_by_side=False)).model_dump(exclude={"took_ms"})
    beside = run_search(engine, request_, Settings(side_by_side=True)).model_dump(exclude={"took_ms"})
    assert beside == apart


def test_a_helper_runs_beside_the_caller_and_hands_back_its_error():
    seen: list[str] = []

    def failing() -> None:
        seen.append(threading.current_thread().name)
        raise ValueError("from the helper")

    result = pipeline._started(failing, beside=True)
    with pytest.raises(ValueError, match="from the helper"):
        result()
    assert seen[0].startswith("discovery-lexical")
    assert pipeline._started(lambda: 7, beside=True)() == 7


def test_with_no_helper_free_the_call_runs_in_the_callers_thread():
    free = pipeline._helper_threads().free
    taken = [free.acquire(blocking=False) for _ in range(pipeline.HELPERS)]
    try:
        assert all(taken)
        result = pipeline._started(lambda: threading.current_thread().name, beside=True)
        assert result() == threading.current_thread().name
    finally:
        for _ in taken:
            free.release()


def test_a_forked_child_makes_helpers_of_its_own():
    parent = pipeline._helper_threads()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports whether its helpers are new and answer
        try:
            ok = pipeline._helper_threads() is not parent and pipeline._started(lambda: 5, True)() == 5
            os.write(writer, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    assert os.read(reader, 1) == b"1"
    assert pipeline._helper_threads() is parent


def test_the_local_searcher_runs_its_retrievers_side_by_side(service):
    assert service.settings.side_by_side
