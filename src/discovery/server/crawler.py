"""A link checker for the whole site, run against a live server: from `/`, every internal link a
page offers (and every address the sitemap lists) is fetched once and must lead somewhere.

A link fails when its answer is an error status (404, 500...), when it opens JSON (JSON belongs
under /api and to clients that ask for it; a download the page marks as one is a file, not a
page), or when it is a search that finds nothing. Each problem names the first page that linked
to it. Only `<a href>` links are followed: forms are actions a person takes with input of their
own ("which studies measured this?" rescores candidates under a rate limit), not addresses.

A search offers a next page on every page, so a search's pages beyond the first `search_pages`
are fetched and checked but not read for more links; every record's page is still reached, from
the sitemap if from nowhere else.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

import httpx
from lxml import etree, html

JSON_TYPES = ("application/json", "application/ld+json", "application/problem+json")
SEARCH_PATH = "/"


@dataclass
class Problem:
    url: str
    reason: str
    linked_from: str


@dataclass
class CrawlReport:
    pages: int = 0  # HTML pages (and sitemaps) read for links
    fetched: int = 0  # distinct addresses fetched
    links: int = 0  # internal links checked, counting each time a page offers one
    external: int = 0  # links to other sites, not fetched
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    by_section: Counter[str] = field(default_factory=Counter)  # fetched, by first path segment

    def summary(self) -> str:
        sections = ", ".join(f"{name} {count}" for name, count in self.by_section.most_common())
        return (f"{self.fetched} addresses fetched ({sections}); {self.pages} pages read; "
                f"{self.links} internal links checked, {self.external} external not followed; "
                f"{len(self.problems)} problems; {self.seconds:.0f} s")


@dataclass
class _Target:
    url: str
    linked_from: str
    download: bool  # the link says it is a file to save (`<a download>`)
    search_page: int  # how many pages deep into one search this is (0: not a search page)


@dataclass
class _Answer:
    target: _Target
    url: str  # where the answer came from, after redirects (a record's alias -> its page)
    status: int
    media_type: str
    attachment: bool
    body: bytes
    error: str | None = None


def section(url: str) -> str:
    """The first path segment, for counting what was visited: `/items/x` -> "items"."""
    path = urlsplit(url).path.strip("/")
    return path.split("/", 1)[0] or "(search)"


def _search_depth(url: str, parent_depth: int) -> int:
    parts = urlsplit(url)
    if parts.path != SEARCH_PATH:
        return 0
    paged = any(name == "cursor" for name, _ in parse_qsl(parts.query))
    return parent_depth + 1 if paged else 1


def links_of(answer: _Answer) -> Iterable[tuple[str, bool]]:
    """(absolute URL without its fragment, marked as a download) of each link in the body."""
    if answer.media_type in ("application/xml", "text/xml"):
        tree = etree.fromstring(answer.body, parser=etree.XMLParser(resolve_entities=False,
                                                                     no_network=True))
        for loc in tree.iter("{*}loc"):
            if loc.text:
                yield urldefrag(loc.text.strip())[0], False
        return
    for anchor in html.fromstring(answer.body).iter("a"):
        href = anchor.get("href")
        if href is not None:
            yield urldefrag(urljoin(answer.url, href.strip()))[0], anchor.get("download") is not None


def _fetch(client: httpx.Client, target: _Target) -> _Answer:
    try:
        response = client.get(target.url)
    except httpx.HTTPError as error:
        return _Answer(target, target.url, 0, "", False, b"", error=f"no answer: {error}")
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    attachment = response.headers.get("content-disposition", "").lower().startswith("attachment")
    readable = media_type in ("text/html", "application/xml", "text/xml")
    return _Answer(target, str(response.url), response.status_code, media_type, attachment,
                   response.content if readable else b"")


def _problem(answer: _Answer, start: str) -> str | None:
    """Why this answer is a dead end for the person who followed the link, or None."""
    if answer.error:
        return answer.error
    if answer.status >= 400:
        return f"HTTP {answer.status}"
    if answer.media_type in JSON_TYPES or answer.media_type.endswith("+json"):
        if not (answer.target.download and answer.attachment):
            return f"opens JSON ({answer.media_type})"
    if answer.media_type == "text/html" and answer.target.url != start \
            and urlsplit(answer.target.url).path == SEARCH_PATH:
        results = html.fromstring(answer.body).find_class("results")
        if results and results[0].get("data-total") == "0":
            return "leads to 0 results"
    return None


def crawl(base: str, *, start: str = "/", search_pages: int = 2, workers: int = 4,
          max_fetches: int | None = None, timeout: float = 120.0,
          progress: Callable[[CrawlReport], None] | None = None,
          read: Callable[[str, bytes], None] | None = None) -> CrawlReport:
    """Check every internal link reachable from `start` on the site at `base` (no trailing
    slash). `max_fetches` bounds the run (None: the whole site). `read` is handed the address and
    body of each page read for links (the count checker reads the counts on them)."""
    started = time.monotonic()
    origin = urlsplit(base)
    start_url = urljoin(base + "/", start.lstrip("/"))
    report = CrawlReport()
    seen = {start_url}
    queue = deque([_Target(start_url, "(start)", False, _search_depth(start_url, 0))])
    with httpx.Client(timeout=timeout, follow_redirects=True,
                      headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}) as client, \
            ThreadPoolExecutor(max_workers=workers) as pool:
        while queue and (max_fetches is None or report.fetched < max_fetches):
            room = len(queue) if max_fetches is None else min(len(queue), max_fetches - report.fetched)
            batch = [queue.popleft() for _ in range(min(room, workers * 8))]
            for answer in pool.map(lambda target: _fetch(client, target), batch):
                report.fetched += 1
                report.by_section[section(answer.target.url)] += 1
                reason = _problem(answer, start_url)
                if reason:
                    report.problems.append(Problem(answer.target.url, reason, answer.target.linked_from))
                    continue
                if not answer.body or answer.target.search_page > search_pages:
                    continue
                report.pages += 1
                if read:
                    read(answer.url, answer.body)
                for url, download in links_of(answer):
                    parts = urlsplit(url)
                    if parts.scheme not in ("http", "https") or parts.netloc != origin.netloc:
                        report.external += 1
                        continue
                    report.links += 1
                    if url not in seen:
                        seen.add(url)
                        queue.append(_Target(url, answer.target.url, download,
                                             _search_depth(url, answer.target.search_page)))
            if progress:
                report.seconds = time.monotonic() - started
                progress(report)
    report.seconds = time.monotonic() - started
    return report
