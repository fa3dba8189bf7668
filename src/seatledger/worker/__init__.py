"""The worker: runs due renewals and delivers the outbox."""
