"""Adapters: the database, payment providers and mail, each behind its own narrow seam."""
