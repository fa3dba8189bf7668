"""A merchant API key as the engine knows it: never the key itself, only what recognises it
(``seatledger.services.api_keys`` states the rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    prefix: str  # the first characters of the key, to recognise it
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def can_write(self) -> bool:
        return "write" in self.scopes
