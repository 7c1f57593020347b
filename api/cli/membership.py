"""A worker checks that it belongs to the cluster before it polls a single task.

Workers share one task queue: one started with other codec keys (a production worker with fresh
keys joining a running stack, a copy-paste error in ``PTCE_CODEC__KEYS``) would take tasks,
fail to read the histories, and write results encrypted with a key the other workers lack,
failing the running dossiers for good. So before polling, the worker reads the most recent
executions of its task queue and refuses to start when a payload there names a key id it does
not hold, or when its key of that id does not open it. A fresh cluster has nothing to check.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from core.codec import ENCODING, KEY_ID, AesGcmCodec, CodecKeyError, parse_keys
from core.settings import Settings

RECENT_EXECUTIONS = 20
EVENTS_PER_EXECUTION = 200


class WorkerRefused(RuntimeError):
    """The worker would poison the cluster: the message names the setting to fix."""


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every payload inside a protobuf message (events, failures, headers, maps)."""
    if isinstance(message, Payload):
        yield message
        return
    for described, value in message.ListFields():
        if described.message_type is None:
            continue
        if isinstance(value, Message):
            items = [value]
        elif described.message_type.GetOptions().map_entry:
            items = list(value.values())
        else:  # repeated
            items = list(value)
        for item in items:
            if isinstance(item, Message):
                yield from payloads_in(item)


@dataclass
class KeyReport:
    """What the recent histories say about our keys: id -> a workflow that uses it."""

    missing: dict[str, str] = field(default_factory=dict)
    mismatched: dict[str, str] = field(default_factory=dict)
    opened: set[str] = field(default_factory=set)

    def problems(self) -> list[str]:
        return [
            *(f"PTCE_CODEC__KEYS lacks key id {k!r}, which encrypts the cluster's recent "
              f"histories (e.g. {w})" for k, w in sorted(self.missing.items())),
            *(f"PTCE_CODEC__KEYS: key {k!r} does not decrypt the cluster's recent histories "
              f"(e.g. {w}): another key under the same id" for k, w in sorted(self.mismatched.items())),
        ]


async def _check(codec: AesGcmCodec, payload: Payload, workflow_id: str, report: KeyReport) -> None:
    if payload.metadata.get("encoding") != ENCODING:
        return
    key_id = payload.metadata.get(KEY_ID, b"").decode()
    if key_id in report.opened or key_id in report.mismatched or key_id in report.missing:
        return
    if key_id not in codec.key_ids:
        report.missing[key_id] = workflow_id
        return
    try:
        await codec.decode([payload])
    except (InvalidTag, CodecKeyError):
        report.mismatched[key_id] = workflow_id
    else:
        report.opened.add(key_id)


async def key_report(client: Client, settings: Settings) -> KeyReport | None:
    """None when the cluster cannot list executions (the time-skipping test server)."""
    codec = AesGcmCodec(parse_keys(settings.codec.keys), allow_plaintext=True)
    report = KeyReport()
    query = f"TaskQueue = '{settings.temporal.task_queue}'"
    try:
        executions = [e async for e in client.list_workflows(query, limit=RECENT_EXECUTIONS)]
    except RPCError as exc:
        if exc.status in (RPCStatusCode.UNIMPLEMENTED, RPCStatusCode.INVALID_ARGUMENT):
            return None
        raise
    for execution in executions:
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        seen = 0
        async for event in handle.fetch_history_events(page_size=EVENTS_PER_EXECUTION):
            for payload in payloads_in(event):
                await _check(codec, payload, execution.id, report)
            seen += 1
            if seen >= EVENTS_PER_EXECUTION:
                break
    return report


async def ensure_belongs(client: Client, settings: Settings) -> None:
    """Raises WorkerRefused, naming ``PTCE_CODEC__KEYS``, before the worker polls."""
    report = await key_report(client, settings)
    if report is not None and report.problems():
        raise WorkerRefused("refusing to start this worker: " + "; ".join(report.problems())
                            + ". Give it the cluster's keys (newest first), or another "
                            "PTCE_TEMPORAL__TASK_QUEUE / namespace.")
