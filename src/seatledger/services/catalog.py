"""Products, their price versions, benefits and files.

Rules:
* a product has a name, at least one price, its benefits (in order) and its proration defaults
  (``increase``: ``invoice``, ``decrease``: ``prorate`` unless the merchant says otherwise);
* prices are versions ``1..n`` of a product: never edited (the database refuses it too), only
  archived (once: archiving again answers the first ``archived_at``) and joined by new versions;
  archived prices keep serving the subscriptions on them;
* benefits are typed (``file_download``, ``license_key``, ``access_grant``, ``custom``) and their
  properties checked per type; a ``file_download`` names a file uploaded before;
* files are stored in the database, at most 25 MiB each, with their SHA-256.

Bad input raises before anything is written. Every creation emits its event.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.catalog import (
    BENEFIT_TYPES,
    PRORATION_BEHAVIORS,
    Benefit,
    BenefitType,
    Price,
    Product,
    ProrationBehavior,
    StoredFile,
)
from seatledger.domain.errors import NotFound, ValidationFailed
from seatledger.domain.grant import (
    LICENSE_KEY_GROUP,
    LICENSE_KEY_PREFIX,
    MAX_LICENSE_KEY_LENGTH,
    MAX_LICENSE_KEY_PREFIX,
    MIN_LICENSE_KEY_LENGTH,
)
from seatledger.domain.ids import new_id
from seatledger.domain.json_value import check_json
from seatledger.domain.text import text_problem
from seatledger.pricing import InvalidPrice, SeatPrice
from seatledger.services.pages import Page, check_limit, page_of, paginate
from seatledger.services.runtime import Runtime

MAX_NAME = 200
MAX_PRODUCT_DESCRIPTION = 5000
MAX_PRICES = 50
MAX_BENEFITS_PER_PRODUCT = 50
MAX_BENEFIT_DESCRIPTION = 500
MAX_NOTE = 2000
MAX_ACCESS_KEYS = 20
MAX_FILE_SIZE = 25 * 1024 * 1024
MAX_FILE_NAME = 255
DEFAULT_PRORATION: dict[str, ProrationBehavior] = {"increase": "invoice", "decrease": "prorate"}

_CONTENT_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*(\s*;[ -~]*)?")


# -- rows to entities ---------------------------------------------------------------------------


def price_from_row(row: Any) -> Price:
    return Price(
        id=row.id,
        product_id=row.product_id,
        version=row.version,
        seat_price=SeatPrice.from_mapping(row.definition),
        archived_at=row.archived_at,
        created_at=row.created_at,
    )


async def load_price(connection: AsyncConnection, price_id: str) -> Price | None:
    """The price with this id, archived or not; None when there is none."""
    row = (await connection.execute(select(t.prices).where(t.prices.c.id == price_id))).first()
    return None if row is None else price_from_row(row)


def benefit_from_row(row: Any) -> Benefit:
    return Benefit(
        id=row.id,
        type=row.type,
        description=row.description,
        properties=dict(row.properties),
        created_at=row.created_at,
    )


def file_from_row(row: Any) -> StoredFile:
    return StoredFile(
        id=row.id,
        name=row.name,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        created_at=row.created_at,
    )


# -- event payloads (JSON) ----------------------------------------------------------------------


def price_payload(price: Price) -> dict[str, Any]:
    return {
        "id": price.id,
        "product_id": price.product_id,
        "version": price.version,
        **price.seat_price.to_mapping(),
        "archived_at": None if price.archived_at is None else price.archived_at.isoformat(),
        "created_at": price.created_at.isoformat(),
    }


def product_payload(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.name,
        "description": product.description,
        "prices": [price_payload(price) for price in product.prices],
        "benefit_ids": list(product.benefit_ids),
        "proration_defaults": {
            "increase": product.proration_increase,
            "decrease": product.proration_decrease,
        },
        "created_at": product.created_at.isoformat(),
    }


def benefit_payload(benefit: Benefit) -> dict[str, Any]:
    return {
        "id": benefit.id,
        "type": benefit.type,
        "description": benefit.description,
        "properties": benefit.properties,
        "created_at": benefit.created_at.isoformat(),
    }


# -- products -----------------------------------------------------------------------------------


async def create_product(
    rt: Runtime,
    *,
    name: str,
    description: str | None = None,
    prices: Sequence[Mapping[str, Any]],
    benefit_ids: Sequence[str] = (),
    proration_defaults: Mapping[str, Any] | None = None,
) -> Product:
    """A product with its first price versions (1..n) and its benefits, in the order given."""
    name = _text(name, "name", MAX_NAME)
    if description is not None:
        description = _text(description, "description", MAX_PRODUCT_DESCRIPTION, multiline=True)
    seat_prices = _seat_prices(prices)
    proration = _proration_defaults(proration_defaults)
    wanted = _benefit_ids(benefit_ids)
    now = rt.clock.now()
    product_id = new_id("prod")
    product = Product(
        id=product_id,
        name=name,
        description=description,
        prices=tuple(
            Price(new_id("price"), product_id, version, seat_price, None, now)
            for version, seat_price in enumerate(seat_prices, start=1)
        ),
        benefit_ids=wanted,
        proration_increase=proration["increase"],
        proration_decrease=proration["decrease"],
        created_at=now,
    )
    async with rt.transaction() as uow:
        connection = uow.connection
        if wanted:
            query = select(t.benefits.c.id).where(t.benefits.c.id.in_(wanted))
            found = set((await connection.execute(query)).scalars())
            for i, benefit_id in enumerate(wanted):
                if benefit_id not in found:
                    raise NotFound("benefit", field=f"benefit_ids[{i}]")
        await connection.execute(
            insert(t.products).values(
                id=product.id,
                name=product.name,
                description=product.description,
                proration_increase=product.proration_increase,
                proration_decrease=product.proration_decrease,
                created_at=now,
            )
        )
        await connection.execute(insert(t.prices), [_price_row(price) for price in product.prices])
        if wanted:
            await connection.execute(
                insert(t.product_benefits),
                [
                    {"product_id": product.id, "benefit_id": benefit_id, "position": position}
                    for position, benefit_id in enumerate(wanted)
                ],
            )
        uow.emit("product.created", product_payload(product))
        await uow.commit()
    return product


async def get_product(rt: Runtime, product_id: str) -> Product:
    async with rt.reading() as uow:
        products = await _load_products(uow.connection, [product_id])
    if not products:
        raise NotFound("product")
    return products[0]


async def list_products(
    rt: Runtime, *, limit: int | None = None, cursor: str | None = None
) -> Page[Product]:
    """Products oldest first, each with every price version (archived ones included)."""
    size = check_limit(limit)
    async with rt.reading() as uow:
        query = paginate(select(t.products.c.id), t.products.c.id, cursor, size)
        ids = list((await uow.connection.execute(query)).scalars())
        products = await _load_products(uow.connection, ids)
    return page_of(products, ids, size)


async def _load_products(connection: AsyncConnection, ids: Sequence[str]) -> list[Product]:
    """The products with these ids, in that order (missing ones left out): three queries."""
    if not ids:
        return []
    rows = (await connection.execute(select(t.products).where(t.products.c.id.in_(ids)))).all()
    price_rows = (
        await connection.execute(
            select(t.prices)
            .where(t.prices.c.product_id.in_(ids))
            .order_by(t.prices.c.product_id, t.prices.c.version)
        )
    ).all()
    benefit_rows = (
        await connection.execute(
            select(t.product_benefits)
            .where(t.product_benefits.c.product_id.in_(ids))
            .order_by(t.product_benefits.c.product_id, t.product_benefits.c.position)
        )
    ).all()
    prices: dict[str, list[Price]] = {}
    for row in price_rows:
        prices.setdefault(row.product_id, []).append(price_from_row(row))
    benefits: dict[str, list[str]] = {}
    for row in benefit_rows:
        benefits.setdefault(row.product_id, []).append(row.benefit_id)
    by_id = {
        row.id: Product(
            id=row.id,
            name=row.name,
            description=row.description,
            prices=tuple(prices.get(row.id, ())),
            benefit_ids=tuple(benefits.get(row.id, ())),
            proration_increase=row.proration_increase,
            proration_decrease=row.proration_decrease,
            created_at=row.created_at,
        )
        for row in rows
    }
    return [by_id[product_id] for product_id in ids if product_id in by_id]


# -- prices -------------------------------------------------------------------------------------


async def add_price(rt: Runtime, product_id: str, price: Mapping[str, Any]) -> Price:
    """A new price version of the product: the highest version so far, plus one."""
    seat_price = SeatPrice.from_mapping(price)
    now = rt.clock.now()
    async with rt.transaction() as uow:
        # Lock the product row first, then read the highest version in a statement of its own
        # (on PostgreSQL a statement sees the rows committed before it began): two versions
        # added at once get distinct numbers.
        query = select(t.products.c.id).where(t.products.c.id == product_id).with_for_update()
        if (await uow.connection.execute(query)).first() is None:
            raise NotFound("product")
        latest = select(func.max(t.prices.c.version)).where(t.prices.c.product_id == product_id)
        version = ((await uow.connection.execute(latest)).scalar_one() or 0) + 1
        added = Price(new_id("price"), product_id, version, seat_price, None, now)
        await uow.connection.execute(insert(t.prices).values(_price_row(added)))
        uow.emit("price.created", price_payload(added))
        await uow.commit()
    return added


async def get_price(rt: Runtime, price_id: str) -> Price:
    async with rt.reading() as uow:
        price = await load_price(uow.connection, price_id)
    if price is None:
        raise NotFound("price")
    return price


async def archive_price(rt: Runtime, price_id: str) -> Price:
    """Archive a price: no new purchases on it; existing ones keep it. Archiving again answers
    the price as first archived and emits nothing."""
    async with rt.transaction() as uow:
        row = (
            await uow.connection.execute(
                update(t.prices)
                .where(t.prices.c.id == price_id, t.prices.c.archived_at.is_(None))
                .values(archived_at=rt.clock.now())
                .returning(*t.prices.c)
            )
        ).first()
        if row is None:
            price = await load_price(uow.connection, price_id)
            if price is None:
                raise NotFound("price")
            return price
        price = price_from_row(row)
        uow.emit("price.archived", price_payload(price))
        await uow.commit()
    return price


def _price_row(price: Price) -> dict[str, Any]:
    definition = price.seat_price.to_mapping()
    return {
        "id": price.id,
        "product_id": price.product_id,
        "version": price.version,
        "currency": definition["currency"],
        "interval": definition["interval"],
        "seat_sync": definition["seat_sync"],
        "definition": definition,
        "archived_at": price.archived_at,
        "created_at": price.created_at,
    }


# -- benefits -----------------------------------------------------------------------------------


async def create_benefit(
    rt: Runtime,
    *,
    type: str,
    description: str,
    properties: Mapping[str, Any] | None = None,
) -> Benefit:
    """A benefit, its properties checked for its type (see ``_benefit_properties``)."""
    if not isinstance(type, str) or type not in BENEFIT_TYPES:
        raise ValidationFailed.field("type", f"must be one of {', '.join(BENEFIT_TYPES)}")
    description = _text(description, "description", MAX_BENEFIT_DESCRIPTION, multiline=True)
    checked = _benefit_properties(type, {} if properties is None else properties)
    now = rt.clock.now()
    benefit = Benefit(new_id("ben"), cast(BenefitType, type), description, checked, now)
    async with rt.transaction() as uow:
        if type == "file_download":
            query = select(t.files.c.id).where(t.files.c.id == checked["file_id"])
            if (await uow.connection.execute(query)).first() is None:
                raise NotFound("file", field="properties.file_id")
        await uow.connection.execute(
            insert(t.benefits).values(
                id=benefit.id,
                type=benefit.type,
                description=benefit.description,
                properties=benefit.properties,
                created_at=now,
            )
        )
        uow.emit("benefit.created", benefit_payload(benefit))
        await uow.commit()
    return benefit


async def get_benefit(rt: Runtime, benefit_id: str) -> Benefit:
    async with rt.reading() as uow:
        query = select(t.benefits).where(t.benefits.c.id == benefit_id)
        row = (await uow.connection.execute(query)).first()
    if row is None:
        raise NotFound("benefit")
    return benefit_from_row(row)


async def list_benefits(
    rt: Runtime, *, limit: int | None = None, cursor: str | None = None
) -> Page[Benefit]:
    """Benefits, oldest first."""
    size = check_limit(limit)
    async with rt.reading() as uow:
        query = paginate(select(t.benefits), t.benefits.c.id, cursor, size)
        rows = (await uow.connection.execute(query)).all()
    return page_of([benefit_from_row(row) for row in rows], [row.id for row in rows], size)


def _benefit_properties(benefit_type: str, properties: object) -> dict[str, Any]:
    """Properties by type:

    * ``file_download``: ``{file_id}`` (an uploaded file; checked against the database later);
    * ``license_key``: ``{prefix?, length?}``: a prefix of 1–20 letters, digits and inner dashes;
      ``length`` random characters (a multiple of 4, 12–32, default 16), in groups of four;
    * ``access_grant``: any JSON object of at most 20 keys, 32 levels and 16 KiB (the bounds of
      ``domain.json_value``), handed to the merchant;
    * ``custom``: ``{note}``: 1–2000 characters shown to the holder.
    """
    if not isinstance(properties, Mapping):
        raise ValidationFailed.field("properties", "must be an object")
    if benefit_type == "access_grant":
        return _access_properties(properties)
    allowed = {
        "file_download": ("file_id",),
        "license_key": ("prefix", "length"),
        "custom": ("note",),
    }[benefit_type]
    for key in properties:
        if key not in allowed:
            raise ValidationFailed.field(
                f"properties.{key}", f"is not a property of a {benefit_type} benefit"
            )
    if benefit_type == "file_download":
        file_id = properties.get("file_id")
        if file_id is None:
            raise ValidationFailed.field("properties.file_id", "is required")
        if not isinstance(file_id, str):
            raise NotFound("file", field="properties.file_id")
        return {"file_id": file_id}
    if benefit_type == "custom":
        return {"note": _text(properties.get("note"), "properties.note", MAX_NOTE, multiline=True)}
    return _license_key_properties(properties)


def _license_key_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    if (prefix := properties.get("prefix")) is not None:
        if not isinstance(prefix, str) or not LICENSE_KEY_PREFIX.fullmatch(prefix):
            raise ValidationFailed.field(
                "properties.prefix",
                f"must be 1 to {MAX_LICENSE_KEY_PREFIX} letters, digits or inner dashes",
            )
        checked["prefix"] = prefix
    if (length := properties.get("length")) is not None:
        if (
            not isinstance(length, int)
            or isinstance(length, bool)
            or not MIN_LICENSE_KEY_LENGTH <= length <= MAX_LICENSE_KEY_LENGTH
            or length % LICENSE_KEY_GROUP
        ):
            raise ValidationFailed.field(
                "properties.length",
                f"must be a multiple of {LICENSE_KEY_GROUP} from {MIN_LICENSE_KEY_LENGTH} "
                f"to {MAX_LICENSE_KEY_LENGTH}",
            )
        checked["length"] = length
    return checked


def _access_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    if len(properties) > MAX_ACCESS_KEYS:
        raise ValidationFailed.field("properties", f"must have at most {MAX_ACCESS_KEYS} keys")
    for key in properties:
        if not isinstance(key, str) or not key:
            raise ValidationFailed.field("properties", "keys must be non-empty strings")
    copied = dict(properties)
    check_json(copied, "properties")  # depth, size, plain JSON (domain.json_value)
    checked: dict[str, Any] = json.loads(json.dumps(copied))  # a deep copy, in plain JSON types
    return checked


# -- files --------------------------------------------------------------------------------------


async def upload_file(rt: Runtime, *, name: str, content_type: str, content: bytes) -> StoredFile:
    """Store a file (at most 25 MiB) for ``file_download`` benefits."""
    if (
        not isinstance(name, str)
        or not name.strip()
        or len(name) > MAX_FILE_NAME
        or any(ch in name for ch in "/\\")
        or not name.isprintable()
    ):
        raise ValidationFailed.field(
            "name", f"must be a file name of 1 to {MAX_FILE_NAME} printable characters"
        )
    if not isinstance(content_type, str) or not content_type:
        content_type = "application/octet-stream"
    elif len(content_type) > 255 or not _CONTENT_TYPE.fullmatch(content_type):
        raise ValidationFailed.field("content_type", "must be a media type such as text/plain")
    if not isinstance(content, bytes | bytearray | memoryview):
        raise ValidationFailed.field("file", "must be the file's bytes")
    content = bytes(content)
    if len(content) > MAX_FILE_SIZE:
        raise ValidationFailed.field("file", f"must be at most {MAX_FILE_SIZE // 2**20} MiB")
    now = rt.clock.now()
    stored = StoredFile(
        id=new_id("file"),
        name=name,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        created_at=now,
    )
    async with rt.transaction() as uow:
        await uow.connection.execute(
            insert(t.files).values(
                id=stored.id,
                name=stored.name,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
                content=content,
                created_at=now,
            )
        )
        uow.emit(
            "file.created",
            {
                "id": stored.id,
                "name": stored.name,
                "content_type": stored.content_type,
                "size": stored.size,
                "sha256": stored.sha256,
                "created_at": now.isoformat(),
            },
        )
        await uow.commit()
    return stored


async def get_file(rt: Runtime, file_id: str) -> StoredFile:
    """A stored file's description (not its content: that goes through signed links)."""
    columns = [c for c in t.files.c if c.name != "content"]
    async with rt.reading() as uow:
        row = (
            await uow.connection.execute(select(*columns).where(t.files.c.id == file_id))
        ).first()
    if row is None:
        raise NotFound("file")
    return file_from_row(row)


# -- input checks -------------------------------------------------------------------------------


def _text(value: object, field: str, maximum: int, *, multiline: bool = False) -> str:
    """Text people read: required, at most ``maximum`` characters, without control or formatting
    characters (line breaks only where ``multiline``)."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed.field(field, "is required")
    if len(value) > maximum:
        raise ValidationFailed.field(field, f"must be at most {maximum} characters")
    if (problem := text_problem(value, multiline=multiline)) is not None:
        raise ValidationFailed.field(field, problem)
    return value


def _seat_prices(prices: object) -> list[SeatPrice]:
    """Every price checked; all their problems reported together, each naming its field."""
    if not isinstance(prices, Sequence) or isinstance(prices, str | bytes):
        raise ValidationFailed.field("prices", "must be a list of prices")
    if not prices:
        raise ValidationFailed.field("prices", "must hold at least one price")
    if len(prices) > MAX_PRICES:
        raise ValidationFailed.field("prices", f"must hold at most {MAX_PRICES} prices")
    checked: list[SeatPrice] = []
    problems: list[tuple[str, str]] = []
    for i, data in enumerate(prices):
        try:
            checked.append(SeatPrice.from_mapping(data, prefix=f"prices[{i}]."))
        except InvalidPrice as error:
            problems += error.errors
    if problems:
        raise InvalidPrice(problems)
    return checked


def _proration_defaults(defaults: object) -> dict[str, ProrationBehavior]:
    checked = dict(DEFAULT_PRORATION)
    if defaults is None:
        return checked
    if not isinstance(defaults, Mapping):
        raise ValidationFailed.field("proration_defaults", "must be an object")
    for key, value in defaults.items():
        field = f"proration_defaults.{key}"
        if key not in DEFAULT_PRORATION:
            raise ValidationFailed.field(field, "must be 'increase' or 'decrease'")
        if value not in PRORATION_BEHAVIORS:
            raise ValidationFailed.field(field, f"must be one of {', '.join(PRORATION_BEHAVIORS)}")
        checked[key] = cast(ProrationBehavior, value)
    return checked


def _benefit_ids(benefit_ids: object) -> tuple[str, ...]:
    if benefit_ids is None:
        return ()
    if not isinstance(benefit_ids, Sequence) or isinstance(benefit_ids, str | bytes):
        raise ValidationFailed.field("benefit_ids", "must be a list of benefit ids")
    if len(benefit_ids) > MAX_BENEFITS_PER_PRODUCT:
        raise ValidationFailed.field(
            "benefit_ids", f"must hold at most {MAX_BENEFITS_PER_PRODUCT} benefits"
        )
    seen: set[str] = set()
    for i, benefit_id in enumerate(benefit_ids):
        if not isinstance(benefit_id, str):
            raise NotFound("benefit", field=f"benefit_ids[{i}]")
        if benefit_id in seen:
            raise ValidationFailed.field(f"benefit_ids[{i}]", "is listed twice")
        seen.add(benefit_id)
    return tuple(benefit_ids)
