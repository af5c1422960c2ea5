"""Who is the same as whom, and which data came from which grant: clusters and typed edges with
their evidence, derived from the catalogue and stored back into it under `linking:` locations."""

from discovery.linking.link import LinkReport, link_catalogue

__all__ = ["LinkReport", "link_catalogue"]
