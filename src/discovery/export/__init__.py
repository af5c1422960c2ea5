"""Records out of the catalogue in other shapes: citations, variable tables, JSON-LD, summaries.

The API and the pages call these; nothing here knows about HTTP.
"""
