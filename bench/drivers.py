"""What the benchmark does to a dossier, behind one interface: the service through its public
interfaces (``ServiceDriver``), or the bare workflow through a Temporal client
(``bench.baseline.BareDriver``). The timing, the concurrency and the phases are in ``bench.e2e``.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from bench.public import Agent, CraMember, Mailbox, Platform, webhook


class Driver(Protocol):
    async def file(self, i: int) -> int:
        """Files dossier ``i``; returns its number."""

    async def filed(self) -> None:
        """After each batch of filings (the platform's webhook)."""

    async def invitations(self) -> dict[int, float]:
        """Dossier number → arrival time of its first CRA invitation, for those arrived."""

    async def answer(self, number: int) -> float:
        """The committee's opinion; seconds of the POST (or of the update)."""

    async def admissibility(self, number: int) -> float:
        """Raises ``bench.public.Refused`` while the workflow is not there yet."""

    async def eligibility(self, number: int) -> float: ...

    async def decision(self, number: int) -> float:
        """Raises ``bench.public.Refused`` while the opinion has not reached the dossier."""

    async def closed(self, number: int) -> bool: ...


class ServiceDriver:
    """The service: platform stand-in, webhook, mailbox, CRA pages, agent API."""

    def __init__(self, urls: dict[str, str], secret: str, plain: httpx.AsyncClient,
                 member: httpx.AsyncClient, agent: httpx.AsyncClient) -> None:
        self._api, self._secret, self._plain = urls["api"], secret, plain
        self._platform = Platform(plain, urls["platform"])
        self._mailbox = Mailbox(plain, urls["mailbox"])
        self._member = CraMember(member, urls["api"])
        self._agent = Agent(agent, urls["api"])
        self._tokens: dict[int, str] = {}
        self._arrived: dict[int, float] = {}
        self._last_id = 0

    async def sign_in(self) -> None:
        await self._agent.sign_in()

    async def file(self, i: int) -> int:
        number, _ = await self._platform.file(i)
        return number

    async def filed(self) -> None:
        await webhook(self._plain, self._api, self._secret)

    async def invitations(self) -> dict[int, float]:
        for invitation in sorted(await self._mailbox.invitations(), key=lambda i: i.message_id):
            if invitation.number not in self._tokens:
                self._tokens[invitation.number] = invitation.token
                self._arrived[invitation.number] = invitation.received_at
        return self._arrived

    async def answer(self, number: int) -> float:
        return await self._member.answer(self._tokens[number])

    async def admissibility(self, number: int) -> float:
        return await self._agent.confirm_admissibility(number)

    async def eligibility(self, number: int) -> float:
        return await self._agent.record_eligibility(number)

    async def decision(self, number: int) -> float:
        return await self._agent.record_decision(number)

    async def closed(self, number: int) -> bool:
        return await self._agent.stage(number) == "closed"
