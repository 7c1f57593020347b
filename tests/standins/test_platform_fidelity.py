"""The stand-in where it models what the platform's source does beyond the happy path: tokens
pinned to their first caller's address, ids read by their stable id, groupes routed by region,
the applicant's deletion (hidden, restorable, purged and back-dated), bad rows."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from standins.platform import DEFAULT_INSTRUCTEUR_ID, create_app
from tests.standins.test_platform_standin import (
    DEMARCHE,
    FIELDS,
    TOKEN,
    data,
    deposer,
    gql,
    mutate,
    operation,
)

QUERY = "{ demarche(number: 1001) { number } }"


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return create_app(tmp_path / "platform.db", TOKEN, DEFAULT_INSTRUCTEUR_ID)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://standin") as http:
        yield http


def from_address(app: FastAPI, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 4242)),
                             base_url="http://standin")


async def test_a_token_is_pinned_to_its_first_callers_address(app: FastAPI,
                                                             client: httpx.AsyncClient) -> None:
    assert (await gql(client, QUERY)).status_code == 200  # from 127.0.0.1: now pinned
    [token] = (await client.get("/_standin/tokens")).json()
    assert token["networks"] == ["127.0.0.1/32"] and token["expires_at"] is not None

    async with from_address(app, "192.0.2.7") as elsewhere:  # a second worker, another NAT
        refused = await gql(elsewhere, QUERY)
    assert refused.status_code == 403
    assert refused.json()["errors"][0] == {"message": (
        "Request issued from a forbidden network. Add 192.0.2.7/32 to your allowed adresses "
        "in your /profil"), "extensions": {"code": "forbidden"}}

    await client.post("/_standin/tokens", json={"token": TOKEN, "networks": ["192.0.2.0/24",
                                                                            "127.0.0.0/8"]})
    async with from_address(app, "192.0.2.7") as elsewhere:
        assert (await gql(elsewhere, QUERY)).status_code == 200


async def test_an_expired_token_is_a_401_with_the_platforms_body(client: httpx.AsyncClient) -> None:
    await client.post("/_standin/tokens", json={"token": TOKEN, "expired": True})
    expired = await gql(client, QUERY)
    assert expired.status_code == 401
    assert expired.json() == {"errors": [{"message": "Token expired",
                                          "extensions": {"code": "unauthorized"}}], "data": None}
    await client.post("/_standin/tokens", json={"token": "un-autre-jeton"})  # a rotation
    fresh = await client.post("/api/v2/graphql", json={"query": QUERY},
                              headers={"Authorization": "Bearer un-autre-jeton"})
    assert fresh.status_code == 200


async def test_an_annotation_is_read_by_its_stable_id_whatever_its_prefix(
        client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    other_prefix = base64.b64encode(b"Annotation-201").decode()  # the platform ignores it
    payload = await mutate(client, "modifier_annotations.graphql", number,
                           annotations=[{"id": other_prefix, "value": {"text": "Favorable"}}])
    assert payload["errors"] is None
    assert payload["annotations"][0]["id"] == base64.b64encode(b"Champ-201").decode()


async def test_dossiers_are_routed_to_groupes_and_need_an_instructeur_of_theirs(
        client: httpx.AsyncClient) -> None:
    bretagne = await deposer(client)  # region 53: groupe 2
    ailleurs = await deposer(client, {**FIELDS, "region": "84"})
    groupes = {g["number"]: g for g in (await client.get("/_standin/groupes")).json()}
    assert set(groupes) == {1, 2, 3} and DEFAULT_INSTRUCTEUR_ID in groupes[2]["instructeurs"]
    await client.delete(f"/_standin/groupes/2/instructeurs/{DEFAULT_INSTRUCTEUR_ID}")

    refused = await mutate(client, "passer_en_instruction.graphql", bretagne)
    assert refused["errors"] == [{"message": "L’instructeur n’a pas les droits d’accès à ce dossier"}]
    assert (await mutate(client, "passer_en_instruction.graphql", ailleurs))["errors"] is None
    dossier = (await data(client, operation("get_dossier.graphql"), {"dossierNumber": bretagne}))
    assert dossier["dossier"]["groupeInstructeur"]["number"] == 2


async def pending(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    page = await data(client, operation("pending_deleted_dossiers.graphql"),
                      {"demarcheNumber": DEMARCHE})
    return [{**e["node"], "cursor": e["cursor"]}
            for e in page["demarche"]["pendingDeletedDossiers"]["edges"]]


def instant(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split(";")[0]


async def test_the_applicants_deletion_hides_then_the_purge_back_dates(
        client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    await client.delete(f"/_standin/dossiers/{number}")

    missing = await gql(client, operation("get_dossier.graphql"), {"dossierNumber": number})
    assert missing.json()["errors"][0]["extensions"]["code"] == "not_found"
    [hidden] = await pending(client)
    assert (hidden["number"], hidden["reason"]) == (number, "user_request")
    refused = await gql(client, operation("passer_en_instruction.graphql"), {"input": {
        "dossierId": base64.b64encode(f"Dossier-{number}".encode()).decode(),
        "instructeurId": DEFAULT_INSTRUCTEUR_ID}})
    assert refused.json()["errors"][0]["extensions"]["code"] == "not_found"

    assert (await client.post(f"/_standin/dossiers/{number}/restore")).status_code == 200
    assert await pending(client) == []
    await client.delete(f"/_standin/dossiers/{number}")
    [again] = await pending(client)
    assert (await client.post("/_standin/purge", json={})).json()["purged"] == []  # 2 weeks
    assert (await client.post("/_standin/purge", json={"older_than_seconds": 0})).json() == {
        "purged": [number]}

    assert await pending(client) == []
    page = await data(client, operation("deleted_dossiers.graphql"), {"demarcheNumber": DEMARCHE})
    [gone] = page["demarche"]["deletedDossiers"]["edges"]
    assert gone["node"]["number"] == number
    # The row is dated at the applicant's deletion, not at the purge (its cursor too).
    assert instant(gone["cursor"]) == instant(again["cursor"])


async def test_a_bad_row_is_a_top_level_invalid_null(client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    await client.post(f"/_standin/dossiers/{number}/flags", json={"bad_data": True})
    answer = (await gql(client, operation("get_dossier.graphql"), {"dossierNumber": number})).json()
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"] == {"code": "invalid_null"}
