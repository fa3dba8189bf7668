"""Scripts and styles the pages use, served by this server under ``/assets`` (never a CDN).

Vendor files come from npm's lock (``package.json``, installed into ``node_modules`` by
``make``), not from the repository: ``/assets/vendor/htmx`` (htmx's ``dist``) and
``/assets/vendor/pico`` (Pico CSS). ``SEATLEDGER_WEB_ASSETS`` names another ``node_modules``
folder (an installed package has none beside it). Without them the pages still work: they are
plain HTML forms, unstyled. The project's own files are ``/assets/app`` (``static/``).
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

PREFIX = "/assets"
_OWN = Path(__file__).with_name("static")
# src/seatledger/web/assets.py → the project root, where `npm ci` puts node_modules.
_PROJECT_MODULES = Path(__file__).resolve().parents[3] / "node_modules"
VENDOR = {
    "htmx": Path("htmx.org") / "dist",
    "pico": Path("@picocss") / "pico" / "css",
}


def node_modules() -> Path:
    configured = os.environ.get("SEATLEDGER_WEB_ASSETS")
    return Path(configured) if configured else _PROJECT_MODULES


def install(app: FastAPI) -> None:
    modules = node_modules()
    for name, folder in VENDOR.items():
        if (modules / folder).is_dir():
            app.mount(
                f"{PREFIX}/vendor/{name}",
                StaticFiles(directory=modules / folder),
                name=f"vendor-{name}",
            )
    app.mount(f"{PREFIX}/app", StaticFiles(directory=_OWN), name="app-assets")


__all__ = ["PREFIX", "install", "node_modules"]
