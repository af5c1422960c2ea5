"""Every count the site shows against what its link lists, run against a live server.

Pages mark what they count and what they list, so a checker needs no knowledge of any page:
- a count carries `data-count="N"` (exactly N) or `data-count-min="N"` (at least N, a total the
  search could only bound). Its list is the address of the `<a>` it is or sits in, else its own
  `data-list` address, else the facet box's `data-toggle` (the search a tick leads to);
- an address's list is every `[data-item]` element inside the element its fragment names (the
  whole page without one), over every page reached by the `<a rel="next">` links in that element.
  Each item's `data-item` value is its id: an id listed twice (on two pages) is a fault too.

A count and its list disagree when the number of distinct ids listed differs from the count (or
falls below a lower bound). The pages to read are those the link crawler reads
(`crawler.crawl`), so every page a visitor can reach by links is checked.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin

import httpx
from lxml import html

from discovery.server.crawler import CrawlReport, crawl

PAGES_PER_LIST = 1000  # a pager that never ends is reported, not followed for ever


@dataclass(frozen=True)
class Claim:
    """One count as a page shows it."""

    page: str
    text: str  # what the page says around it, e.g. "15 questions"
    count: int
    at_least: bool
    href: str  # where its list is, with the fragment that names the list's element


@dataclass
class Listing:
    url: str
    ids: list[str] = field(default_factory=list)  # in the order listed, repeats kept
    pages: int = 0
    error: str | None = None

    @property
    def distinct(self) -> int:
        return len(set(self.ids))

    def repeated(self) -> list[tuple[str, int]]:
        """Ids listed more than once, with how many times."""
        return [(rid, n) for rid, n in Counter(self.ids).items() if n > 1]


@dataclass
class Mismatch:
    claim: Claim
    listed: int
    reason: str

    def line(self) -> str:
        return (f"{self.claim.page} says {self.claim.text!r} ({self.claim.count}"
                f"{'+' if self.claim.at_least else ''}) but {self.claim.href} {self.reason}")


@dataclass
class CountReport:
    claims: list[Claim] = field(default_factory=list)  # each time a page shows a count
    crawl: CrawlReport = field(default_factory=CrawlReport)  # the crawl that found the pages
    lists: int = 0  # distinct lists followed
    list_pages: int = 0  # pages fetched to follow them
    seconds: float = 0.0
    mismatches: list[Mismatch] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.claims)} counts read on {self.crawl.pages} pages; {self.lists} lists "
                f"followed over {self.list_pages} pages; {len(self.mismatches)} mismatches; "
                f"{self.seconds:.0f} s")


def claims_of(page: str, tree: html.HtmlElement) -> Iterator[Claim]:
    """The counts a page shows, each with the address of the list it counts."""
    for element in tree.xpath("//*[@data-count or @data-count-min]"):
        exact = element.get("data-count")
        anchor = next((a for a in element.iterancestors("a")), None) if element.tag != "a" else element
        href = (anchor.get("href") if anchor is not None else None) or element.get("data-list") \
            or element.get("data-toggle")
        shown = anchor if anchor is not None else element.getparent()  # "children (1 results)"
        text = " ".join((shown if shown is not None else element).text_content().split())
        yield Claim(page, text, int(exact if exact is not None else element.get("data-count-min", "0")),
                    exact is None, urljoin(page, href) if href is not None else "")


def _read(found: Listing, url: str, tree: html.HtmlElement, fragment: str) -> str:
    """Add one page's items to `found`; the address of the list's next page ("" at its end)."""
    found.pages += 1
    scope = tree.get_element_by_id(fragment, None) if fragment else tree
    if scope is None:
        found.error = f"has no element #{fragment}" if found.pages == 1 else \
            f"page {found.pages} ({url}) has no element #{fragment}"
        return ""
    found.ids.extend(item.get("data-item") for item in scope.xpath(".//*[@data-item]"))
    following = scope.xpath(".//a[contains(concat(' ', normalize-space(@rel), ' '), ' next ')]/@href")
    return urldefrag(urljoin(url, following[0]))[0] if following else ""


def listing(client: httpx.Client, href: str) -> Listing:
    """The ids an address lists, over all its pages."""
    url, fragment = urldefrag(href)
    found = Listing(href, error=None if url else "is no address: the count names no list")
    seen: set[str] = set()
    while url and url not in seen and not found.error:
        if found.pages >= PAGES_PER_LIST:
            found.error = f"has more than {PAGES_PER_LIST} pages"
            return found
        seen.add(url)
        response = client.get(url)
        if response.status_code >= 400:
            found.error = f"answers HTTP {response.status_code}"
            return found
        url = _read(found, str(response.url), html.fromstring(response.content), fragment)
    return found


def judge(claim: Claim, found: Listing) -> Mismatch | None:
    if found.error:
        return Mismatch(claim, found.distinct, found.error)
    repeated = found.repeated()
    if repeated:
        rid, times = repeated[0]
        return Mismatch(claim, found.distinct, f"lists {rid!r} {times} times over {found.pages} "
                                               f"pages ({len(repeated)} ids listed more than once)")
    if found.distinct < claim.count or (found.distinct > claim.count and not claim.at_least):
        return Mismatch(claim, found.distinct, f"lists {found.distinct} over {found.pages} page"
                                               f"{'' if found.pages == 1 else 's'}")
    return None


def check_counts(base: str, *, start: str = "/", search_pages: int = 2, workers: int = 4,
                 timeout: float = 120.0) -> CountReport:
    """Crawl the site at `base` (as `crawler.crawl` does) and check every count on every page it
    reads against the list its link leads to, each list followed once."""
    started = time.monotonic()
    report = CountReport()
    listings: dict[str, Listing] = {}

    def read(page: str, body: bytes) -> None:
        """Read a page's counts; a list on the page itself, on one page, is counted at once."""
        if not body.lstrip().startswith((b"<!", b"<html", b"<HTML")):
            return
        tree = html.fromstring(body)
        for claim in claims_of(page, tree):
            report.claims.append(claim)
            url, fragment = urldefrag(claim.href)
            if url == page and claim.href not in listings:
                found = Listing(claim.href)
                if not _read(found, page, tree, fragment):
                    listings[claim.href] = found
    report.crawl = crawl(base, start=start, search_pages=search_pages, workers=workers,
                         timeout=timeout, read=read)
    hrefs = [href for href in dict.fromkeys(claim.href for claim in report.claims)
             if href not in listings]
    with httpx.Client(timeout=timeout, follow_redirects=True, headers={"accept": "text/html"}) \
            as client, ThreadPoolExecutor(max_workers=workers) as pool:
        listings |= dict(zip(hrefs, pool.map(lambda href: listing(client, href), hrefs), strict=True))
    report.lists = len(listings)
    report.list_pages = sum(found.pages for found in listings.values())
    report.mismatches = [m for m in (judge(claim, listings[claim.href]) for claim in report.claims)
                         if m is not None]
    report.seconds = time.monotonic() - started
    return report
