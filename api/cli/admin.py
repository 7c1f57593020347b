"""``ptce admin``: find stuck dossiers, amend them, replay histories.

Every command names its admin (``--as`` or ``PTCE_ADMIN``): refused unless that email has the
admin role (the ``agent_roles`` table, or the bootstrap admins of the settings). Each action is
audited in ``admin_actions``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from pydantic import ValidationError

from core.domain.admin import (
    BackTo,
    BlockAction,
    BlockResolution,
    ConsultationSkip,
    DeadlineChange,
    LinkKind,
    LinkResend,
    RegionCorrection,
    SendBack,
    Withdrawal,
)
from core.domain.dossier import TerritoryFlags
from core.domain.procedure import Agent, Stage
from core.domain.regions import region_name
from core.settings import get_settings

# The operations (Temporal client, database, the admin desk) are imported by the commands that
# run them: every `ptce` command loads this module, and a refused start or `--help` should not
# pay for them.
if TYPE_CHECKING:
    from api.admin.desk import AdminDesk
    from core.db.engine import Database

app = typer.Typer(help="Administration: dossiers bloqués, corrections, rejeu.",
                  no_args_is_help=True)
T = TypeVar("T")

AsAdmin = Annotated[str, typer.Option("--as", envvar="PTCE_ADMIN",
                                      help="Email of the admin acting (admin role required)")]
Reason = Annotated[str, typer.Option(help="Why (required, kept in the audit)")]


async def _admin(db: Database, email: str) -> Agent:
    from api.auth.roles import Role, role_of

    settings = get_settings()
    if await role_of(db, "", email, settings.agents.bootstrap_admins) is not Role.ADMIN:
        raise PermissionError(email)
    return Agent(id=email.strip().lower(), name=email.strip())


def _run(email: str, action: Callable[[Database, Agent], Awaitable[T]]) -> T:
    from api.errors import ApiError
    from core.db.engine import Database, create_engine

    async def main() -> T:
        db = Database(create_engine(get_settings().effective_database_url))
        try:
            return await action(db, await _admin(db, email))
        finally:
            await db.dispose()

    get_settings()  # an unsafe configuration refuses here, named (api.cli.main), exit code 2
    try:
        return asyncio.run(main())
    except PermissionError:
        typer.echo(f"Refusé : {email} n’a pas le rôle administrateur.", err=True)
        raise typer.Exit(2) from None
    except ApiError as exc:
        typer.echo(f"Refusé : {exc.message}", err=True)
        raise typer.Exit(1) from None
    except ValidationError as exc:  # bad input: nothing was sent
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "requête"
            why = error["msg"].removeprefix("Value error, ")
            typer.echo(f"Refusé : {where} : {why} ; rien n’a été modifié.", err=True)
        raise typer.Exit(1) from None


async def _desk(db: Database) -> AdminDesk:
    """One idempotency key per invocation: a command retried by its client library (a lost
    answer) is applied once; running the command again is a new request."""
    from api.admin.desk import AdminDesk
    from api.routes.idempotency import new_key
    from api.temporal import connect

    settings = get_settings()
    return AdminDesk(await connect(settings.temporal, settings.codec), db, key=f"cli-{new_key()}")


@app.command()
def stuck(admin: AsAdmin, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the stuck dossiers and consultations, with the reasons."""
    from api.admin.stuck import find_stuck
    from api.temporal import connect

    async def action(db: Database, agent: Agent) -> None:
        settings = get_settings()
        client = await connect(settings.temporal, settings.codec)
        cases = await find_stuck(client, datetime.now(UTC),
                                 demarches=[settings.platform.demarche_number])
        if as_json:
            typer.echo(json.dumps([c.model_dump(mode="json") for c in cases], indent=2,
                                  ensure_ascii=False))
            return
        for case in cases:
            typer.echo(f"{case.workflow_id} ({case.stage or '?'})")
            for reason in case.reasons:
                typer.echo(f"  - {reason.kind}: {reason.detail}")
        typer.echo(f"{len(cases)} bloqué(s).")

    _run(admin, action)


@app.command()
def deadline(number: int, region: str, to: datetime, admin: AsAdmin, reason: Reason) -> None:
    """Extend or shorten a consultation's deadline (ISO date, UTC)."""
    at = to if to.tzinfo else to.replace(tzinfo=UTC)

    async def action(db: Database, agent: Agent) -> None:
        done = await (await _desk(db)).change_deadline(
            number, region, DeadlineChange(agent=agent, reason=reason, deadline=at))
        typer.echo(f"Nouvelle échéance : {done:%d/%m/%Y %H:%M} UTC")

    _run(admin, action)


@app.command()
def resend(number: int, region: str, member: str, admin: AsAdmin, reason: Reason,
           kind: LinkKind = LinkKind.INVITATION) -> None:
    """Send a member's link again (once per command)."""
    async def action(db: Database, agent: Agent) -> None:
        key = await (await _desk(db)).resend_link(number, region, LinkResend(
            agent=agent, reason=reason, member_id=member, kind=kind))
        typer.echo(f"Envoyé ({key}).")

    _run(admin, action)


@app.command()
def skip(number: int, region: str, admin: AsAdmin, reason: Reason) -> None:
    """Close a CRA consultation without its opinion."""
    async def action(db: Database, agent: Agent) -> None:
        await (await _desk(db)).skip_consultation(number, region,
                                                  ConsultationSkip(agent=agent, reason=reason))
        typer.echo("Consultation close (skipped).")

    _run(admin, action)


@app.command()
def withdraw(number: int, admin: AsAdmin, reason: Reason) -> None:
    """Withdraw a dossier at the applicant's request (closed sans suite, applicant told)."""
    async def action(db: Database, agent: Agent) -> None:
        await (await _desk(db)).withdraw(number, Withdrawal(agent=agent, reason=reason))
        typer.echo(f"Dossier n° {number} retiré.")

    _run(admin, action)


@app.command()
def resume(
    number: int, admin: AsAdmin, reason: Reason,
    action: Annotated[BlockAction, typer.Option(help="retry | skip | close")] = BlockAction.RETRY,
    region: Annotated[str | None, typer.Option(help="The blocked consultation's region")] = None,
    block: Annotated[int | None, typer.Option(help="Which block, when several wait")] = None,
) -> None:
    """Resume a blocked dossier (or consultation): retry the step, skip it, or close."""
    async def run(db: Database, agent: Agent) -> None:
        done = await (await _desk(db)).resume(number, region, BlockResolution(
            agent=agent, reason=reason, action=action, block=block))
        typer.echo(f"Repris ({action.value}) : {done.label}.")

    _run(admin, run)


def _territory(value: str | None) -> TerritoryFlags | None:
    """``qpv,zrr`` (any of qpv, zrr, deindustrialised), ``none`` for no flag, absent: unchanged."""
    if value is None:
        return None
    names = {v.strip().lower() for v in value.split(",") if v.strip()} - {"none"}
    unknown = names - set(TerritoryFlags.model_fields)
    if unknown:
        typer.echo(f"Refusé : territoire inconnu : {', '.join(sorted(unknown))} "
                   "(qpv, zrr, deindustrialised ou none) ; rien n’a été modifié.", err=True)
        raise typer.Exit(1)
    return TerritoryFlags.model_validate(dict.fromkeys(names, True))


@app.command()
def regions(
    number: int,
    codes: Annotated[list[str], typer.Argument(help="Regions (INSEE code or name), main first")],
    admin: AsAdmin,
    reason: Reason,
    territory: Annotated[str | None, typer.Option(
        help="Corrected fragile territory: qpv,zrr,deindustrialised or none (default: unchanged)")
    ] = None,
) -> None:
    """Correct a dossier's regions: re-checked; open consultations follow the regions."""
    flags = _territory(territory)

    async def action(db: Database, agent: Agent) -> None:
        correction = RegionCorrection(agent=agent, reason=reason, regions=codes, territory=flags)
        status = await (await _desk(db)).correct_regions(number, correction)
        consulted = ", ".join(f"{region_name(c.region)} ({c.status.value})"
                              for c in status.consultations) or "aucune pour l’instant"
        typer.echo(f"Régions corrigées. Consultations : {consulted}.")

    _run(admin, action)


@app.command("send-back")
def send_back(
    number: int,
    to: Annotated[BackTo, typer.Option("--to", help="admissibility | consultation")],
    admin: AsAdmin,
    reason: Reason,
    region: Annotated[list[str] | None, typer.Option(
        help="consultation: a region consulted again (repeat; default: all)")] = None,
) -> None:
    """Send a dossier back to admissibility, or its CRA(s) back to consultation (new round)."""
    async def action(db: Database, agent: Agent) -> None:
        request = SendBack(agent=agent, reason=reason, to=to, regions=region or [])
        status = await (await _desk(db)).send_back(number, request)
        typer.echo(f"Dossier n° {number} renvoyé : étape « {status.stage.value} ».")

    _run(admin, action)


@app.command()
def reset(
    workflow_id: Annotated[str, typer.Argument(help="dossier-<number>")],
    to_stage: Annotated[Stage, typer.Option("--to-stage")],
    admin: AsAdmin,
    reason: Reason,
    yes: Annotated[bool, typer.Option("--yes", help="Do it (default: dry run)")] = False,
    drop_updates: Annotated[bool, typer.Option(
        "--drop-updates", help="BESSII's Updates after the point (admissibility, eligibility, "
                               "decision) are not re-applied: BESSII acts again")] = False,
    drop_corrections: Annotated[bool, typer.Option(
        "--drop-corrections", help="Admins' corrections after the point are not re-applied")
    ] = False,
    wait: Annotated[int, typer.Option(
        help="Seconds to wait for the new run to reach each Update's stage")] = 120,
) -> None:
    """Reset a dossier to the start of a stage; shows what will happen, ``--yes`` does it.

    Exit code 1 if what was re-applied differs from the plan (listed)."""
    from api.admin.audit import audited, record
    from api.admin.reset import plan_reset
    from api.admin.reset_apply import execute_reset
    from api.temporal import connect

    async def action(db: Database, agent: Agent) -> int:
        settings = get_settings()
        client = await connect(settings.temporal, settings.codec)
        plan = await plan_reset(client, workflow_id, to_stage, drop_updates=drop_updates,
                                drop_corrections=drop_corrections)
        for line in plan.lines():
            typer.echo(line)
        params = {"stage": to_stage.value, "event_id": plan.event_id, "run_id": plan.run_id,
                  "drop_updates": drop_updates, "drop_corrections": drop_corrections,
                  "reapplied": plan.reapplied, "dropped": plan.dropped}
        if not yes:
            await record(db, agent, "reset", workflow_id, reason, params, "dry_run")
            typer.echo("Simulation : rien n’a été fait (ajoutez --yes).")
            return 0
        report = await audited(db, agent, "reset", workflow_id, reason, params,
                               lambda: execute_reset(client, plan, reason, agent.id,
                                                     timedelta(seconds=wait)))
        for line in report.lines():
            typer.echo(line)
        return 1 if report.differences else 0

    if _run(admin, action):
        raise typer.Exit(1)


@app.command("retry-activity")
def retry_activity_command(
    workflow_id: Annotated[str, typer.Argument(help="dossier-<n> or a consultation id")],
    admin: AsAdmin,
    reason: Reason,
    activity_id: Annotated[str | None, typer.Option(help="Default: every pending one")] = None,
) -> None:
    """Retry a failing or paused activity now (attempts reset, unpaused)."""
    from api.admin.activities import retry_activity
    from api.admin.audit import audited
    from api.temporal import connect

    async def action(db: Database, agent: Agent) -> None:
        settings = get_settings()
        client = await connect(settings.temporal, settings.codec)
        retried = await audited(db, agent, "retry_activity", workflow_id, reason,
                                {"activity_id": activity_id},
                                lambda: retry_activity(client, workflow_id, activity_id, agent.id))
        typer.echo(f"Relancée(s) : {', '.join(retried) or 'aucune activité en attente'}.")

    _run(admin, action)


@app.command()
def batch(
    query: Annotated[str, typer.Argument(help="Visibility query selecting the executions")],
    operation: Annotated[str, typer.Option(help="terminate | signal-changed | reset")],
    admin: AsAdmin,
    reason: Reason,
    to_stage: Annotated[Stage | None, typer.Option("--to-stage")] = None,
    rate: Annotated[float, typer.Option(help="Operations per second")] = 2.0,
    yes: Annotated[bool, typer.Option("--yes", help="Do it (default: dry run)")] = False,
) -> None:
    """Signal, terminate or reset every execution a query selects; dry run by default."""
    from api.admin import batch as batches
    from api.admin.audit import record
    from api.temporal import connect

    async def action(db: Database, agent: Agent) -> int:
        settings = get_settings()
        client = await connect(settings.temporal, settings.codec)
        if operation == "terminate":
            one = batches.terminate(client, reason)  # who: in admin_actions, not the history
        elif operation == "signal-changed":
            one = batches.signal_changed(client)
        elif operation == "reset" and to_stage is not None:
            one = batches.reset_to(client, to_stage, reason, agent.id)
        else:
            typer.echo("Opération inconnue (ou --to-stage manquant pour reset).", err=True)
            return 1
        report = await batches.run_batch(client, query, one, rate, dry_run=not yes)
        for workflow_id in report.selected:
            verdict = report.failed.get(workflow_id, "fait" if workflow_id in report.done
                                        else "sélectionné")
            typer.echo(f"{workflow_id}: {verdict}")
        await record(db, agent, f"batch_{operation}", query, reason,
                     {"selected": report.selected, "to_stage": to_stage},
                     "done" if yes and not report.failed else ("dry_run" if not yes else "failed"),
                     "; ".join(f"{k}: {v}" for k, v in report.failed.items()) or None)
        if not yes:
            typer.echo(f"Simulation : {len(report.selected)} exécution(s) ; ajoutez --yes.")
        return 1 if report.failed else 0

    if _run(admin, action):
        raise typer.Exit(1)


@app.command()
def replay(
    admin: AsAdmin,
    files: Annotated[list[Path] | None, typer.Argument(help="Histories exported as JSON")] = None,
    query: Annotated[str | None, typer.Option(help="Visibility query")] = None,
    sample: Annotated[int | None, typer.Option(
        help="Replay N executions drawn at random among the running ones (or --query's)")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the draw (repeatable)")] = None,
) -> None:
    """Replay histories against the current code; exit code 1 on non-determinism.

    Before a deploy, with the new code and the production cluster's address:
    ``ptce admin replay --sample 200``."""
    from api.admin.replay import RUNNING, replay_files, replay_query, replay_sample
    from api.temporal import connect

    async def action(db: Database, agent: Agent) -> int:
        settings = get_settings()
        if sample is not None:
            report = await replay_sample(await connect(settings.temporal, settings.codec),
                                         sample, query or RUNNING, seed)
        elif query:
            report = await replay_query(await connect(settings.temporal, settings.codec), query)
        else:
            report = await replay_files(list(files or []))
        for line in report.lines():
            typer.echo(line)
        return len(report.failures)

    if _run(admin, action):
        raise typer.Exit(1)
