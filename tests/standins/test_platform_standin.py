"""The platform stand-in behaves like demarche.numerique.gouv.fr's GraphQL API v2."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.cli.ports import free_port
from standins.platform import DEFAULT_INSTRUCTEUR_ID, create_app
from tests.api.site import serve

TOKEN = "jeton-de-test"
DEMARCHE = 1001
OPERATIONS = Path(__file__).parents[2] / "activities" / "platform" / "graphql"
AVIS_CRA = base64.b64encode(b"Champ-201").decode()
ETAPE = base64.b64encode(b"Champ-202").decode()

FIELDS: dict[str, Any] = {
    "project_name": "PTCE de la vallée de la Rance",
    "region": "53",
    "other_regions": ["Normandie", "Pays de la Loire"],
    "structure_name": "Coopérative de la Rance",
    "structure_address": "12 rue de la Paix 35000 Rennes",
    "legal_form": "Coopérative",
    "esus_approved": True,
    "statutes": ["statuts.pdf"],
    "referent_last_name": "Martin",
    "referent_first_name": "Élodie",
    "territory_qpv": True,
    "territory_zrr": False,
}


def operation(filename: str) -> str:
    return (OPERATIONS / filename).read_text(encoding="utf-8")


def dossier_id(number: int) -> str:
    return base64.b64encode(f"Dossier-{number}".encode()).decode()


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://standin")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "platform.sqlite3"


@pytest.fixture
async def client(db_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_app(db_path, TOKEN, DEFAULT_INSTRUCTEUR_ID)) as http:
        yield http


async def gql(
    http: httpx.AsyncClient, query: str, variables: Any = None, token: str | None = TOKEN
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.post("/api/v2/graphql", json={"query": query, "variables": variables}, headers=headers)


async def data(http: httpx.AsyncClient, query: str, variables: Any = None) -> dict[str, Any]:
    response = await gql(http, query, variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


async def deposer(http: httpx.AsyncClient, fields: dict[str, Any] | None = None) -> int:
    response = await http.post(
        "/_standin/dossiers",
        json={"usager_email": "elodie.martin@exemple.fr", "fields": fields or FIELDS},
    )
    assert response.status_code == 201, response.text
    number: int = response.json()["number"]
    return number


async def mutate(http: httpx.AsyncClient, filename: str, number: int, **extra: Any) -> dict[str, Any]:
    result = await data(http, operation(filename), mutation_input(number, **extra))
    payload: dict[str, Any] = next(iter(result.values()))
    return payload


async def state_of(http: httpx.AsyncClient, number: int) -> dict[str, Any]:
    response = await http.get(f"/_standin/dossiers/{number}")
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


async def get_dossier(http: httpx.AsyncClient, number: int) -> dict[str, Any]:
    result = await data(http, operation("get_dossier.graphql"), {"dossierNumber": number})
    dossier: dict[str, Any] = result["dossier"]
    return dossier


def mutation_input(number: int, **extra: Any) -> dict[str, Any]:
    return {"input": {"dossierId": dossier_id(number), "instructeurId": DEFAULT_INSTRUCTEUR_ID, **extra}}


async def test_every_client_operation_runs_against_the_standin(client: httpx.AsyncClient) -> None:
    accepted, refused, dropped, corrected = [await deposer(client) for _ in range(4)]
    await mutate(
        client, "envoyer_message.graphql", corrected, body="Pièce manquante", correction="incomplete"
    )
    correction_message = (await get_dossier(client, corrected))["messages"][-1]["id"]

    runs: list[tuple[str, dict[str, Any]]] = [
        ("get_dossier.graphql", {"dossierNumber": accepted}),
        ("get_dossier_annotations.graphql", {"dossierNumber": accepted}),
        ("dossiers_updated_since.graphql", {"demarcheNumber": DEMARCHE, "updatedSince": "2020-01-01"}),
        ("pending_deleted_dossiers.graphql", {"demarcheNumber": DEMARCHE}),
        ("deleted_dossiers.graphql", {"demarcheNumber": DEMARCHE}),
        ("check_demarche.graphql", {"demarcheNumber": DEMARCHE}),
        ("passer_en_instruction.graphql", mutation_input(accepted)),
        ("passer_en_instruction.graphql", mutation_input(refused)),
        ("passer_en_instruction.graphql", mutation_input(dropped)),
        ("envoyer_message.graphql", mutation_input(accepted, body="Bonjour")),
        (
            "modifier_annotations.graphql",
            mutation_input(accepted, annotations=[{"id": AVIS_CRA, "value": {"text": "Avis favorable"}}]),
        ),
        ("accepter.graphql", mutation_input(accepted, motivation="Retenu par le comité")),
        ("refuser.graphql", mutation_input(refused, motivation="Hors périmètre")),
        ("classer_sans_suite.graphql", mutation_input(dropped, motivation="Doublon")),
        (
            "annuler_demande_correction.graphql",
            {"input": {"messageId": correction_message, "instructeurId": DEFAULT_INSTRUCTEUR_ID}},
        ),
    ]
    for filename, variables in runs:
        result = await data(client, operation(filename), variables)
        for payload in result.values():
            assert payload is not None, filename
            assert payload.get("errors") is None, (filename, payload)
    # The write-access probe of ``ptce platform check`` names a dossier that cannot exist.
    probe = await gql(client, operation("check_write_access.graphql"), mutation_input(0, annotations=[]))
    assert probe.json()["errors"][0]["extensions"]["code"] == "not_found"
    assert {filename for filename, _ in runs} | {"check_write_access.graphql"} == {
        path.name for path in OPERATIONS.glob("*.graphql")}

    dossier = await get_dossier(client, accepted)
    assert dossier["state"] == "accepte"
    assert [t["event"] for t in dossier["traitements"]] == ["depose", "passe_en_instruction", "accepte"]
    assert dossier["traitements"][-1]["motivation"] == "Retenu par le comité"
    assert (await get_dossier(client, corrected))["dateDerniereCorrectionEnAttente"] is None


async def test_get_dossier_shows_typed_champs(client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    dossier = await get_dossier(client, number)
    assert dossier["id"] == dossier_id(number)
    assert dossier["usager"] == {"email": "elodie.martin@exemple.fr"}
    assert dossier["demarche"]["number"] == DEMARCHE
    champs = {champ["label"]: champ for champ in dossier["champs"]}
    assert champs["Nom du projet"]["__typename"] == "TextChamp"
    assert champs["Nom du projet"]["value"] == FIELDS["project_name"]
    assert champs["Nom du projet"]["champDescriptorId"] == "Q2hhbXAtMTAx"
    region = champs["Région principale du projet"]
    assert region["region"] == {"name": "Bretagne", "code": "53"}
    assert region["stringValue"] == "Bretagne"
    assert champs["Autres régions concernées"]["values"] == ["Normandie", "Pays de la Loire"]
    address = champs["Adresse de la structure porteuse"]["address"]
    assert address["postalCode"] == "35000"
    assert address["cityName"] == "Rennes"
    assert (address["departmentCode"], address["regionCode"]) == ("35", "53")
    assert champs["Forme juridique"]["value"] == "Coopérative"
    esus = champs["La structure bénéficie-t-elle de l’agrément ESUS ?"]
    assert (esus["__typename"], esus["selected"]) == ("YesNoChamp", True)
    qpv = champs["Le territoire comprend un quartier prioritaire de la politique de la ville (QPV)"]
    assert (qpv["__typename"], qpv["checked"], qpv["stringValue"]) == ("CheckboxChamp", True, "true")
    zrr = champs["Le territoire comprend une zone de revitalisation rurale (ZRR)"]
    assert zrr["checked"] is False
    files = champs["Statuts de la structure porteuse"]["files"]
    assert files[0]["filename"] == "statuts.pdf"
    assert files[0]["contentType"] == "application/pdf"
    assert isinstance(files[0]["byteSize"], str)  # BigInt travels as text


async def test_query_the_platform_would_reject_is_rejected(client: httpx.AsyncClient) -> None:
    invalid = await gql(client, "{ dossier(number: 1) { id numero } }")
    assert invalid.status_code == 200
    assert invalid.json()["data"] is None
    assert "numero" in invalid.json()["errors"][0]["message"]

    refuser_without_motivation = (
        'mutation { dossierRefuser(input: {dossierId: "x", instructeurId: "y"}) { errors { message } } }'
    )
    missing_argument = await gql(client, refuser_without_motivation)
    assert missing_argument.json()["data"] is None
    assert "motivation" in missing_argument.json()["errors"][0]["message"]

    unparsable = await gql(client, "{ dossier(number: 1) { id ")
    assert unparsable.status_code == 400
    error = unparsable.json()["errors"][0]
    assert error["extensions"] == {"code": "graphql_parse_failed"}


async def test_requests_need_the_token(client: httpx.AsyncClient) -> None:
    for token in (None, "mauvais-jeton"):
        response = await gql(client, "{ demarche(number: 1001) { number } }", token=token)
        assert response.status_code == 403
        assert response.json() == {
            "errors": [
                {
                    "message": "Without a token, only persisted queries are allowed",
                    "extensions": {"code": "forbidden"},
                }
            ],
            "data": None,
        }


async def test_unknown_dossier_is_a_top_level_not_found(client: httpx.AsyncClient) -> None:
    response = await gql(client, operation("get_dossier.graphql"), {"dossierNumber": 404})
    body = response.json()
    assert response.status_code == 200
    assert body["data"] is None
    assert body["errors"][0]["message"] == "Dossier not found"
    assert body["errors"][0]["extensions"] == {"code": "not_found"}


async def test_variables_may_be_a_json_string(client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    variables = json.dumps({"dossierNumber": number})
    result = await data(client, operation("get_dossier.graphql"), variables)
    assert result["dossier"]["number"] == number


async def poll(http: httpx.AsyncClient, after: str | None, first: int = 100) -> dict[str, Any]:
    variables = {
        "demarcheNumber": DEMARCHE,
        "updatedSince": "2020-01-01T00:00:00Z",
        "first": first,
        "after": after,
    }
    result = await data(http, operation("dossiers_updated_since.graphql"), variables)
    page: dict[str, Any] = result["demarche"]["dossiers"]
    return page


def nodes(page: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in page["edges"]]


async def test_cursor_pagination_returns_dossiers_changed_after_the_cursor(
    client: httpx.AsyncClient,
) -> None:
    numbers = [await deposer(client) for _ in range(3)]

    first_page = await poll(client, None, first=2)
    assert [node["number"] for node in nodes(first_page)] == numbers[:2]
    assert first_page["pageInfo"]["hasNextPage"] is True
    cursor = first_page["pageInfo"]["endCursor"]
    decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    timestamp, _, key = decoded.partition(";")
    assert key == str(numbers[1]) and timestamp.endswith("Z") and len(timestamp) == 30

    second_page = await poll(client, cursor, first=2)
    assert [node["number"] for node in nodes(second_page)] == numbers[2:]
    assert second_page["pageInfo"]["hasNextPage"] is False
    saved_cursor = second_page["pageInfo"]["endCursor"]

    assert nodes(await poll(client, saved_cursor)) == []
    edited = await client.patch(
        f"/_standin/dossiers/{numbers[0]}", json={"fields": {"project_name": "Nouveau nom"}}
    )
    assert edited.status_code == 200
    await mutate(client, "passer_en_instruction.graphql", numbers[1])

    changed = await poll(client, saved_cursor)
    assert [node["number"] for node in nodes(changed)] == [numbers[0], numbers[1]]
    assert nodes(changed)[1]["state"] == "en_instruction"
    assert changed["edges"][-1]["cursor"] == changed["pageInfo"]["endCursor"]


async def test_wrong_state_is_an_error_as_data(client: httpx.AsyncClient) -> None:
    number = await deposer(client)

    early = await mutate(client, "accepter.graphql", number)
    assert early == {"dossier": None, "errors": [{"message": "Le dossier est déjà en construction"}]}

    assert (await mutate(client, "passer_en_instruction.graphql", number))["errors"] is None
    again = await mutate(client, "passer_en_instruction.graphql", number)
    assert again["dossier"] is None
    assert again["errors"] == [{"message": "Le dossier est déjà en instruction"}]

    await mutate(client, "refuser.graphql", number, motivation="Hors périmètre")
    late = await mutate(client, "classer_sans_suite.graphql", number, motivation="Doublon")
    assert late["errors"] == [{"message": "Le dossier est déjà refusé"}]
    reopen = await mutate(client, "passer_en_instruction.graphql", number)
    assert reopen["errors"] == [{"message": "Le dossier est déjà refusé"}]

    log = (await client.get("/_standin/mutations", params={"dossier": number})).json()
    assert [entry["name"] for entry in log] == ["dossierPasserEnInstruction", "dossierRefuser"]
    assert log[1]["input"]["motivation"] == "Hors périmètre"


async def test_other_instructeur_has_no_access(client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    stranger = base64.b64encode(b"Instructeur-2").decode()
    variables = {"input": {"dossierId": dossier_id(number), "instructeurId": stranger}}
    result = await data(client, operation("passer_en_instruction.graphql"), variables)
    assert result["dossierPasserEnInstruction"]["errors"] == [
        {"message": "L’instructeur n’a pas les droits d’accès à ce dossier"}
    ]
    assert (await state_of(client, number))["state"] == "en_construction"


async def test_every_applied_mutation_moves_date_derniere_modification(
    client: httpx.AsyncClient,
) -> None:
    number = await deposer(client)
    seen = [(await state_of(client, number))["updated_at_us"]]
    steps: list[tuple[str, dict[str, Any]]] = [
        ("passer_en_instruction.graphql", {}),
        ("envoyer_message.graphql", {"body": "Merci pour votre dossier."}),
        (
            "modifier_annotations.graphql",
            {"annotations": [{"id": ETAPE, "value": {"text": "Comité régional"}}]},
        ),
        ("accepter.graphql", {}),
    ]
    for filename, extra in steps:
        assert (await mutate(client, filename, number, **extra))["errors"] is None
        seen.append((await state_of(client, number))["updated_at_us"])
    assert seen == sorted(set(seen))
    log = (await client.get("/_standin/mutations", params={"dossier": number})).json()
    assert len(log) == len(steps)


async def test_correction_flow(client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    await mutate(client, "passer_en_instruction.graphql", number)

    sent = await mutate(
        client,
        "envoyer_message.graphql",
        number,
        body="Merci de joindre les statuts signés.",
        correction="incomplete",
    )
    assert sent["errors"] is None
    dossier = await get_dossier(client, number)
    assert dossier["state"] == "en_construction"
    assert dossier["dateDerniereCorrectionEnAttente"] is not None
    assert dossier["messages"][-1]["correction"] == {"reason": "incomplete", "dateResolution": None}
    assert dossier["traitements"][-1]["event"] == "repasse_en_construction"

    twice = await mutate(client, "envoyer_message.graphql", number, body="Encore ?", correction="incorrect")
    assert twice["errors"] == [{"message": "Une demande de correction est déjà en attente sur ce dossier"}]
    blocked = await mutate(client, "passer_en_instruction.graphql", number)
    assert blocked["errors"] == [{"message": "Le dossier est en attente de correction"}]

    before = (await state_of(client, number))["updated_at_us"]
    edited = await client.patch(
        f"/_standin/dossiers/{number}", json={"fields": {"statutes": ["statuts-signes.pdf"]}}
    )
    assert edited.status_code == 200
    assert edited.json()["pending_correction"] is False
    assert edited.json()["updated_at_us"] > before

    dossier = await get_dossier(client, number)
    assert dossier["dateDerniereCorrectionEnAttente"] is None
    assert dossier["messages"][-1]["correction"]["dateResolution"] is not None
    assert (await mutate(client, "passer_en_instruction.graphql", number))["errors"] is None


async def test_cancelled_correction_lets_the_dossier_be_instructed(client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    await mutate(client, "envoyer_message.graphql", number, body="À compléter", correction="incomplete")
    message_id = (await get_dossier(client, number))["messages"][-1]["id"]
    cancel = operation("annuler_demande_correction.graphql")
    variables = {"input": {"messageId": message_id, "instructeurId": DEFAULT_INSTRUCTEUR_ID}}

    first = await data(client, cancel, variables)
    assert first["dossierAnnulerDemandeCorrection"]["errors"] is None
    second = await data(client, cancel, variables)
    assert second["dossierAnnulerDemandeCorrection"]["errors"] == [
        {"message": "La demande de correction ne peut pas être annulée"}
    ]
    assert (await mutate(client, "passer_en_instruction.graphql", number))["errors"] is None


async def test_mutation_on_unknown_dossier_is_a_top_level_not_found(client: httpx.AsyncClient) -> None:
    response = await gql(client, operation("passer_en_instruction.graphql"), mutation_input(404))
    body = response.json()
    assert body["data"] == {"dossierPasserEnInstruction": None}
    assert body["errors"][0]["extensions"] == {"code": "not_found"}


async def test_correction_refused_once_decided(client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    await mutate(client, "passer_en_instruction.graphql", number)
    await mutate(client, "accepter.graphql", number)
    late = await mutate(client, "envoyer_message.graphql", number, body="Une pièce ?", correction="outdated")
    assert late["errors"] == [
        {"message": "Le dossier ne peut pas faire l’objet d’une demande de correction car il est accepté"}
    ]


async def test_annotations_are_saved_one_by_one(client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    payload = await mutate(
        client,
        "modifier_annotations.graphql",
        number,
        annotations=[
            {"id": AVIS_CRA, "value": {"text": "Avis favorable du CRA"}},
            {"id": "Q2hhbXAtOTk5", "value": {"text": "?"}},
            {"id": ETAPE, "value": {"checkbox": True}},
        ],
    )
    assert payload["annotations"] == [
        {"id": AVIS_CRA, "champDescriptorId": AVIS_CRA, "stringValue": "Avis favorable du CRA"}
    ]
    assert payload["errors"] == [
        {"message": 'L‘annotation "Q2hhbXAtOTk5" n’existe pas'},
        {"message": f'L‘annotation "{ETAPE}" n’est pas de type attendu'},
    ]
    annotations = (await state_of(client, number))["annotations"]
    assert annotations[AVIS_CRA]["value"] == "Avis favorable du CRA"
    assert annotations[ETAPE]["value"] is None


async def test_deleted_dossiers_leave_the_list(client: httpx.AsyncClient) -> None:
    kept, deleted = await deposer(client), await deposer(client)
    removed = await client.delete(f"/_standin/dossiers/{deleted}", params={"reason": "expired"})
    assert removed.status_code == 200 and removed.json()["outcome"] == "purged"

    page = await data(
        client,
        operation("dossiers_updated_since.graphql"),
        {"demarcheNumber": DEMARCHE, "updatedSince": None},
    )
    assert [node["number"] for node in nodes(page["demarche"]["dossiers"])] == [kept]
    purged = await data(client, operation("deleted_dossiers.graphql"), {"demarcheNumber": DEMARCHE})
    gone = nodes(purged["demarche"]["deletedDossiers"])
    assert [(node["number"], node["reason"]) for node in gone] == [(deleted, "expired")]
    missing = await gql(client, operation("get_dossier.graphql"), {"dossierNumber": deleted})
    assert missing.json()["errors"][0]["extensions"]["code"] == "not_found"


async def test_faults_answer_like_the_rate_limiter(client: httpx.AsyncClient) -> None:
    armed = await client.post("/_standin/faults", json={"status": 429, "count": 2, "retry_after": 7})
    assert armed.status_code == 200
    for _ in range(2):
        throttled = await gql(client, "{ demarche(number: 1001) { number } }")
        assert throttled.status_code == 429
        assert throttled.headers["content-type"].startswith("text/plain")
        assert "Calm down, cowboy!" in throttled.text
        assert "retry-after" not in throttled.headers  # the platform's responder sends none
        assert 6 <= int(throttled.headers["ratelimit-reset"]) - time.time() <= 8
        assert throttled.headers["ratelimit-remaining"] == "0"
    assert (await gql(client, "{ demarche(number: 1001) { number } }")).status_code == 200

    await client.post("/_standin/faults", json={"status": 500, "count": 1})
    failed = await gql(client, "{ demarche(number: 1001) { number } }")
    assert failed.status_code == 500
    assert failed.json()["errors"][0]["extensions"]["code"] == "internal_server_error"
    assert (await client.get("/_standin/faults")).json()["count"] == 0


async def test_restart_keeps_the_state(db_path: Path) -> None:
    async with client_for(create_app(db_path, TOKEN, DEFAULT_INSTRUCTEUR_ID)) as before:
        number = await deposer(before)
        await mutate(before, "passer_en_instruction.graphql", number)

    async with client_for(create_app(db_path, TOKEN, DEFAULT_INSTRUCTEUR_ID)) as after:
        dossier = await get_dossier(after, number)
        assert dossier["state"] == "en_instruction"
        log = (await after.get("/_standin/mutations")).json()
        assert [entry["name"] for entry in log] == ["dossierPasserEnInstruction"]
        assert await deposer(after) == number + 1


async def test_applicant_endpoints_check_their_input(client: httpx.AsyncClient) -> None:
    unknown = await client.post(
        "/_standin/dossiers", json={"usager_email": "a@exemple.fr", "fields": {"budget": 1}}
    )
    assert unknown.status_code == 422
    assert "budget" in unknown.json()["detail"]

    by_name = await deposer(client, {"region": "Île-de-France"})
    assert (await state_of(client, by_name))["fields"]["region"] == "11"

    await mutate(client, "passer_en_instruction.graphql", by_name)
    locked = await client.patch(f"/_standin/dossiers/{by_name}", json={"fields": {"region": "53"}})
    assert locked.status_code == 409
    assert "en instruction" in locked.json()["detail"]


async def test_home_page_lists_dossiers_in_french(client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    await mutate(client, "passer_en_instruction.graphql", number)
    page = await client.get("/")
    assert page.status_code == 200
    assert "PTCE de la vallée de la Rance" in page.text
    assert "en instruction" in page.text


async def test_concurrent_duplicates_are_applied_once(client: httpx.AsyncClient) -> None:
    number = await deposer(client)
    payloads = await asyncio.gather(
        *(mutate(client, "passer_en_instruction.graphql", number) for _ in range(5))
    )
    assert sum(payload["errors"] is None for payload in payloads) == 1
    log = (await client.get("/_standin/mutations", params={"dossier": number})).json()
    assert len(log) == 1




async def test_serves_over_real_http(db_path: Path) -> None:
    port = free_port()
    async with (serve(create_app(db_path, TOKEN, DEFAULT_INSTRUCTEUR_ID), port),
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http):
        number = await deposer(http)
        dossier = await get_dossier(http, number)
        assert dossier["state"] == "en_construction"
        query = (
            "query($n: Int!) { dossier(number: $n) {"
            " champs { ... on PieceJustificativeChamp { files { url } } } } }"
        )
        champs = (await data(http, query, {"n": number}))["dossier"]["champs"]
        url = next(champ["files"][0]["url"] for champ in champs if champ.get("files"))
        assert url.startswith(f"http://127.0.0.1:{port}/")
        download = await http.get(url)
        assert download.status_code == 200
        assert "statuts.pdf" in download.text


async def test_the_test_only_bulk_path_files_each_dossier_as_one_filing(
        client: httpx.AsyncClient) -> None:
    """The benchmark's scale mode files thousands at once: each one as ``POST /_standin/dossiers``
    files it (en construction, acknowledged), the regions given in turn."""
    response = await client.post("/_standin/dossiers/bulk", json={
        "usager_email": "elodie.martin@exemple.fr", "fields": FIELDS, "count": 3,
        "regions": ["53", "76"]})
    assert response.status_code == 201, response.text
    numbers = response.json()["numbers"]
    assert len(set(numbers)) == 3
    single = await deposer(client)
    assert single == max(numbers) + 1
    dossiers = [await get_dossier(client, n) for n in numbers]
    assert [d["state"] for d in dossiers] == ["en_construction"] * 3
    assert [(await state_of(client, n))["fields"]["region"] for n in numbers] == ["53", "76", "53"]
