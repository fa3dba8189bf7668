"""Persistence: SQLAlchemy Core tables, the engine, the unit of work and the outbox."""
