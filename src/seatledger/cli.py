"""The ``seatledger`` command: serve, migrate, keys, users, worker, demo (SPEC §8).

Every command reads its settings once (``Settings.from_env``) and checks what it needs before
it starts: the settings themselves, the payment provider (``serve`` and ``worker`` take
payments), a reachable database whose schema is current. A failure is one line on stderr that
says what is wrong and what to do, and a non-zero exit; an unexpected error too, unless
``--traceback`` asks for the whole story.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from seatledger.config import Settings, StartupError


def _unwrapped(text: str) -> str:
    """Paragraphs as single lines: the help screen wraps them to the terminal itself."""
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in text.split("\n\n"))


HELP = _unwrapped(
    """\
seatledger, a seat-based billing engine: its HTTP API, database and worker.

Settings come from SEATLEDGER_* environment variables and from a .env file in the current
folder: SEATLEDGER_DATABASE_URL (default: a SQLite file in var/), SEATLEDGER_SANDBOX,
SEATLEDGER_PAYMENT_PROVIDER, SEATLEDGER_PUBLIC_URL, SEATLEDGER_INVITATION_TTL_DAYS,
SEATLEDGER_SECRET_KEY.

A command that cannot run says why in one line and exits with status 1.
"""
)

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help=HELP,
    pretty_exceptions_enable=False,
)
keys = typer.Typer(no_args_is_help=True, help="Merchant API keys: create, list, revoke.")
app.add_typer(keys, name="keys")
users = typer.Typer(no_args_is_help=True, help="Dashboard logins: create.")
app.add_typer(users, name="users")
stripe_commands = typer.Typer(no_args_is_help=True, help="Stripe Billing (billing mode).")
app.add_typer(stripe_commands, name="stripe")

T = TypeVar("T")


class _Options:
    traceback = False


@app.callback()
def _root(
    traceback: Annotated[
        bool, typer.Option("--traceback", help="Show the whole traceback of an unexpected error.")
    ] = False,
) -> None:
    _Options.traceback = traceback


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def _ready(*, payments: bool) -> Settings:
    """The environment's settings, once everything a command needs is in place."""
    from seatledger.adapters.db import migrations
    from seatledger.bootstrap import check_payment_provider

    settings = Settings.from_env()
    if payments:
        check_payment_provider(settings)
    migrations.check_schema(settings.database_url)
    return settings


def _with_runtime(work: Callable[..., Awaitable[T]], *, payments: bool = False) -> T:
    """Run ``work(runtime)`` on a runtime built from the environment, then close it."""
    from seatledger.api.event_rendering import event_renderer
    from seatledger.bootstrap import build_runtime

    runtime = build_runtime(
        _ready(payments=payments), payments=payments, render_event=event_renderer
    )

    async def run() -> T:
        try:
            return await work(runtime)
        finally:
            await runtime.engine.dispose()

    return asyncio.run(run())


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (a SQLite file and its folder are created)."""
    from seatledger.adapters.db import migrations

    settings = Settings.from_env()
    migrations.upgrade(settings.database_url)
    typer.echo(f"database is up to date (revision {migrations.head_revision()})")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes (PostgreSQL only).")] = 1,
    no_delivery: Annotated[
        bool,
        typer.Option(
            "--no-delivery",
            help="Do not deliver events from this server (leave it to seatledger worker).",
        ),
    ] = False,
) -> None:
    """Serve the HTTP API (the database must be migrated).

    Links it hands out (checkouts, invitations, downloads) point at this address by default.

    SEATLEDGER_PUBLIC_URL sets another base for them, such as https://billing.example.

    Each server process also delivers events (emails, webhooks) every second, unless
    --no-delivery; any number of processes and workers share the work on PostgreSQL.

    One JSON line per request is logged on stderr (SEATLEDGER_LOG_FORMAT=console for people),
    with tokens, keys and signed links left out. GET /metrics serves Prometheus' text format.
    """
    import uvicorn

    from seatledger.api.app import DELIVERY_ENV
    from seatledger.observability import logs

    settings = _ready(payments=True)
    try:
        log_format = logs.resolve_format()
    except ValueError as error:
        _fail(str(error))
    public_url = settings.for_address(host, port).public_url
    # The application is built from the environment, in each server process: tell it there.
    os.environ["SEATLEDGER_PUBLIC_URL"] = public_url
    os.environ[DELIVERY_ENV] = "0" if no_delivery else "1"
    typer.echo(f"links point at {public_url}")
    with _metrics_folder(workers):
        uvicorn.run(
            "seatledger.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            access_log=False,  # replaced by seatledger's request line, which keeps tokens out
            log_config=logs.logging_config(log_format),
        )


@contextmanager
def _metrics_folder(workers: int) -> Iterator[None]:
    """With several server processes, a fresh folder where each writes its metrics
    (prometheus-client's multi-process mode, ``seatledger.observability.metrics``), removed
    when the server stops. It must be named before a process counts anything: here, before
    uvicorn starts them."""
    from seatledger.observability.metrics import MULTIPROC_ENV

    if workers <= 1:
        os.environ.pop(MULTIPROC_ENV, None)  # one process: its own registry answers
        yield
        return
    folder = tempfile.mkdtemp(prefix="seatledger-metrics-")
    os.environ[MULTIPROC_ENV] = folder
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)


@keys.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="What the key is for.")],
    read_only: Annotated[bool, typer.Option(help="Allow reads only.")] = False,
    reuse_file: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Keep the key in FILE (readable by you only). When FILE already holds a key "
            "that still works on this database, with the same access, print that one again "
            "instead of creating another.",
        ),
    ] = None,
) -> None:
    """Create an API key and print it once, as the last line."""
    from seatledger.domain.errors import ValidationFailed
    from seatledger.services import api_keys
    from seatledger.services.runtime import Runtime

    scopes = ("read",) if read_only else ("read", "write")
    keeper = _KeyFile(reuse_file) if reuse_file is not None else None

    async def create(rt: Runtime) -> tuple[api_keys.ApiKey, str, bool]:
        kept = keeper.read() if keeper is not None else None
        if kept is not None:
            key = await api_keys.authenticate_api_key(rt, kept)
            if key is not None and key.scopes == scopes:
                return key, kept, True
        key, plain = await api_keys.create_api_key(rt, name=name, scopes=scopes)
        return key, plain, False

    if keeper is not None:
        keeper.check_writable()
    try:
        key, plain, reused = _with_runtime(create)
    except ValidationFailed as error:
        _fail(f"--name {error.errors[0][1] if error.errors else error.detail}")
    what = f"{key.id} ({key.name}, {' '.join(key.scopes)})"
    if keeper is None:
        typer.echo(f"created {what}; store it now, it is not shown again:")
    elif reused:
        typer.echo(f"reusing {what}, kept in {keeper.path}:")
    else:
        keeper.write(plain)
        typer.echo(f"created {what}, kept in {keeper.path}:")
    typer.echo(plain)


class _KeyFile:
    """A file holding one plain API key, readable by its owner only (mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> str | None:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return text or None

    def check_writable(self) -> None:
        """Fail before a key is made that could not be kept."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            _fail(f"cannot create the folder of {self.path} ({error.strerror}): pick another FILE")
        if self.path.is_dir() or not os.access(self.path.parent, os.W_OK):
            _fail(f"cannot write {self.path}: pick another FILE")

    def write(self, plain: str) -> None:
        # Written beside it and renamed: never a half-written key, never readable by others.
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(plain + "\n")
        os.replace(partial, self.path)


@keys.command("list")
def keys_list() -> None:
    """List API keys with their state (never the keys themselves)."""
    from seatledger.services import api_keys

    rows = [("ID", "KEY", "NAME", "SCOPES", "CREATED", "STATE")]
    for key in _with_runtime(api_keys.list_api_keys):
        rows.append(
            (
                key.id,
                f"{key.prefix}…",
                key.name,
                " ".join(key.scopes),
                f"{key.created_at:%Y-%m-%d}",
                f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, row[-1]]))
    if len(rows) == 1:
        typer.echo("no API keys yet: create one with seatledger keys create --name NAME")


@keys.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_…).")]) -> None:
    """Revoke an API key: it stops working at once (within 5 seconds in running servers)."""
    from seatledger.domain.errors import NotFound
    from seatledger.services import api_keys

    try:
        key = _with_runtime(lambda rt: api_keys.revoke_api_key(rt, key_id))
    except NotFound:
        _fail(f"no API key has the id {key_id!r}: see seatledger keys list")
    typer.echo(f"revoked {key.id} ({key.name})")


@users.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="The login's email address.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a dashboard login. The password is prompted for twice, or read from standard
    input (its first line) with --password-stdin; never given as an argument."""
    import sys

    from seatledger.domain.errors import ValidationFailed
    from seatledger.services import dashboard_users

    _ready(payments=False)  # a database that is not ready fails before a password is asked
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = _with_runtime(
            lambda rt: dashboard_users.create_user(rt, email=email, password=password)
        )
    except ValidationFailed as error:
        field, message = error.errors[0] if error.errors else ("", error.detail)
        _fail(f"--{field} {message}" if field == "email" else f"the {field} {message}")
    typer.echo(f"created dashboard user {user.id} ({user.email}): sign in at /dashboard/login")


@app.command()
def worker(
    interval: Annotated[float, typer.Option(help="Seconds between renewal rounds.")] = 30.0,
    delivery_interval: Annotated[
        float, typer.Option(help="Seconds between delivery rounds (emails, webhooks).")
    ] = 1.0,
    once: Annotated[bool, typer.Option(help="Run one round, say what it did, exit.")] = False,
    metrics_port: Annotated[
        int,
        typer.Option(help="Serve this worker's Prometheus metrics on this port (0: none)."),
    ] = 0,
    metrics_host: Annotated[str, typer.Option(help="Address the metrics listen on.")] = "127.0.0.1",
) -> None:
    """Run due renewals, payment retries and scheduled cancellations, round after round, and
    deliver events (emails, webhooks) more often.

    SIGTERM or Ctrl-C stops it once the round under way is done.
    """
    from seatledger.observability import logs, metrics
    from seatledger.services.runtime import Runtime
    from seatledger.worker.loop import run_worker

    def warn(message: str) -> None:
        typer.echo(message, err=True)

    async def work(rt: Runtime) -> bool:
        # Its rounds' job lines (seatledger.observability.logs) go to stderr, once the checks
        # passed: a failed check stays the one line it is.
        logs.configure()
        if metrics_port:
            metrics.serve_on(metrics_port, metrics_host)
        return await run_worker(
            rt,
            interval=interval,
            delivery_interval=delivery_interval,
            once=once,
            echo=typer.echo,
            warn=warn,
        )

    succeeded = _with_runtime(work, payments=True)
    if not succeeded:
        raise typer.Exit(1)


@stripe_commands.command("reconcile")
def stripe_reconcile(
    push_back: Annotated[
        bool | None,
        typer.Option(
            "--push-back/--no-push-back",
            help="Push the covered count back to Stripe after a clamp (default:"
            " SEATLEDGER_STRIPE_PUSH_BACK).",
        ),
    ] = None,
) -> None:
    """Compare every subscription Stripe bills with Stripe and repair drift: one line per
    repaired subscription, then a summary."""
    from seatledger.services.provider_reconciliation import Reconciliation, reconcile
    from seatledger.services.runtime import Runtime

    settings = Settings.from_env()
    if settings.payment_provider != "stripe" or settings.stripe_mode != "billing":
        _fail(
            "seatledger stripe reconcile needs SEATLEDGER_PAYMENT_PROVIDER=stripe and"
            " SEATLEDGER_STRIPE_MODE=billing"
        )

    async def run(rt: Runtime) -> Reconciliation:
        assert rt.billing is not None  # billing mode, checked above
        back = settings.stripe_push_back if push_back is None else push_back
        return await reconcile(rt, rt.billing, push_back=back)

    done = _with_runtime(run, payments=True)
    for repair in done.repairs:
        typer.echo(repair.line())
    typer.echo(done.summary())


@app.command()
def demo() -> None:
    """Walk through seatledger's main flows on a throw-away database, with the amounts."""
    from seatledger.api.event_rendering import event_renderer
    from seatledger.demo import run_demo

    asyncio.run(run_demo(typer.echo, event_renderer))


def main() -> None:
    try:
        app()
    except StartupError as error:
        typer.echo(str(error), err=True)
        raise SystemExit(1) from None
    except Exception as error:
        if _Options.traceback:
            raise
        first_line = (str(error).strip().splitlines() or [""])[0]
        typer.echo(
            f"unexpected error: {type(error).__name__}: {first_line} (run the command again"
            " with seatledger --traceback ... to see where, and report it)",
            err=True,
        )
        raise SystemExit(1) from None
