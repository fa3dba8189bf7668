"""The buying organisation and its people. Exactly one member is the billing manager."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Role = Literal["billing_manager", "member"]


@dataclass(frozen=True, slots=True)
class Company:
    id: str
    name: str
    external_id: str | None
    billing_manager_member_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    company_id: str
    email: str  # lowercased
    name: str | None
    external_id: str | None
    role: Role
    created_at: datetime
