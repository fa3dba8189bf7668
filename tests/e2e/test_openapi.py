"""/openapi.json describes every route of SPEC §6, its bodies and its error answers."""

from __future__ import annotations

import httpx

SPEC_ROUTES = {
    # Beyond SPEC §6's table: reading one checkout and one seat.
    ("GET", "/v1/checkouts/{checkout_id}"),
    ("GET", "/v1/seats/{seat_id}"),
    ("POST", "/v1/products"),
    ("GET", "/v1/products"),
    ("GET", "/v1/products/{product_id}"),
    ("POST", "/v1/products/{product_id}/prices"),
    ("POST", "/v1/prices/{price_id}/archive"),
    ("POST", "/v1/benefits"),
    ("GET", "/v1/benefits/{benefit_id}"),
    ("POST", "/v1/files"),
    ("GET", "/v1/files/{file_id}/download"),
    ("POST", "/v1/companies"),
    ("GET", "/v1/companies/{company_id}"),
    ("PATCH", "/v1/companies/{company_id}"),
    ("GET", "/v1/companies/{company_id}/members"),
    ("POST", "/v1/companies/{company_id}/members"),
    ("DELETE", "/v1/companies/{company_id}/members/{member_id}"),
    ("GET", "/v1/companies/{company_id}/entitlements"),
    ("GET", "/v1/companies/{company_id}/balance"),
    ("POST", "/v1/checkouts"),
    ("PATCH", "/v1/checkouts/{checkout_id}"),
    ("POST", "/v1/checkouts/{checkout_id}/confirm"),
    ("GET", "/v1/subscriptions/{subscription_id}"),
    ("GET", "/v1/subscriptions"),
    ("PATCH", "/v1/subscriptions/{subscription_id}"),
    ("POST", "/v1/subscriptions/{subscription_id}/preview"),
    ("POST", "/v1/subscriptions/{subscription_id}/cancel"),
    ("POST", "/v1/subscriptions/{subscription_id}/attach"),
    ("GET", "/v1/orders/{order_id}"),
    ("GET", "/v1/orders"),
    ("POST", "/v1/orders/{order_id}/attach"),
    ("POST", "/v1/seats"),
    ("GET", "/v1/seats"),
    ("DELETE", "/v1/seats/{seat_id}"),
    ("POST", "/v1/seats/{seat_id}/resend"),
    ("GET", "/v1/claims/{token}"),
    ("POST", "/v1/claims/{token}"),
    ("GET", "/v1/invoices"),
    ("GET", "/v1/invoices/{invoice_id}"),
    ("POST", "/v1/invoices/{invoice_id}/pay"),
    ("GET", "/v1/members/{member_id}/entitlements"),
    ("POST", "/v1/customer-sessions"),
    ("POST", "/v1/webhook-endpoints"),
    ("GET", "/v1/sandbox/clock"),
    ("POST", "/v1/sandbox/clock"),
}
CREATES = {
    "/v1/products",
    "/v1/products/{product_id}/prices",
    "/v1/benefits",
    "/v1/files",
    "/v1/companies",
    "/v1/companies/{company_id}/members",
    "/v1/checkouts",
    "/v1/seats",
    "/v1/customer-sessions",
    "/v1/webhook-endpoints",
}


async def test_every_route_and_its_answers_are_described(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    operations = {
        (method.upper(), path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }
    assert set(operations) == SPEC_ROUTES
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    problem_schema = schema["components"]["schemas"]["Problem"]
    assert set(problem_schema["required"]) == {"type", "title", "status", "detail", "code"}
    for (method, path), operation in operations.items():
        answers = operation["responses"]
        success = {"POST": "201" if path in CREATES else "200", "DELETE": "200"}.get(method, "200")
        if (method, path) == ("DELETE", "/v1/companies/{company_id}/members/{member_id}"):
            success = "204"
        assert success in answers, (method, path, list(answers))
        errors = [status for status in answers if status.startswith(("4", "5"))]
        assert errors, (method, path)
        for status in errors:
            content = answers[status]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
        public = path.startswith(("/v1/claims/", "/v1/files/{file_id}/download"))
        assert bool(operation.get("security")) != public, (method, path)
        if not public:
            assert "401" in answers, (method, path)
        if method == "POST":
            headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            assert headers == ["Idempotency-Key"], (method, path)
        if method in ("POST", "PATCH") and "requestBody" in operation:
            assert {"400", "422"} <= set(answers), (method, path)
