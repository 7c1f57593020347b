"""The ``ptce`` command."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from api.cli import admin as admin_cli
from api.cli.standins import command as standin_command
from api.cli.standins import mailbox_args, platform_args
from core.settings import get_settings
from core.startup import loading

app = typer.Typer(help="Service des dossiers de l’AMI PTCE.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
standin = typer.Typer(help="Local stand-ins of other organisations' services (dev, tests).")
temporal_app = typer.Typer(help="Temporal cluster set-up.")
app.add_typer(standin, name="standin")
app.add_typer(temporal_app, name="temporal")
platform_app = typer.Typer(help="The démarches-simplifiées platform.", no_args_is_help=True)
app.add_typer(platform_app, name="platform")
db_app = typer.Typer(help="Service database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_cli.app, name="admin")


def _logging() -> None:
    settings = get_settings()  # an unsafe setting refuses first, before the imports below
    from core.telemetry.setup import configure as configure_telemetry

    configure_telemetry(settings.telemetry)


@app.command()
def dev(
    mailbox_port: Annotated[int, typer.Option(help="Mailbox web page port")] = 8025,
    platform_port: Annotated[int, typer.Option(help="Platform stand-in port")] = 8100,
) -> None:
    """Start the whole embedded stack (what `make run` runs)."""
    from api.cli import dev as dev_stack

    settings = get_settings()
    if settings.environment != "dev":
        typer.echo("ptce dev runs the development stack: set PTCE_ENVIRONMENT=dev "
                   "(make run does).", err=True)
        raise typer.Exit(2)
    raise typer.Exit(dev_stack.run(settings, mailbox_port, platform_port))


@app.command()
def worker() -> None:
    """Run a Temporal worker."""
    get_settings()  # refuses to start on an unsafe setting, before anything else
    with loading():
        from api.cli.worker import main

    main()


@app.command()
def api() -> None:
    """Run the HTTP API."""
    settings = get_settings()  # refuses to start on an unsafe setting, before the imports
    with loading():
        import uvicorn

        import api.app  # noqa: F401  (uvicorn's factory below finds it loaded)
    _logging()
    uvicorn.run("api.app:create_app", factory=True, host=settings.api.host,
                port=settings.api.port, log_level="info",
                # X-Forwarded-For is the app's to read, from PTCE_API__TRUSTED_PROXIES only
                # (api.hardening): uvicorn's own default would trust any local peer.
                proxy_headers=False,
                log_config=None)  # uvicorn's loggers go through configure_logging's handler


@app.command()
def demo(
    count: Annotated[int, typer.Option(help="How many dossiers to file")] = 3,
    platform_url: Annotated[str, typer.Option(help="Platform stand-in base URL")] =
        "http://127.0.0.1:8100",
) -> None:
    """File sample dossiers on the platform stand-in; the service picks them up by sync."""
    from api.cli.demo import file_demo_dossiers

    for number, label in file_demo_dossiers(platform_url, count):
        typer.echo(f"Dossier n° {number} déposé : {label}")
    typer.echo("Ils apparaissent dans Temporal UI à la prochaine synchronisation "
               f"(toutes les {get_settings().platform.poll_interval_seconds} s).")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             add_help_option=False)
def bench(ctx: typer.Context) -> None:
    """The benchmark of issue 9, on its own embedded stack (options: ptce bench --help)."""
    from bench.run import main

    raise typer.Exit(main(ctx.args))


def _exec_standin(args: list[str]) -> None:
    """Replaces this process by a stand-in's own entry point (``python -m standins NAME``).

    The product never imports the stand-ins: they play other organisations' services and are
    not in the production image, where this command says so instead of failing on an import.
    """
    if importlib.util.find_spec("standins") is None:
        typer.echo("The stand-ins are not installed here (development and tests only).", err=True)
        raise typer.Exit(2)
    os.execv(sys.executable, standin_command(args))


@standin.command("platform")
def standin_platform(
    port: Annotated[int, typer.Option()] = 8100,
    db: Annotated[Path | None, typer.Option(help="SQLite file")] = None,
    forward_emails: Annotated[bool, typer.Option(
        help="Hand the platform's own emails to applicants to the local mailbox")] = False,
) -> None:
    """Run the démarches-simplifiées stand-in."""
    _exec_standin(platform_args(get_settings(), port, db, forward_emails))


@standin.command("mailbox")
def standin_mailbox(
    web_port: Annotated[int, typer.Option()] = 8025,
    db: Annotated[Path | None, typer.Option(help="SQLite file")] = None,
) -> None:
    """Run the SMTP sink and its mailbox page."""
    _exec_standin(mailbox_args(get_settings(), web_port, db))


@temporal_app.command("setup")
def temporal_setup() -> None:
    """Create the service's namespace with its retention (or update the retention) and register
    the custom search attributes in it (idempotent)."""
    from api.cli.temporal_setup import run_setup

    for line in asyncio.run(run_setup(get_settings().temporal)).lines():
        typer.echo(line)


@temporal_app.command("set-current-version")
def temporal_set_current_version(
    build_id: Annotated[str | None, typer.Argument(
        help="Build id of the workers to make current (default: PTCE_TEMPORAL__BUILD_ID)")] = None,
) -> None:
    """Make a Worker Deployment version the current one, once its workers poll (versioning plan:
    README, « Versions et déploiements »)."""
    from api.cli.temporal_setup import set_current_version

    settings = get_settings().temporal
    chosen = build_id or settings.build_id
    if not chosen:
        typer.echo("No build id: pass one or set PTCE_TEMPORAL__BUILD_ID.", err=True)
        raise typer.Exit(2)
    previous = asyncio.run(set_current_version(settings, chosen))
    typer.echo(f"Current version of {settings.deployment_name}: {settings.deployment_name}."
               f"{chosen} (was {previous})")



@platform_app.command("check")
def platform_check() -> None:
    """Check the configured démarche against the settings and the mapping file (read-only);
    exit code 1 on a mismatch."""
    from api.cli.platform_check import run_check

    report = asyncio.run(run_check(get_settings()))
    for line in report.lines():
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
) -> None:
    """Apply the migrations to the configured database (DATABASE_URL), idempotent."""
    _logging()
    url = get_settings().effective_database_url
    from core.db.engine import create_engine
    from core.db.migrate import describe, upgrade

    async def run() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine, revision)
        finally:
            await engine.dispose()

    asyncio.run(run())
    typer.echo(f"Database {describe(url)} upgraded to {revision}.")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one; exit code 1 when behind."""
    from core.db.migrate import current_revision, describe, head_revision

    url = get_settings().effective_database_url
    current, head = asyncio.run(current_revision(url)), head_revision()
    typer.echo(f"{describe(url)}: revision {current or 'none (empty database)'}, head {head}")
    if current != head:
        raise typer.Exit(1)


def refusal(exc: ValidationError) -> str:
    """The settings' refusal for people running the command: one line per problem."""
    lines = ["Refusing to start: unsafe or invalid settings."]
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if message.startswith("refusing to start in production"):
            head, _, listed = message.partition(": ")
            lines.append(f"  {head}:")
            lines += [f"  - {problem}" for problem in listed.split("; ")]
        else:  # a field's own check: named by its variable (codec.keys: PTCE_CODEC__KEYS)
            name = "PTCE_" + "__".join(str(p) for p in error["loc"]).upper() if where else ""
            lines.append(f"  - {name or 'settings'}: {message}")
    lines.append("Development: PTCE_ENVIRONMENT=dev (make run sets it); tests: "
                 "PTCE_ENVIRONMENT=test. See the README, section Production.")
    return "\n".join(lines)


def main() -> None:
    """The ``ptce`` entry point: the command, or the settings' refusal (exit code 2)."""
    try:
        app()
    except ValidationError as exc:
        if exc.title != "Settings":
            raise
        typer.echo(refusal(exc), err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
