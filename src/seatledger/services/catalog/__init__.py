"""Products, their price versions, benefits and files: one module per noun.

Rules:
* a product has a name, at least one price, its benefits (in order) and its proration defaults
  (``increase``: ``invoice``, ``decrease``: ``prorate`` unless the merchant says otherwise);
* prices are versions ``1..n`` of a product: never edited (the database refuses it too), only
  archived (once: archiving again answers the first ``archived_at``) and joined by new versions;
  archived prices keep serving the subscriptions on them;
* benefits are typed (``file_download``, ``license_key``, ``access_grant``, ``custom``) and their
  properties checked per type; a ``file_download`` names a file uploaded before;
* files are stored in the database, at most 25 MiB each, with their SHA-256.

Bad input raises before anything is written. Every creation emits its event. The SQL and the
row mapping are the repository's (``seatledger.adapters.db.catalog``).
"""

from seatledger.adapters.db.catalog import load_price
from seatledger.services.catalog.benefits import create_benefit, get_benefit, list_benefits
from seatledger.services.catalog.files import MAX_FILE_SIZE, get_file, upload_file
from seatledger.services.catalog.prices import add_price, archive_price, get_price
from seatledger.services.catalog.products import create_product, get_product, list_products

__all__ = [
    "MAX_FILE_SIZE",
    "add_price",
    "archive_price",
    "create_benefit",
    "create_product",
    "get_benefit",
    "get_file",
    "get_price",
    "get_product",
    "list_benefits",
    "list_products",
    "load_price",
    "upload_file",
]
