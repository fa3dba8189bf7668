"""Emails rendered from Jinja2 templates: ``<kind>.subject.txt``, ``<kind>.txt`` and
``<kind>.html`` in ``templates/`` beside this module.

A merchant overrides any of them with a file of the same name in the folder named by
``SEATLEDGER_EMAIL_TEMPLATES``; a file it lacks falls back to the built-in one, and so does one
that does not render (a syntax error must not keep an email from being written). HTML is
autoescaped; text and subjects are not, and a subject is folded onto one line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, TemplateError, select_autoescape

BUILT_IN = Path(__file__).parent / "templates"
log = logging.getLogger("seatledger.emails")


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def _environment(*folders: Path) -> Environment:
    return Environment(
        loader=ChoiceLoader([FileSystemLoader(folder) for folder in folders]),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        keep_trailing_newline=True,
    )


@cache
def _environments(override: Path | None) -> tuple[Environment, ...]:
    built_in = _environment(BUILT_IN)
    return (built_in,) if override is None else (_environment(override, BUILT_IN), built_in)


def _render(name: str, context: dict[str, Any], override: Path | None) -> str:
    *chosen, built_in = _environments(override)
    for environment in chosen:
        try:
            return environment.get_template(name).render(context)
        except TemplateError as error:
            log.warning("email template %s in %s does not render: %s", name, override, error)
    return built_in.get_template(name).render(context)


def render(kind: str, context: dict[str, Any], *, override: Path | None = None) -> Rendered:
    """The subject, text and HTML of an email of ``kind`` (``invitation``, ``receipt``, …)."""
    subject = " ".join(_render(f"{kind}.subject.txt", context, override).split())
    return Rendered(
        subject=subject[:300],  # ``emails.subject`` holds this much
        text=_render(f"{kind}.txt", context, override),
        html=_render(f"{kind}.html", context, override),
    )


__all__ = ["BUILT_IN", "Rendered", "render"]
