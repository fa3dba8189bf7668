"""Operating the engine (SPEC §8): the metrics it exports and the shape of its log lines.

Both are neutral modules every layer may call (``metrics.seat_assigned()``,
``logs.configure()``): the use cases say what happened, these modules alone know Prometheus and
structlog. They import nothing of seatledger, so any layer may use them without a cycle.
"""
