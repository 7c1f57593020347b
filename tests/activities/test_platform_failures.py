"""How platform failures reach Temporal: what is retried, after how long, and what is not.

Only a refusal retrying cannot cure is non-retryable (and parks the dossier); the token, the
network, our configuration, outages and the rate limit are retried; a dossier the platform no
longer shows is ``DossierNotFound``, which the workflow handles (restored or withdrawn).

One attempt of an activity (``ActivityEnvironment``) shows the error Temporal receives; the
probe workflow on the dev server shows Temporal's retries ending in success once the stand-in's
injected faults are used up.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.platform.client import PlatformRejected
from activities.platform.models import PlatformDecision
from core.domain.dossier import PlatformState
from core.domain.procedure import Outcome
from standins.platform import DEFAULT_INSTRUCTEUR_ID
from tests.activities.probe import PlatformProbe
from tests.activities.standin import STRANGER, TOKEN, StandIn, failure, run
from tests.api.site import free_port, serve


def assert_retryable(error: ApplicationError, kind: str) -> None:
    assert error.type == kind
    assert error.non_retryable is False


def assert_permanent(error: ApplicationError, message: str, kind: str = "PlatformRejected") -> None:
    assert error.type == kind
    assert error.non_retryable is True
    assert error.message == message  # the platform's own words, shown to admins in the UI


# ------------------------------------------------------------------ 429: rate limited

async def test_429_is_retried_when_the_window_resets(standin: StandIn) -> None:
    """The platform sends ``RateLimit-Reset`` (an epoch) and no ``Retry-After``."""
    number = await standin.file()
    await standin.fault(status=429, count=1, retry_after=7)

    error = await failure(standin.activities().passer_en_instruction, number)

    assert_retryable(error, "PlatformRateLimited")
    assert error.next_retry_delay is not None
    assert timedelta(seconds=6) <= error.next_retry_delay <= timedelta(seconds=8)
    assert await standin.mutations(number) == []
    # The next attempt goes through.
    assert await run(standin.activities().passer_en_instruction, number) == "en_instruction"


async def test_the_standins_configured_rate_limit_is_honoured(tmp_path: Path) -> None:
    platform = StandIn.create(tmp_path / "platform.db", rate_limit_per_minute=3)
    try:
        number = await platform.file()  # /_standin/ endpoints are not rate limited
        acts = platform.activities()
        await run(acts.fetch_dossier, number)
        await run(acts.passer_en_instruction, number)  # the 3rd request: still allowed

        error = await failure(acts.fetch_dossier, number)

        assert_retryable(error, "PlatformRateLimited")
        assert error.next_retry_delay is not None
        assert timedelta(seconds=1) <= error.next_retry_delay <= timedelta(seconds=60)
        # Counted per Authorization header: another token is not throttled.
        other = await platform.http.post(
            "/api/v2/graphql", headers={"Authorization": "Bearer autre-jeton"},
            json={"query": "{ demarche(number: 1001) { number } }"})
        assert other.status_code == 403  # unknown token, but not 429
    finally:
        await platform.aclose()


# ------------------------------------------------------------- 5xx, timeouts, network

async def test_500_is_retried_with_backoff(standin: StandIn) -> None:
    number = await standin.file()
    await standin.fault(status=500, count=1)

    error = await failure(standin.activities().passer_en_instruction, number)

    assert_retryable(error, "PlatformUnavailable")
    assert error.next_retry_delay is None  # the retry policy's backoff decides
    assert await standin.mutations(number) == []


@asynccontextmanager
async def served(platform: StandIn) -> AsyncIterator[str]:
    """The stand-in on a real port: timeouts only exist on a real socket."""
    port = free_port()
    async with serve(platform.app, port):
        yield f"http://127.0.0.1:{port}"


async def test_a_slow_answer_times_out_and_is_retried(standin: StandIn) -> None:
    number = await standin.file()
    async with served(standin) as base, httpx.AsyncClient(timeout=1.0) as impatient:
        acts = standin.activities(ds=standin.ds(http=impatient, url=f"{base}/api/v2/graphql"))
        await standin.fault(delay_ms=4000, count=1)  # slow, then a normal answer

        started = time.monotonic()
        error = await failure(acts.passer_en_instruction, number)

        assert time.monotonic() - started < 3.5  # gave up at the client's timeout, well before
        assert_retryable(error, "PlatformUnavailable")
        assert "Timeout" in error.message
        assert await run(acts.passer_en_instruction, number) == "en_instruction"
    assert await standin.mutations(number) == ["dossierPasserEnInstruction"]


async def test_an_unreachable_platform_is_retried(standin: StandIn) -> None:
    async with httpx.AsyncClient(timeout=1) as http:
        closed = f"http://127.0.0.1:{free_port()}/api/v2/graphql"  # nobody listens there
        acts = standin.activities(ds=standin.ds(http=http, url=closed))
        error = await failure(acts.fetch_dossier, 1)
    assert_retryable(error, "PlatformUnavailable")
    assert "ConnectError" in error.message


# ------------------------------------------- the token and the configuration: retried

async def test_an_instructeur_without_access_is_retried(standin: StandIn) -> None:
    """Adding the instructeur to the dossier's groupe cures it: retried, with an alert."""
    number = await standin.file()

    error = await failure(standin.activities(instructeur_id=STRANGER).passer_en_instruction,
                          number)

    assert_retryable(error, "PlatformConfiguration")
    assert error.message == "L’instructeur n’a pas les droits d’accès à ce dossier"
    assert (await standin.state(number))["state"] == "en_construction"


async def test_an_instructeur_id_the_platform_does_not_know_is_configuration(
        standin: StandIn) -> None:
    """A mutation's ``not_found`` names its payload: after a fresh read of the dossier, the
    activity tells an unknown instructeur from a dossier deleted meanwhile."""
    number = await standin.file()

    error = await failure(standin.activities(instructeur_id="pas-un-id").passer_en_instruction,
                          number)

    assert_retryable(error, "PlatformConfiguration")
    assert "PTCE_PLATFORM__INSTRUCTEUR_ID" in error.message


@pytest.mark.parametrize(("change", "status", "message"), [
    ({"expired": True}, 401, "Token expired"),
    ({"networks": ["10.0.0.0/8"]}, 403, "Request issued from a forbidden network. Add 127.0.0.1/32"
                                        " to your allowed adresses in your /profil"),
])
async def test_an_expired_token_or_a_forbidden_network_is_retried(
        standin: StandIn, change: dict[str, object], status: int, message: str) -> None:
    number = await standin.file()
    r = await standin.http.post("/_standin/tokens", json={"token": TOKEN, **change})
    r.raise_for_status()
    raw = await standin.http.post("/api/v2/graphql", headers={"Authorization": f"Bearer {TOKEN}"},
                                  json={"query": "{ demarche(number: 1001) { number } }"})
    assert raw.status_code == status  # the platform's status and body

    error = await failure(standin.activities().fetch_dossier, number)

    assert_retryable(error, "PlatformAuth")
    assert error.message == message


async def test_a_read_only_token_is_retried(standin: StandIn) -> None:
    number = await standin.file()
    (await standin.http.post("/_standin/tokens", json={"token": TOKEN, "write_access": False})
     ).raise_for_status()

    error = await failure(standin.activities().passer_en_instruction, number)

    assert_retryable(error, "PlatformAuth")
    assert error.message == "Le jeton utilisé est configuré seulement en lecture"


# ------------------------------------------------------------------ permanent errors


async def test_a_conflicting_decision_is_permanent(standin: StandIn) -> None:
    number = await standin.file()
    acts = standin.activities()
    await run(acts.decide, PlatformDecision(number=number, outcome=Outcome.LAUREAT, motivation=""))

    error = await failure(acts.decide, PlatformDecision(
        number=number, outcome=Outcome.NON_RETENU, motivation="Hors périmètre."))

    assert_permanent(error, "Le dossier est déjà accepté")
    assert (await standin.state(number))["state"] == "accepte"


async def test_a_mutation_in_the_wrong_state_is_rejected_with_the_platform_message(
        standin: StandIn) -> None:
    """``refuser`` on a dossier en construction, straight through the client."""
    number = await standin.file()
    dossier_id = (await standin.ds().execute("get_dossier", {"dossierNumber": number}))[
        "dossier"]["id"]
    with pytest.raises(PlatformRejected) as rejected:
        await standin.ds().mutate("refuser", "dossierRefuser", {
            "dossierId": dossier_id, "instructeurId": DEFAULT_INSTRUCTEUR_ID,
            "motivation": "Hors périmètre."})
    assert str(rejected.value) == "Le dossier est déjà en construction"


async def test_a_deleted_dossier_is_not_found_and_a_wrong_token_is_retried(
        standin: StandIn) -> None:
    number = await standin.file()
    (await standin.http.delete(f"/_standin/dossiers/{number}")).raise_for_status()  # hidden
    error = await failure(standin.activities().fetch_dossier, number)
    assert error.type == "DossierNotFound" and error.non_retryable
    error = await failure(standin.activities().passer_en_instruction, number)
    assert error.type == "DossierNotFound"

    other = await standin.file()
    wrong_token = standin.activities(ds=standin.ds(token="jeton-inconnu"))
    error = await failure(wrong_token.fetch_dossier, other)
    assert_retryable(error, "PlatformAuth")
    assert error.message == "Without a token, only persisted queries are allowed"


# ------------------------------------------------- under Temporal's retries (dev server)

@asynccontextmanager
async def probe_worker(env: WorkflowEnvironment, platform: StandIn,
                       instructeur_id: str | None = None) -> AsyncIterator[Worker]:
    acts = platform.activities(instructeur_id) if instructeur_id else platform.activities()
    async with Worker(env.client, task_queue=f"probe-{uuid.uuid4()}", workflows=[PlatformProbe],
                      activities=[acts.passer_en_instruction]) as worker:
        yield worker


async def probe(env: WorkflowEnvironment, worker: Worker, number: int) -> str:
    return await env.client.execute_workflow(
        PlatformProbe.run, number, id=f"probe-{uuid.uuid4()}", task_queue=worker.task_queue,
        execution_timeout=timedelta(seconds=30))


async def test_temporal_waits_retry_after_then_succeeds(dev_env: WorkflowEnvironment,
                                                        standin: StandIn) -> None:
    number = await standin.file()
    await standin.fault(status=429, count=1, retry_after=2)
    async with probe_worker(dev_env, standin) as worker:
        started = time.monotonic()
        result = await probe(dev_env, worker, number)
        elapsed = time.monotonic() - started

    assert result == PlatformState.EN_INSTRUCTION
    # The platform's 2 s, not the policy's 50 ms (the dev server fires short retry timers
    # within about a second, so a 1 s Retry-After would prove nothing).
    assert elapsed >= 2.0
    assert (await standin.http.get("/_standin/faults")).json()["count"] == 0
    assert await standin.mutations(number) == ["dossierPasserEnInstruction"]


async def test_temporal_retries_500s_then_succeeds(dev_env: WorkflowEnvironment,
                                                     standin: StandIn) -> None:
    number = await standin.file()
    await standin.fault(status=500, count=2)
    async with probe_worker(dev_env, standin) as worker:
        assert await probe(dev_env, worker, number) == PlatformState.EN_INSTRUCTION
    assert await standin.mutations(number) == ["dossierPasserEnInstruction"]


async def test_temporal_does_not_retry_a_dossier_the_platform_no_longer_shows(
        dev_env: WorkflowEnvironment, standin: StandIn) -> None:
    number = await standin.file()
    (await standin.http.delete(f"/_standin/dossiers/{number}")).raise_for_status()
    async with probe_worker(dev_env, standin) as worker:
        with pytest.raises(WorkflowFailureError) as failed:
            await probe(dev_env, worker, number)

    activity_error = failed.value.cause
    assert isinstance(activity_error, ActivityError)
    cause = activity_error.cause
    assert isinstance(cause, ApplicationError)
    assert cause.non_retryable and cause.type == "DossierNotFound"
    assert activity_error.retry_state is not None
    assert activity_error.retry_state.name == "NON_RETRYABLE_FAILURE"


def test_a_reset_less_than_a_second_away_or_past_is_waited_a_second() -> None:
    """``RateLimit-Reset`` is a whole second of the platform's clock: a reset 0.4 s away, or one
    our clock already passed, is waited one second, not retried at once into the same window."""
    from activities.platform.client import _retry_after

    def answer(reset: float) -> httpx.Response:
        return httpx.Response(429, headers={"RateLimit-Reset": str(int(reset))})

    assert _retry_after(answer(1_000_000), now=999_999.6) == 1.0
    assert _retry_after(answer(1_000_000), now=1_000_002.0) == 1.0
    assert _retry_after(answer(1_000_007), now=1_000_000.5) == 6.5
