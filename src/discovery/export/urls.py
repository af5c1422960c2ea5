"""Links from harvested metadata, made safe to render: web, mail and DOI links only.

Metadata is hostile. A record's `url`, `sameAs` or distribution link of `javascript:alert(1)`
(or `data:`, `vbscript:`, or a scheme split by a tab, which browsers remove before reading it)
runs script in our origin when a visitor clicks it. Every URL a page or a JSON-LD block shows
from a record goes through `safe_url`; what it refuses is shown as text, never as a link.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
DOI_RESOLVER = "https://doi.org/"
DOI_NAME = re.compile(r"^10\.\d{4,9}/\S+$")


def safe_url(value: object) -> str | None:
    """The href for `value`, or None when it is not an http(s) URL with a host, a mailto address
    or a DOI (`doi:10.1234/x`, rendered as its https://doi.org/ link). Control characters are
    refused anywhere; spaces inside a web URL are percent-encoded, as a browser would send them."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or any(ord(char) < 32 or ord(char) == 127 for char in text):
        return None
    match = SCHEME.match(text)
    if not match:
        return None
    scheme, rest = match.group(1).lower(), text[match.end():]
    if scheme == "doi":
        name = rest.lstrip("/")
        return DOI_RESOLVER + quote(name, safe="/:;()._-") if DOI_NAME.match(name) else None
    if scheme == "mailto":
        return text if "@" in rest and not rest.startswith("/") else None
    if scheme in ("http", "https"):
        text = text.replace(" ", "%20")
        try:
            host = urlsplit(text).hostname
        except ValueError:  # a malformed port or IPv6 address
            return None
        return text if host else None
    return None


def reads_as_link(value: object) -> bool:
    """Whether a text would be followed as a link (a scheme and no spaces), not read as prose:
    a licence may be either "https://..." or "Open Government Licence v3.0"."""
    return isinstance(value, str) and bool(SCHEME.match(value.strip())) and not any(
        char.isspace() for char in value.strip())
