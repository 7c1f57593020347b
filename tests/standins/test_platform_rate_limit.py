"""The stand-in's configured rate limit: Rack::Attack's, per Authorization header and minute."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from standins.platform import DEFAULT_INSTRUCTEUR_ID, create_app
from standins.platform.rate_limit import RateLimiter
from tests.standins.test_platform_standin import TOKEN, client_for, gql

QUERY = "{ demarche(number: 1001) { number } }"


async def statuses(http: httpx.AsyncClient, count: int, token: str = TOKEN) -> list[int]:
    return [(await gql(http, QUERY, token=token)).status_code for _ in range(count)]


async def test_no_limit_by_default(tmp_path: Path) -> None:
    async with client_for(create_app(tmp_path / "p.db", TOKEN, DEFAULT_INSTRUCTEUR_ID)) as http:
        assert set(await statuses(http, 30)) == {200}


async def test_over_the_limit_answers_429_like_the_platform(tmp_path: Path) -> None:
    app = create_app(tmp_path / "p.db", TOKEN, DEFAULT_INSTRUCTEUR_ID, rate_limit_per_minute=3)
    async with client_for(app) as http:
        assert await statuses(http, 3) == [200, 200, 200]

        throttled = await gql(http, QUERY)

        assert throttled.status_code == 429
        assert throttled.headers["content-type"].startswith("text/plain")  # not GraphQL JSON
        assert "Calm down, cowboy!" in throttled.text
        # The platform's own responder: no Retry-After, the window's end as an epoch.
        assert "retry-after" not in throttled.headers
        assert throttled.headers["ratelimit-remaining"] == "0"
        assert 0 <= int(throttled.headers["ratelimit-reset"]) - time.time() <= 60

        # Keyed on the Authorization header: another header has its own count…
        assert await statuses(http, 2, token="autre-jeton") == [403, 403]
        # …and the admin and applicant endpoints are not limited at all.
        assert (await http.get("/_standin/dossiers")).status_code == 200


async def test_the_window_is_a_fixed_minute(tmp_path: Path) -> None:
    app = create_app(tmp_path / "p.db", TOKEN, DEFAULT_INSTRUCTEUR_ID, rate_limit_per_minute=2)
    limiter: RateLimiter = app.state.rate_limiter
    now = [600.0]  # the stand-in's clock, moved by hand: the start of a minute
    limiter.clock = lambda: now[0]
    async with client_for(app) as http:
        assert await statuses(http, 3) == [200, 200, 429]
        now[0] = 645.0
        throttled = await gql(http, QUERY)
        assert (throttled.status_code, throttled.headers["ratelimit-reset"]) == (429, "660")
        now[0] = 660.0  # the next minute: a fresh count
        assert await statuses(http, 3) == [200, 200, 429]
