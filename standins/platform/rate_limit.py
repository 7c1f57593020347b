"""The platform's rate limit on ``POST /api/v2/graphql``, off unless configured.

As ``config/initializers/rack_attack.rb``: ``throttle('/api/v2/graphql', limit:, period:
1.minute)`` keyed on the ``Authorization`` header, with Rack::Attack's fixed windows (the
counter of window ``now // period`` counts every request, throttled ones included). Over the
limit the answer is the throttled plain-text 429 of ``faults.py``, whose ``RateLimit-Reset`` is
the window's end (the platform sends no ``Retry-After``). Counters live in memory: a restart
forgets them, as a cache flush would on the platform.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

PERIOD_SECONDS = 60


@dataclass
class RateLimiter:
    limit: int
    period: int = PERIOD_SECONDS
    clock: Callable[[], float] = time.time
    _counts: dict[tuple[str, int], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, authorization: str | None) -> int | None:
        """Counts one request; None when allowed, else the window's end (``RateLimit-Reset``).

        Without an ``Authorization`` header the discriminator is nil and Rack::Attack does not
        throttle (such requests get a 403 further on anyway).
        """
        if not authorization:
            return None
        now = self.clock()
        window = int(now // self.period)
        key = (authorization, window)
        with self._lock:
            for stale in [k for k in self._counts if k[1] < window]:
                del self._counts[stale]
            self._counts[key] = count = self._counts.get(key, 0) + 1
        if count <= self.limit:
            return None
        return (window + 1) * self.period
