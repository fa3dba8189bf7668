"""Seat products in the dashboard: the catalog, the tier editor with its live price table,
price versions and archiving (SPEC §11). Reads and writes go through the catalog services,
as ``/v1/products`` does."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from seatledger.domain.catalog import Product
from seatledger.domain.errors import NotFound
from seatledger.domain.ids import check_id
from seatledger.errors import SeatledgerError
from seatledger.services.catalog import prices as catalog_prices
from seatledger.services.catalog import products as catalog
from seatledger.web import csrf
from seatledger.web.cookies import runtime
from seatledger.web.dashboard.forms import field
from seatledger.web.dashboard.pages import DashboardRoute
from seatledger.web.dashboard.session import DashboardCaller, Merchant
from seatledger.web.dashboard.tier_form import PriceForm, form_of, invalid_fields, preview
from seatledger.web.templating import render

router = APIRouter(include_in_schema=False, route_class=DashboardRoute)
CSRF = [Depends(csrf.require)]


@router.get("/dashboard/products")
async def list_products(
    request: Request, who: DashboardCaller, cursor: str | None = None
) -> Response:
    page = await catalog.list_products(runtime(request), limit=50, cursor=_cursor(cursor))
    return await render(request, "dashboard/products.html", {"who": who, "page": page})


def _cursor(cursor: str | None) -> str | None:
    return cursor if cursor and len(cursor) <= 40 else None


async def _editor(
    request: Request,
    who: Merchant,
    form: PriceForm,
    *,
    product: Product | None = None,
    name: str = "",
    description: str = "",
    error: SeatledgerError | None = None,
    status: int = 200,
) -> Response:
    shown, invalid = preview(form)
    if error is not None:
        invalid = {**invalid, **invalid_fields(error.errors)}
    context = {
        "who": who,
        "form": form,
        "preview": shown,
        "invalid": invalid,
        "product": product,
        "name": name,
        "description": description,
        "error": error.detail if error is not None else None,
    }
    return await render(request, "dashboard/product_editor.html", context, status=status)


@router.get("/dashboard/products/new")
async def new_product(request: Request, who: DashboardCaller) -> Response:
    return await _editor(request, who, PriceForm())


@router.post("/dashboard/products/new", dependencies=CSRF)
async def create_product(request: Request, who: DashboardCaller) -> Response:
    submitted = await request.form()
    form = PriceForm.read(submitted)
    name, description = field(submitted, "name"), field(submitted, "description")
    action = field(submitted, "action")
    if action != "create":
        return await _editor(
            request, who, form.with_action(action), name=name, description=description
        )
    try:
        product = await catalog.create_product(
            runtime(request),
            name=name,
            description=description.strip() or None,
            prices=[form.mapping()],
        )
    except SeatledgerError as error:
        return await _editor(
            request, who, form, name=name, description=description, error=error, status=422
        )
    return RedirectResponse(f"/dashboard/products/{product.id}?created=1", status_code=303)


async def _product(request: Request, product_id: str) -> Product:
    return await catalog.get_product(runtime(request), check_id(product_id, "product"))


@router.get("/dashboard/products/{product_id}")
async def show_product(request: Request, product_id: str, who: DashboardCaller) -> Response:
    product = await _product(request, product_id)
    flashes = []
    if request.query_params.get("created"):
        flashes.append({"text": "The product was created."})
    if request.query_params.get("archived"):
        flashes.append({"text": "The price version was archived."})
    if request.query_params.get("added"):
        flashes.append({"text": "The new price version was added."})
    return await render(
        request, "dashboard/product.html", {"who": who, "product": product, "flashes": flashes}
    )


@router.get("/dashboard/products/{product_id}/prices/new")
async def new_version(request: Request, product_id: str, who: DashboardCaller) -> Response:
    product = await _product(request, product_id)
    return await _editor(request, who, form_of(product.prices[-1].seat_price), product=product)


@router.post("/dashboard/products/{product_id}/prices/new", dependencies=CSRF)
async def add_version(request: Request, product_id: str, who: DashboardCaller) -> Response:
    product = await _product(request, product_id)
    submitted = await request.form()
    form = PriceForm.read(submitted)
    action = field(submitted, "action")
    if action != "create":
        return await _editor(request, who, form.with_action(action), product=product)
    try:
        await catalog_prices.add_price(runtime(request), product.id, form.mapping())
    except SeatledgerError as error:
        return await _editor(request, who, form, product=product, error=error, status=422)
    return RedirectResponse(f"/dashboard/products/{product.id}?added=1", status_code=303)


@router.post("/dashboard/products/{product_id}/prices/{price_id}/archive", dependencies=CSRF)
async def archive_version(
    request: Request, product_id: str, price_id: str, who: DashboardCaller
) -> Response:
    product = await _product(request, product_id)
    if price_id not in {price.id for price in product.prices}:
        raise NotFound("price")
    await catalog_prices.archive_price(runtime(request), price_id)
    return RedirectResponse(f"/dashboard/products/{product.id}?archived=1", status_code=303)
