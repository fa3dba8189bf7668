"""The HTTP API (FastAPI): schemas and routes at the edge; problem documents for errors."""
