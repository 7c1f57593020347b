"""A failure that retrying cannot cure parks the step, never the workflow in Failed.

Every activity a dossier (or a consultation) runs goes through ``Blocking._guarded``. Transport,
authentication and configuration errors never get here: they retry (with backoff, and an alert
from the stuck finder); what arrives is a non-retryable refusal or an exhausted schedule. The
step then becomes a ``Block``: shown in the current details and the ``BlockedStep`` search
attribute, listed by ``ptce admin stuck``, announced to the admins by email; the coroutine waits
until an admin resolves it with the ``resume`` Update: retry the step, skip it (done by hand),
or close the execution with the reason as motivation.

Executions that never block issue exactly the commands they issued before this module existed:
nothing here runs until an activity fails for good.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from activities.mail.activities import MailActivities
    from activities.mail.models import EmailRequest
    from core.domain.admin import Block, BlockAction, BlockResolution
    from core.telemetry.logs import redact
    from workflows import options
    from workflows import search_attributes as sa
    from workflows.requests import IN_QUEUE, Requests

T = TypeVar("T")


class ClosedByAdmin(Exception):
    """Raised inside the run when an admin closes a blocked step: the run ends there."""

    def __init__(self, resolution: BlockResolution) -> None:
        super().__init__(resolution.reason)
        self.resolution = resolution


def _cause(err: ActivityError) -> tuple[str | None, str]:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return cause.type, cause.message
    if cause is not None:
        return type(cause).__name__, str(cause)
    return None, str(err)


class Blocking(Requests):
    """Mixin of both workflows. ``_republish`` shows the blocks; ``_alert_context`` names the case."""

    def _init_blocking(self) -> None:
        self._init_requests()
        self._blocks: dict[int, Block] = {}
        self._resolutions: dict[int, BlockResolution] = {}
        self._blocks_seen = 0  # blocks ever opened: also their ids
        self._alerts: list[asyncio.Task[None]] = []

    def _republish(self) -> None:
        raise NotImplementedError

    def _alert_context(self) -> dict[str, Any]:
        raise NotImplementedError

    def _block_key(self, purpose: str) -> str:
        return f"{workflow.info().workflow_id}:{purpose}"

    async def _guarded(self, step: str, label: str, start: Callable[[], Awaitable[T]], *,
                       skippable: bool = True) -> T | None:
        """Runs ``start()`` until it succeeds (its result) or an admin skips the step (None).

        Only the run's own steps may be closed: a step of an Update handler (an admin's
        amendment, in its handler or in the queue) can be retried or skipped, and it goes on.
        """
        closable = workflow.current_update_info() is None and not IN_QUEUE.get()
        while True:
            try:
                return await start()
            except ActivityError as err:
                if isinstance(err.cause, CancelledError):
                    raise
                resolution = await self._park(step, label, err, skippable, closable)
            if resolution.action is BlockAction.SKIP:
                return None
            if resolution.action is BlockAction.CLOSE:
                raise ClosedByAdmin(resolution)

    async def _park(self, step: str, label: str, err: ActivityError, skippable: bool,
                    closable: bool) -> BlockResolution:
        self._blocks_seen += 1
        error_type, message = _cause(err)
        block = Block(id=self._blocks_seen, step=step, label=label, error_type=error_type,
                      message=redact(message)[:500], since=workflow.now(), skippable=skippable,
                      closable=closable)
        self._blocks[block.id] = block
        workflow.logger.warning("step blocked", extra={"step": step, "error_type": error_type})
        self._republish()
        # In the background: the block is visible at once, whatever the mail server does.
        self._alerts.append(asyncio.create_task(self._alert(block)))
        await workflow.wait_condition(lambda: block.id in self._resolutions)
        del self._blocks[block.id]
        resolution = self._resolutions.pop(block.id)
        self._republish()
        return resolution

    async def _alert(self, block: Block) -> None:
        try:
            await workflow.execute_activity_method(
                MailActivities.send_email,
                EmailRequest(key=self._block_key(f"blocked-{block.id}"), template="blocked_alert",
                             to=[], to_admins=True,
                             context={**self._alert_context(), "label": block.label,
                                      "step": block.step, "message": block.message,
                                      "since": block.since, "workflow_id": workflow.info().workflow_id}),
                **options.alert(f"Alerte administrateurs : {block.label} bloqué"))
        except ActivityError:
            workflow.logger.warning("blocked alert not sent", extra={"step": block.step})

    def _block_attributes(self) -> list[SearchAttributeUpdate[Any]]:
        """``BlockedStep``: only for executions that ever blocked (others replay unchanged)."""
        if not self._blocks_seen:
            return []
        if self._blocks:
            return [sa.BLOCKED_STEP.value_set(next(iter(self._blocks.values())).step)]
        return [sa.BLOCKED_STEP.value_unset()]

    def _block_lines(self) -> list[str]:
        return [f"**Bloqué** : {b.label} — {b.message} (depuis le {b.since:%d/%m/%Y %H:%M} UTC ; "
                f"reprise : `ptce admin resume`)" for b in self._blocks.values()]

    @workflow.update(name="resume")
    def resume(self, resolution: BlockResolution) -> Block:
        if self._known():  # a retry of a request applied already
            answered: Block = self._answered()
            return answered
        block = self._target(resolution)
        self._resolutions[block.id] = resolution
        return self._done(block)

    @resume.validator
    def _validate_resume(self, resolution: BlockResolution) -> None:
        if self._known():
            return
        block = self._target(resolution)
        if block.id in self._resolutions:
            raise ApplicationError("this block is being resumed", type="Busy")
        if resolution.action is BlockAction.SKIP and not block.skippable:
            raise ApplicationError("this step cannot be skipped", type="NotSkippable")
        if resolution.action is BlockAction.CLOSE and not block.closable:
            raise ApplicationError("this step cannot close the execution", type="NotClosable")

    def _target(self, resolution: BlockResolution) -> Block:
        if resolution.block is not None:
            if resolution.block not in self._blocks:
                raise ApplicationError("no such block", type="NotBlocked")
            return self._blocks[resolution.block]
        if not self._blocks:
            raise ApplicationError("nothing is blocked", type="NotBlocked")
        if len(self._blocks) > 1:
            raise ApplicationError("several blocks: name one", type="WhichBlock")
        return next(iter(self._blocks.values()))

    @workflow.query(name="blocks")
    def blocks(self) -> list[Block]:
        return list(self._blocks.values())
