"""Log lines (SPEC §8): JSON, one object a line, or a console format for people; never a secret.

``configure()`` routes every log record — structlog's and the standard library's (uvicorn,
``seatledger.delivery``) — through one chain of processors ending in one renderer:

* JSON (``{"event": "request", "level": "info", "timestamp": …}``) when stderr is not a
  terminal, coloured key=value lines when it is; ``SEATLEDGER_LOG_FORMAT`` (``json`` |
  ``console``) decides instead when set;
* ``redact``, the ONE processor that keeps secrets out, runs last before rendering, over every
  field (exceptions' text included), so no line escapes it whatever logged it.

What ``redact`` hides: the value of any field named like a credential (``authorization``,
``cookie``, ``password``, ``secret``, ``signature``, ``…token``, ``api_key``, ``key``), and
inside any text: API keys (``sl_…``), customer-session tokens (``cs_…``), webhook secrets
(``whsec_…``), Stripe keys (``sk_live_…``, ``sk_test_…``, ``rk_…``), invitation tokens in claim
paths (``/claim/<token>``, ``/v1/claims/<token>``), credential query parameters (``?session=``,
``?signature=``, ``?token=``, ``?…_token=``, ``?secret=``, ``?key=``), ``Bearer`` credentials and
the password of a URL (``smtp://user:password@host``).
"""

from __future__ import annotations

import logging
import logging.config
import os
import re
import sys
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import structlog
from structlog.typing import EventDict, Processor

FORMAT_ENV = "SEATLEDGER_LOG_FORMAT"
FORMATS = ("json", "console")
REDACTED = "[redacted]"

_SECRET_FIELD = re.compile(
    r"(authorization|cookie|password|passwd|secret|signature|token|api_?key)$|^(key|session)$",
    re.IGNORECASE,
)
# Whole secrets recognised by their shape; the prefix stays, to say what was there.
_SECRET_TEXT: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(sl_|cs_)(?!csrf\b|portal\b)[A-Za-z0-9_\-]{8,}"), r"\1" + REDACTED),
    (re.compile(r"\b(whsec_)[A-Za-z0-9+/=_\-]{4,}"), r"\1" + REDACTED),
    (re.compile(r"\b([sr]k_(?:live|test)_)[A-Za-z0-9]{4,}"), r"\1" + REDACTED),
    # A route template's placeholder (``/v1/claims/{token}``) is no secret: it stays.
    (re.compile(r"(/v1/claims/|/claim/)(?!\{token\})[^/?#\s\"'<>]+"), r"\1" + REDACTED),
    (
        re.compile(
            r"([?&;](?:[A-Za-z0-9_.%-]*token|session|signature|secret|key|password)=)"
            r"[^&#\s\"'<>]*",
            re.IGNORECASE,
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"\b(Bearer\s+)[^\s\"',;]+", re.IGNORECASE), r"\1" + REDACTED),
    (re.compile(r"(://[^/\s:@\"']+:)[^@\s/\"']+@"), r"\1" + REDACTED + "@"),
)


# Every secret above contains one of these: a text without any is let through unscanned (the
# processor runs on every field of every line, a request's included: it must be cheap).
_MARKERS = ("sl_", "cs_", "whsec_", "k_live_", "k_test_", "/claim", "=", "earer", "EARER", "@")
_ANY_MARKER = re.compile("|".join(re.escape(marker) for marker in _MARKERS))  # one C-level scan


def redact_text(text: str) -> str:
    """``text`` with every secret the module docstring lists replaced."""
    if _ANY_MARKER.search(text) is None:
        return text
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


@lru_cache(maxsize=1024)
def _secret_field(name: str) -> bool:
    return _SECRET_FIELD.search(name) is not None


def _redacted(name: object, value: Any) -> Any:
    if isinstance(name, str) and _secret_field(name) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redacted(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redacted(None, item) for item in value]
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace"))
    return value


def redact(_logger: object, _method: str, event: EventDict) -> EventDict:
    """The processor: every field of ``event``, by name and by content (module docstring)."""
    return {name: _redacted(name, value) for name, value in event.items()}


def resolve_format(value: str | None = None, *, stream: Any = None) -> str:
    """``json`` or ``console``: ``value`` (or ``SEATLEDGER_LOG_FORMAT``) when set, else by
    whether ``stream`` (stderr) is a terminal. ``ValueError`` names the choices."""
    value = os.environ.get(FORMAT_ENV, "") if value is None else value
    value = value.strip().lower()
    if value:
        if value not in FORMATS:
            raise ValueError(f"{FORMAT_ENV}={value!r}: choose json or console")
        return value
    stream = sys.stderr if stream is None else stream
    return "console" if getattr(stream, "isatty", lambda: False)() else "json"


def _chain() -> list[Processor]:
    return [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]


def formatter(log_format: str | None = None) -> logging.Formatter:
    """A standard-library formatter rendering every record through the chain (for
    ``logging.config.dictConfig``'s ``"()"``, as ``seatledger serve`` configures uvicorn)."""
    chosen = resolve_format(log_format)
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if chosen == "json"
        else structlog.dev.ConsoleRenderer(colors=True, exception_formatter=_plain)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_chain(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )


def _plain(sio: Any, exc_info: Any) -> None:  # the text was already rendered (and redacted)
    del sio, exc_info


def configure_structlog() -> None:
    """structlog's loggers hand their events to the standard library, whose handler renders
    them with ``formatter()``: one format, one redaction, whoever logs."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_chain(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def logging_config(log_format: str | None = None) -> dict[str, Any]:
    """A ``dictConfig`` sending every logger to stderr through ``formatter()``: the root at
    INFO, uvicorn's own access log off (seatledger's request line replaces it)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": "seatledger.observability.logs.formatter",
                "log_format": resolve_format(log_format),
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "structured",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {
            "uvicorn": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.error": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def configure(log_format: str | None = None) -> None:
    """Configure this process's logging (a command's, a server worker's)."""
    logging.config.dictConfig(logging_config(log_format))
    configure_structlog()


def get_logger(name: str) -> Any:
    """A structlog logger named ``name`` (``seatledger.request``, ``seatledger.jobs``)."""
    return structlog.stdlib.get_logger(name)


__all__ = [
    "FORMATS",
    "FORMAT_ENV",
    "REDACTED",
    "configure",
    "configure_structlog",
    "formatter",
    "get_logger",
    "logging_config",
    "redact",
    "redact_text",
    "resolve_format",
]
