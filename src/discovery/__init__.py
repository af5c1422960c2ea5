"""Discovery: find and harmonise research data across catalogues."""

__version__ = "0.1.0"
