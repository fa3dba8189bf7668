"""The merchant's dashboard (SPEC §11): ``/dashboard``, behind a login made with ``seatledger
users create``.

Every page reads and writes through the services the API uses, as the merchant (a dashboard
user's ``Caller`` may do what a read-and-write API key may). Routers, one per noun: ``login``,
``overview`` (charts), ``products`` (the tier editor), ``companies``, ``billing``
(subscriptions, orders, invoices and their PDF), ``webhooks`` (endpoints: add, edit, delete;
their deliveries), ``delivery`` (emails, events) and
``clock`` (the sandbox's). Errors a route does not answer itself become pages
(``pages.DashboardRoute``).
"""

from __future__ import annotations

from seatledger.web.dashboard import (
    billing,
    clock,
    companies,
    delivery,
    login,
    overview,
    products,
    webhooks,
)

ROUTERS = tuple(
    module.router
    for module in (login, overview, products, companies, billing, webhooks, delivery, clock)
)

__all__ = ["ROUTERS"]
