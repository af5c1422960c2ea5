"""The JSON API (FastAPI) and the app factory that also mounts the web pages."""
