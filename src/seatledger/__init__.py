"""seatledger: a seat-based billing engine.

Layers, innermost first (imports only ever point inward):

    pricing   pure money, tiers, periods and proration; no I/O
    domain    entities and their rules; errors with stable codes
"""

__version__ = "0.1.0"
