"""Settings, read from the environment once at start-up and checked then (SPEC §8).

``Settings.from_env()`` reads ``SEATLEDGER_*`` variables and a ``.env`` file in the current
folder (the environment wins over the file); a value that does not fit is a ``StartupError``
naming the variable. ``Settings(...)`` with keyword arguments takes exactly the values given,
checked the same way, and reads nothing else: that is how tests and the demo build them.

``StartupError`` is what keeps a command from starting (a bad setting, a database that cannot
be reached or is not migrated, a payment provider that may not run): its message is one line
that says what is wrong and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "SEATLEDGER_"
DEFAULT_SQLITE = Path("var") / "seatledger.sqlite3"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DATABASE_POOL_SIZE = 20
# Never echoed back in an error message: they may carry a password or a key.
_SECRET_FIELDS = frozenset(
    {"database_url", "secret_key", "smtp_url", "stripe_secret_key", "stripe_webhook_secret"}
)
STRIPE_API_BASE = "https://api.stripe.com"


class StartupError(Exception):
    """A command cannot start (or go on): ``str(error)`` is one line saying what is wrong and
    what to do about it."""


def async_database_url(url: str) -> str:
    """The async driver's URL for a configured one (postgresql → psycopg, sqlite → aiosqlite)."""
    for prefix, driver in (
        ("postgresql+psycopg://", "postgresql+psycopg://"),
        ("postgresql+asyncpg://", "postgresql+psycopg://"),
        ("postgresql://", "postgresql+psycopg://"),
        ("postgres://", "postgresql+psycopg://"),
        ("sqlite+aiosqlite://", "sqlite+aiosqlite://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    scheme = url.split("://", 1)[0] if "://" in url else url[:20]
    raise ValueError(
        f"unsupported database URL (scheme {scheme!r}): use postgresql+psycopg://… or sqlite:///…"
    )


def sync_database_url(url: str) -> str:
    """The same database through a synchronous driver, for migrations."""
    url = async_database_url(url)
    return url.replace("sqlite+aiosqlite://", "sqlite+pysqlite://", 1)


def address_url(host: str, port: int) -> str:
    """The base URL of a server listening on ``host``:``port``. A wildcard address (all
    interfaces) is reached locally through the loopback address."""
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    return f"http://{host}:{port}"


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where emails go: ``SEATLEDGER_SMTP_URL`` taken apart."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool  # ``smtps://``: TLS from the first byte
    starttls: bool  # ``?starttls=true``: plain, then upgraded


def smtp_server(url: str) -> SmtpServer:
    """``smtp://user:pass@host:port``, ``smtps://…`` or ``…?starttls=true`` taken apart;
    ``ValueError`` saying what does not fit (never repeating the password)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("must be smtp://user:pass@host:port or smtps://… (TLS)")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError("names no host: use smtp://user:pass@host:port")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("takes no path or fragment, only ?starttls=true")
    query = parse_qs(parts.query, keep_blank_values=True)
    if set(query) - {"starttls"} or query.get("starttls", ["false"]) not in (["true"], ["false"]):
        raise ValueError("takes one option only, ?starttls=true or ?starttls=false")
    starttls = query.get("starttls") == ["true"]
    if starttls and parts.scheme == "smtps":
        raise ValueError("smtps:// is TLS already: drop ?starttls=true")
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if parts.scheme == "smtps" else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=parts.scheme == "smtps",
        starttls=starttls,
    )


class Settings(BaseSettings):
    """The instance's settings; each field is the variable ``SEATLEDGER_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_ignore_empty=True,  # VAR= means "the default", as it always did
        extra="ignore",  # other SEATLEDGER_ variables (the tests' own, say) are not ours
        frozen=True,
    )

    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_SQLITE}"
    # PostgreSQL connections each process keeps open (``seatledger.adapters.db.engine``).
    database_pool_size: Annotated[int, Field(ge=1, le=1000)] = DATABASE_POOL_SIZE
    sandbox: bool = False
    payment_provider: Literal["local", "stripe"] = "local"
    # Where links handed out (checkout, invitation, portal, download) point. Unset, a server
    # points them at the address it serves (``for_address``); otherwise the default.
    public_url: str = DEFAULT_PUBLIC_URL
    invitation_ttl_days: Annotated[int, Field(ge=1, le=3650)] = 7
    # Signs expiring links (file downloads). Empty: the instance's own key, generated by the
    # migrations and stored in the database, so every process of one instance agrees on it.
    secret_key: str = Field(default="", repr=False)
    # Where emails are sent (SPEC §10). Empty: they are kept ``held``, never sent.
    smtp_url: str = Field(default="", repr=False)
    email_from: str = "seatledger@localhost"
    # A folder of email templates that replace the built-in ones of the same file name.
    email_templates: Path | None = None
    # Outside the sandbox a webhook endpoint may not point at a loopback, private or link-local
    # address (server-side request forgery); 1 lifts that, for an instance on a private network.
    webhook_allow_private: bool = False
    # The Stripe gateway (SPEC §7), checked when a command that takes payments starts
    # (``seatledger.bootstrap``): its secret key, the signing secret of the webhook endpoint
    # Stripe posts to (``/v1/stripe/webhooks``), where its API is (a fake's, in tests), and
    # which mode: ``payments`` (seatledger bills, Stripe collects) or ``billing``.
    stripe_secret_key: str = Field(default="", repr=False)
    stripe_webhook_secret: str = Field(default="", repr=False)
    stripe_api_base: str = STRIPE_API_BASE
    stripe_mode: Literal["payments", "billing"] = "payments"
    # Token look-ups and claims a client address may make per minute (after a burst of as many);
    # 0 turns the throttle off (``seatledger.api.throttle``).
    claim_rate_per_minute: Annotated[int, Field(ge=0, le=1_000_000)] = 60
    # The seller on invoices (their PDF) and the dashboard's title.
    merchant_name: Annotated[str, Field(min_length=1, max_length=200)] = "seatledger merchant"
    # How many renewal (and dunning) charges one run sends to the payment provider at once: a
    # run of a thousand due subscriptions neither opens a thousand provider connections nor
    # trips the provider's rate limit (``seatledger.services.collection.charge``).
    payment_concurrency: Annotated[int, Field(ge=1, le=1000)] = 16
    # ``billing`` mode: a subscription's seat count goes to Stripe at most once per this many
    # seconds (a burst of membership changes is one update), and reconciliation pushes the
    # covered count back to Stripe when it clamped a drift (1).
    stripe_sync_seconds: Annotated[int, Field(ge=1, le=3600)] = 10
    stripe_push_back: bool = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # the environment is read by ``from_env`` only

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return async_database_url(value)

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL such as https://billing.example")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or a fragment")
        return value.rstrip("/")

    @field_validator("stripe_api_base")
    @classmethod
    def _stripe_api_base(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError("must be an http(s):// base URL such as https://api.stripe.com")
        return value.rstrip("/")

    @field_validator("stripe_secret_key")
    @classmethod
    def _stripe_secret_key(cls, value: str) -> str:
        if value and not value.startswith(("sk_", "rk_")):
            raise ValueError("must be a Stripe secret key (sk_live_…, sk_test_… or rk_…)")
        return value

    @field_validator("stripe_webhook_secret")
    @classmethod
    def _stripe_webhook_secret(cls, value: str) -> str:
        if value and not value.startswith("whsec_"):
            raise ValueError("must be a webhook signing secret (whsec_…)")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        if value:
            smtp_server(value)
        return value

    @field_validator("email_from")
    @classmethod
    def _email_from(cls, value: str) -> str:
        _, address = parseaddr(value)
        local, _, domain = address.rpartition("@")
        if not local or not domain or any(c.isspace() for c in address):
            raise ValueError("must be an address such as billing@example.com or Acme <b@acme.com>")
        return value

    @field_validator("email_templates")
    @classmethod
    def _email_templates(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError("must be a folder of email templates")
        return value

    @property
    def smtp(self) -> SmtpServer | None:
        """The mail server, or None: emails are then held."""
        return smtp_server(self.smtp_url) if self.smtp_url else None

    @property
    def invitation_ttl(self) -> timedelta:
        return timedelta(days=self.invitation_ttl_days)

    @property
    def public_url_given(self) -> bool:
        """Whether ``public_url`` was set rather than left to its default."""
        return "public_url" in self.model_fields_set

    def for_address(self, host: str, port: int) -> Settings:
        """These settings for a server at ``host``:``port``: its links point there unless
        ``SEATLEDGER_PUBLIC_URL`` says otherwise."""
        if self.public_url_given:
            return self
        return self.model_copy(update={"public_url": address_url(host, port)})

    @classmethod
    def from_env(cls) -> Settings:
        """The settings of the environment and ``./.env``; ``StartupError`` names what does
        not fit."""
        try:
            found = _FromEnvironment()
        except ValidationError as error:
            raise StartupError(describe(error)) from None
        # A plain ``Settings``, remembering which values were given (``public_url_given``).
        return cls(**found.model_dump(exclude_unset=True))


class _FromEnvironment(Settings):
    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings)


def describe(error: ValidationError) -> str:
    """One line naming each variable that does not fit, and what to do."""
    problems = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        name = ENV_PREFIX + field.upper()
        message = str(item["msg"]).removeprefix("Value error, ")
        message = message.replace("Input should be", "must be", 1)
        if field not in _SECRET_FIELDS and isinstance(item.get("input"), str):
            name = f"{name}={item['input']!r}"
        problems.append(f"{name}: {message}")
    return f"{'; '.join(problems)} (fix it in the environment or in .env)"


__all__ = [
    "DEFAULT_PUBLIC_URL",
    "STRIPE_API_BASE",
    "Settings",
    "SmtpServer",
    "StartupError",
    "address_url",
    "async_database_url",
    "describe",
    "smtp_server",
    "sync_database_url",
]
