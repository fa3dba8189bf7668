"""Use cases: the only place a transaction opens and commits (one per use case)."""
