"""/openapi.json describes every route of SPEC §6, its bodies and its error answers."""

from __future__ import annotations

import re

import httpx

# Every route and its operationId: short and stable, so generated clients read well.
OPERATIONS = {
    # SPEC §8's probes, outside /v1.
    ("GET", "/healthz"): "check_health",
    ("GET", "/readyz"): "check_readiness",
    # Beyond SPEC §6's table: reading one checkout and one seat.
    ("GET", "/v1/checkouts/{checkout_id}"): "get_checkout",
    ("GET", "/v1/seats/{seat_id}"): "get_seat",
    ("POST", "/v1/products"): "create_product",
    ("GET", "/v1/products"): "list_products",
    ("GET", "/v1/products/{product_id}"): "get_product",
    ("POST", "/v1/products/{product_id}/prices"): "add_price",
    ("POST", "/v1/prices/{price_id}/archive"): "archive_price",
    ("POST", "/v1/stripe/webhooks"): "receive_stripe_event",
    ("POST", "/checkout/{checkout_id}/stripe"): "open_stripe_checkout",
    ("POST", "/v1/benefits"): "create_benefit",
    ("GET", "/v1/benefits"): "list_benefits",
    ("GET", "/v1/benefits/{benefit_id}"): "get_benefit",
    ("POST", "/v1/files"): "upload_file",
    ("GET", "/v1/files/{file_id}/download"): "download_file",
    ("POST", "/v1/companies"): "create_company",
    ("GET", "/v1/companies"): "list_companies",
    ("GET", "/v1/companies/{company_id}"): "get_company",
    ("PATCH", "/v1/companies/{company_id}"): "update_company",
    ("GET", "/v1/companies/{company_id}/members"): "list_members",
    ("POST", "/v1/companies/{company_id}/members"): "add_member",
    ("DELETE", "/v1/companies/{company_id}/members/{member_id}"): "remove_member",
    ("GET", "/v1/companies/{company_id}/entitlements"): "get_company_entitlements",
    ("GET", "/v1/companies/{company_id}/seat-alerts"): "list_seat_alerts",
    ("PUT", "/v1/companies/{company_id}/seat-alerts"): "set_seat_alerts",
    ("GET", "/v1/companies/{company_id}/balance"): "get_company_balance",
    ("POST", "/v1/checkouts"): "create_checkout",
    ("GET", "/v1/checkouts"): "list_checkouts",
    ("PATCH", "/v1/checkouts/{checkout_id}"): "update_checkout",
    ("POST", "/v1/checkouts/{checkout_id}/confirm"): "confirm_checkout",
    ("GET", "/v1/subscriptions/{subscription_id}"): "get_subscription",
    ("GET", "/v1/subscriptions"): "list_subscriptions",
    ("PATCH", "/v1/subscriptions/{subscription_id}"): "change_subscription",
    ("POST", "/v1/subscriptions/{subscription_id}/preview"): "preview_subscription_change",
    ("POST", "/v1/subscriptions/{subscription_id}/cancel"): "cancel_subscription",
    ("POST", "/v1/subscriptions/{subscription_id}/attach"): "attach_subscription",
    ("GET", "/v1/orders/{order_id}"): "get_order",
    ("GET", "/v1/orders"): "list_orders",
    ("POST", "/v1/orders/{order_id}/attach"): "attach_order",
    ("POST", "/v1/seats"): "assign_seat",
    ("GET", "/v1/seats"): "list_seats",
    ("DELETE", "/v1/seats/{seat_id}"): "revoke_seat",
    ("POST", "/v1/seats/{seat_id}/resend"): "resend_invitation",
    ("POST", "/v1/seats/{seat_id}/transfer"): "transfer_seat",
    ("PUT", "/v1/subscriptions/{subscription_id}/holders"): "set_subscription_holders",
    ("PUT", "/v1/orders/{order_id}/holders"): "set_order_holders",
    ("GET", "/v1/claims/{token}"): "lookup_claim",
    ("POST", "/v1/claims/{token}"): "claim_seat",
    ("GET", "/v1/invoices"): "list_invoices",
    ("GET", "/v1/subscriptions/{subscription_id}/invoices"): "list_subscription_invoices",
    ("GET", "/v1/invoices/{invoice_id}"): "get_invoice",
    ("GET", "/v1/invoices/{invoice_id}/pdf"): "get_invoice_pdf",
    ("POST", "/v1/invoices/{invoice_id}/pay"): "pay_invoice",
    ("GET", "/v1/members/{member_id}/entitlements"): "get_member_entitlements",
    ("POST", "/v1/customer-sessions"): "create_customer_session",
    ("POST", "/v1/webhook-endpoints"): "create_webhook_endpoint",
    ("GET", "/v1/webhook-endpoints"): "list_webhook_endpoints",
    ("GET", "/v1/emails"): "list_emails",
    ("GET", "/v1/emails/{email_id}"): "get_email",
    ("GET", "/v1/webhook-endpoints/{endpoint_id}"): "get_webhook_endpoint",
    ("PATCH", "/v1/webhook-endpoints/{endpoint_id}"): "update_webhook_endpoint",
    ("DELETE", "/v1/webhook-endpoints/{endpoint_id}"): "delete_webhook_endpoint",
    ("POST", "/v1/webhook-endpoints/{endpoint_id}/rotate-secret"): "rotate_webhook_secret",
    ("GET", "/v1/webhook-endpoints/{endpoint_id}/deliveries"): "list_webhook_deliveries",
    (
        "POST",
        "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry",
    ): "retry_webhook_delivery",
    ("GET", "/v1/events"): "list_events",
    ("GET", "/v1/events/{event_id}"): "get_event",
    ("GET", "/v1/sandbox/clock"): "get_sandbox_clock",
    ("POST", "/v1/sandbox/clock"): "advance_sandbox_clock",
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
    assert {route: op["operationId"] for route, op in operations.items()} == OPERATIONS
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    problem_schema = schema["components"]["schemas"]["Problem"]
    assert set(problem_schema["required"]) == {"type", "title", "status", "detail", "code"}
    for (method, path), operation in operations.items():
        answers = operation["responses"]
        success = {"POST": "201" if path in CREATES else "200", "DELETE": "200"}.get(method, "200")
        if (method, path) in (
            ("DELETE", "/v1/companies/{company_id}/members/{member_id}"),
            ("DELETE", "/v1/webhook-endpoints/{endpoint_id}"),
        ):
            success = "204"
        if (method, path) == ("POST", "/checkout/{checkout_id}/stripe"):
            success = "303"  # on to Stripe's hosted page
        assert success in answers, (method, path, list(answers))
        errors = [status for status in answers if status.startswith(("4", "5"))]
        assert errors or path == "/healthz", (method, path)
        for status in errors:
            content = answers[status]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
        public = not path.startswith("/v1/") or path.startswith(
            ("/v1/claims/", "/v1/files/{file_id}/download", "/v1/stripe/webhooks")
        )
        assert bool(operation.get("security")) != public, (method, path)
        if not public:
            assert "401" in answers, (method, path)
        if method in ("POST", "PUT"):
            headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            assert headers == ["Idempotency-Key"], (method, path)
        if method in ("POST", "PUT", "PATCH") and "requestBody" in operation:
            assert {"400", "422"} <= set(answers), (method, path)


async def test_operation_ids_are_unique_short_snake_case_names(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    ids = [
        operation["operationId"] for item in schema["paths"].values() for operation in item.values()
    ]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", operation_id), operation_id
        assert len(operation_id) <= 30, operation_id
        assert not {"v1", "get", "post", "patch", "delete"} & set(operation_id.split("_")[1:])


async def test_every_answer_has_a_schema(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status, answer in operation["responses"].items():
                if status in ("204", "303"):
                    assert "content" not in answer, (method, path)
                    continue
                assert answer.get("content"), (method, path, status)
                for media_type, content in answer["content"].items():
                    assert content.get("schema"), (method, path, status, media_type)


async def test_grants_are_typed_per_benefit_type(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    components = schema["components"]["schemas"]
    grants = components["ClaimOut"]["properties"]["grants"]["items"]
    mapping = grants["discriminator"]["mapping"]
    assert grants["discriminator"]["propertyName"] == "type"
    assert set(mapping) == {"file_download", "license_key", "access_grant", "custom"}
    held = components["HeldProductOut"]["properties"]["benefits"]["items"]
    assert held == grants

    def properties_of(kind: str) -> dict[str, object]:
        grant = components[mapping[kind].rsplit("/", 1)[-1]]
        assert grant["properties"]["type"]["const"] == kind
        reference = grant["properties"]["properties"].get("$ref")
        return {} if reference is None else components[reference.rsplit("/", 1)[-1]]

    assert properties_of("license_key")["required"] == ["license_key"]
    assert properties_of("custom")["required"] == ["note"]
    assert {"file_id", "name", "download_url", "download_expires_at"} <= set(
        properties_of("file_download")["properties"]  # type: ignore[arg-type]
    )
    assert properties_of("access_grant") == {}  # the merchant's own object


async def test_an_upload_and_a_download_are_described_as_binary(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    answer = schema["paths"]["/v1/files/{file_id}/download"]["get"]["responses"]["200"]
    assert answer["content"] == {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
    }
    body = schema["paths"]["/v1/files"]["post"]["requestBody"]["content"]["multipart/form-data"]
    form = schema["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert form["properties"]["file"]["format"] == "binary"
