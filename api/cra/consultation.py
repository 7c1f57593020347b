"""The consultation as the answer pages see it, read from and written to Temporal.

Reads: the workflow's queries while it runs (asked together with its description), its result
once it ended. The pair consulted is the workflow's input (first history event), immutable, so
it is cached per run.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.cra.errors import LinkExpired, LinkRefused, PagesUnavailable
from core.domain.cra import CraContact, OpinionSubmission, RecordedOpinion
from core.domain.procedure import ConsultationStatus
from core.ids import consultation_workflow_id
from core.links import LinkClaims
from workflows.consultation import CraConsultationWorkflow
from workflows.payloads import ConsultationInput, ConsultationResult

_CLOSED_TYPES = {"ConsultationClosed", "DeadlinePassed"}


class ConsultationClosed(Exception):
    """The workflow refused the opinion: closed by BESSII or past the deadline."""


@dataclass(frozen=True)
class Consultation:
    region: str
    round: int
    deadline: datetime
    status: ConsultationStatus
    opinion: RecordedOpinion | None
    open: bool
    members: dict[str, CraContact] = field(default_factory=dict)

    def who(self, member_id: str) -> str:
        member = self.members.get(member_id)
        return f"{member.name} ({member.role})" if member else member_id


def update_id(member: str, submission: OpinionSubmission, base: RecordedOpinion | None) -> str:
    """Same member, same content, same starting point: Temporal applies the update once."""
    start = base.model_dump_json(include={"written_at", "amended_at"}) if base else "-"
    content = submission.model_dump_json(exclude={"member_id"})
    digest = hashlib.sha256(f"{member}\n{start}\n{content}".encode()).hexdigest()[:32]
    return f"cra-opinion-{digest}"


class ConsultationGateway:
    def __init__(self, client: Client, inputs_cache: dict[str, ConsultationInput]) -> None:
        self._client = client
        self._inputs = inputs_cache

    def _handle(self, claims: LinkClaims) -> WorkflowHandle[CraConsultationWorkflow, ConsultationResult]:
        return self._client.get_workflow_handle_for(
            CraConsultationWorkflow.run,
            consultation_workflow_id(claims.dossier, claims.region, claims.round))

    async def _input(self, handle: WorkflowHandle[CraConsultationWorkflow, ConsultationResult],
                     run_id: str) -> ConsultationInput:
        cached = self._inputs.get(run_id)
        if cached is not None:
            return cached
        async for event in handle.fetch_history_events(page_size=1):
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            [input_] = await self._client.data_converter.decode(payloads, [ConsultationInput])
            if len(self._inputs) > 1000:
                self._inputs.clear()
            self._inputs[run_id] = input_
            return input_  # type: ignore[no-any-return]
        raise LinkRefused("consultation without history", outcome="unknown_consultation")

    async def load(self, claims: LinkClaims, now: datetime) -> Consultation:
        """The consultation this link belongs to; LinkRefused unless the member is in its pair."""
        handle = self._handle(claims)
        try:
            # The description and the page query at once (issue 18: one round trip less on
            # each page and each answer); the page is used only if the workflow still runs.
            described, page = await asyncio.gather(handle.describe(), self._running(handle),
                                                   return_exceptions=True)
            if isinstance(described, BaseException):
                raise described
            input_ = await self._input(handle, described.run_id)
            if described.status is WorkflowExecutionStatus.RUNNING:
                if isinstance(page, BaseException):
                    raise page
                # The pair as it is now: an admin may have replaced a member since the start.
                result, deadline, pair = page
                is_open = now < deadline
            else:
                result = await self._final(handle, claims.region, described.status)
                deadline, is_open, pair = input_.deadline, False, input_.members
            members = {m.id: m for m in pair}
            if claims.member not in members:
                raise LinkRefused("member not consulted", outcome="not_member")
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise PagesUnavailable(f"temporal: {exc.status}") from exc
            if now >= claims.answer_deadline:  # past Temporal's retention: gone, not forged
                raise LinkExpired("consultation no longer retained", claims=claims) from exc
            raise LinkRefused("no such consultation", outcome="unknown_consultation") from exc
        except WorkflowQueryFailedError as exc:
            raise PagesUnavailable("consultation query failed") from exc
        return Consultation(region=claims.region, round=claims.round, deadline=deadline,
                            status=result.status, opinion=result.opinion, open=is_open,
                            members=members)

    @staticmethod
    async def _running(handle: WorkflowHandle[CraConsultationWorkflow, ConsultationResult]
                       ) -> tuple[ConsultationResult, datetime, list[CraContact]]:
        try:
            page = await handle.query(CraConsultationWorkflow.page)
            return page.consultation, page.deadline, page.members
        except WorkflowQueryFailedError:
            # A worker older than the ``page`` query (during a rolling deployment).
            return (await handle.query(CraConsultationWorkflow.consultation),
                    await handle.query(CraConsultationWorkflow.deadline),
                    await handle.query(CraConsultationWorkflow.members))

    @staticmethod
    async def _final(handle: WorkflowHandle[CraConsultationWorkflow, ConsultationResult],
                     region: str, status: WorkflowExecutionStatus | None) -> ConsultationResult:
        if status is WorkflowExecutionStatus.COMPLETED:
            return await handle.result()
        # Terminated or failed: an operator stopped it; its last known state is what counts.
        try:
            return await handle.query(CraConsultationWorkflow.consultation)
        except (RPCError, WorkflowQueryFailedError):
            return ConsultationResult(region=region, status=ConsultationStatus.SKIPPED)

    async def submit(self, claims: LinkClaims, submission: OpinionSubmission,
                     base: RecordedOpinion | None) -> RecordedOpinion:
        handle = self._handle(claims)
        try:
            # By name: the typed overloads do not accept an async update method.
            recorded: RecordedOpinion = await handle.execute_update(
                "submit_opinion", submission, id=update_id(claims.member, submission, base),
                result_type=RecordedOpinion)
            return recorded
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type in _CLOSED_TYPES:
                raise ConsultationClosed from exc
            if isinstance(cause, ApplicationError) and cause.type == "UnknownMember":
                raise LinkRefused("member refused by the workflow", outcome="not_member") from exc
            raise PagesUnavailable("opinion update failed") from exc
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:  # the workflow ended meanwhile
                raise ConsultationClosed from exc
            raise PagesUnavailable(f"temporal: {exc.status}") from exc
        except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
            raise PagesUnavailable("opinion update timed out") from exc
