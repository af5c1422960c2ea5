"""The HTTP server: the app factory, its guards, the JSON API under /api and the HTML pages, over
one set of services, one search-request parser and one search view model."""
