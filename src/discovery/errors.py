"""One exception family, so every failure can be reported as file, record, reason and hint."""

from __future__ import annotations


class DiscoveryError(Exception):
    """A failure the user can act on: where it happened, what went wrong, what to do next."""

    def __init__(self, reason: str, *, file: str | None = None, record: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.file = file
        self.record = record
        self.hint = hint

    def one_line(self) -> str:
        """The single line the CLI prints: file, record, reason, hint."""
        parts = [self.file] if self.file else []  # an option's mistake names no file
        if self.record:
            parts.append(f"record {self.record}")
        parts.append(self.reason)
        line = ": ".join(parts)
        return f"{line} (hint: {self.hint})" if self.hint else line


class ParseError(DiscoveryError):
    """The bytes could not be read as the format they claim to be."""


class UnsafeInputError(ParseError):
    """The input tries something dangerous (XML entities, external references, size bombs)."""


class UnknownFormatError(ParseError):
    """No parser recognises the bytes."""


class HarvestError(DiscoveryError):
    """Fetching from a file, URL or OAI-PMH endpoint failed."""


class CatalogueError(DiscoveryError):
    """The catalogue could not be opened or written."""


class NotFoundError(DiscoveryError):
    """No record has the id or alias asked for."""
