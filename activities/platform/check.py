"""``ptce platform check``: a read-only self-check of the configured démarche against our
settings and mapping file, before the first dossier meets a mismatch.

- every champ of the mapping file is a champ of the démarche's active revision, of the same
  type (else every dossier would look incomplete, the field silently missing);
- the two annotation ids are text or long-text private annotations of the démarche; another
  annotation marked required is a warning (a decision then waits until an agent fills it);
- the service's instructeur belongs to every open groupe instructeur (a mutation on a dossier
  of another groupe is refused, app/graphql/mutations/base_mutation.rb#L49-L55);
- the token reads the démarche and may write: a mutation on a dossier that cannot exist is
  refused before anything loads when the token is read-only (``BaseMutation#ready?``,
  base_mutation.rb#L9-L15), else it fails to load the dossier; nothing changes either way;
- the token's expiry date (``PTCE_PLATFORM__TOKEN_EXPIRES_ON``, from the platform's token
  page: the API does not tell it) is not passed, nor near.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from activities.platform.activities import stable_id
from activities.platform.client import DsClient, PlatformError, PlatformNotFound
from core.mapping import DemarcheMapping
from core.settings import PlatformSettings

Level = Literal["ok", "attention", "erreur"]
EXPIRY_WARNING = timedelta(days=30)
_READ_ONLY = "seulement en lecture"
_TEXT_ANNOTATIONS = {"TextChampDescriptor", "TextareaChampDescriptor"}


@dataclass
class Finding:
    level: Level
    text: str  # French: for the admin who reads the report


@dataclass
class CheckReport:
    demarche: int
    findings: list[Finding] = field(default_factory=list)

    def add(self, level: Level, text: str) -> None:
        self.findings.append(Finding(level, text))

    @property
    def ok(self) -> bool:
        return not any(f.level == "erreur" for f in self.findings)

    def lines(self) -> list[str]:
        marks = {"ok": "OK       ", "attention": "ATTENTION", "erreur": "ERREUR   "}
        errors = sum(f.level == "erreur" for f in self.findings)
        verdict = ("Vérification réussie : la configuration correspond à la démarche."
                   if self.ok else f"Vérification échouée : {errors} erreur(s).")
        return [f"Vérification de la démarche n° {self.demarche} sur la plateforme",
                *(f"{marks[f.level]} {f.text}" for f in self.findings), verdict]


def _descriptor_types(champ_type: str) -> set[str]:
    """A champ's ``__typename`` (the mapping's type) -> its possible descriptor types: text
    champs are ``TextChamp`` whether short or long."""
    if champ_type == "TextChamp":
        return {"TextChampDescriptor", "TextareaChampDescriptor"}
    return {champ_type.removesuffix("Champ") + "ChampDescriptor"}


async def check_platform(ds: DsClient, settings: PlatformSettings, mapping: DemarcheMapping,
                         today: date, *, strict: bool) -> CheckReport:
    """``strict`` (production): an unknown token expiry date is an error, not a warning."""
    report = CheckReport(settings.demarche_number)
    try:
        data = await ds.execute("check_demarche", {"demarcheNumber": settings.demarche_number})
    except PlatformError as exc:
        report.add("erreur", f"la démarche n° {settings.demarche_number} ne peut être lue "
                   f"(PTCE_PLATFORM__DEMARCHE_NUMBER, PTCE_PLATFORM__TOKEN) : {exc}")
        return report
    demarche = data["demarche"]
    report.add("ok", f"jeton accepté, démarche « {demarche['title']} » ({demarche['state']})")
    _check_mapping(report, demarche, mapping, settings)
    _check_annotations(report, demarche, settings)
    _check_groupes(report, demarche, settings)
    await _check_write_access(report, ds, settings)
    _check_expiry(report, settings, today, strict)
    return report


def _check_mapping(report: CheckReport, demarche: dict[str, Any], mapping: DemarcheMapping,
                   settings: PlatformSettings) -> None:
    where = f"PTCE_PLATFORM__MAPPING_FILE ({settings.mapping_file or 'démarche de démonstration'})"
    if mapping.number != settings.demarche_number:
        report.add("erreur", f"{where} décrit la démarche n° {mapping.number}, pas la "
                   f"n° {settings.demarche_number}")
    champs = {stable_id(d["id"]): d for d in demarche["activeRevision"]["champDescriptors"]}
    wrong = 0
    for spec in mapping.champs:
        found = champs.get(stable_id(spec.id))
        if found is None:
            report.add("erreur", f"champ {spec.id} (« {spec.label} », champ {spec.field}) de "
                       f"{where} absent de la démarche")
        elif found["__typename"] not in _descriptor_types(spec.type):
            report.add("erreur", f"champ {spec.id} (« {spec.label} », champ {spec.field}) : "
                       f"{found['__typename']} sur la plateforme, {spec.type} dans {where}")
        else:
            continue
        wrong += 1
    if not wrong:
        report.add("ok", f"les {len(mapping.champs)} champs de {where} sont dans la démarche")


def _check_annotations(report: CheckReport, demarche: dict[str, Any],
                       settings: PlatformSettings) -> None:
    annotations = {stable_id(d["id"]): d
                   for d in demarche["activeRevision"]["annotationDescriptors"]}
    ours = {"ANNOTATION_OPINIONS_ID": settings.annotation_opinions_id,
            "ANNOTATION_STAGE_ID": settings.annotation_stage_id}
    for setting, annotation_id in ours.items():
        found = annotations.get(stable_id(annotation_id))
        if found is None:
            report.add("erreur", f"PTCE_PLATFORM__{setting} ({annotation_id}) : aucune annotation "
                       "privée de la démarche n’a cet identifiant")
        elif found["__typename"] not in _TEXT_ANNOTATIONS:
            report.add("erreur", f"PTCE_PLATFORM__{setting} ({annotation_id}) : « {found['label']} »"
                       f" est un {found['__typename']}, pas un texte")
        else:
            report.add("ok", f"PTCE_PLATFORM__{setting} : « {found['label']} » "
                       f"({'texte long' if 'Textarea' in found['__typename'] else 'texte'})")
    mine = {stable_id(i) for i in ours.values()}
    for key, found in annotations.items():
        if found.get("required") and key not in mine:
            report.add("attention", f"l’annotation privée « {found['label']} » est obligatoire : "
                       "chaque décision attendra qu’un agent la remplisse (dossier bloqué, à "
                       "reprendre par ptce admin resume)")


def _check_groupes(report: CheckReport, demarche: dict[str, Any],
                   settings: PlatformSettings) -> None:
    missing = [g for g in demarche["groupeInstructeurs"]
               if settings.instructeur_id not in {i["id"] for i in g["instructeurs"]}]
    for groupe in missing:
        report.add("erreur", f"l’instructeur PTCE_PLATFORM__INSTRUCTEUR_ID "
                   f"({settings.instructeur_id}) n’est pas dans le groupe instructeur "
                   f"n° {groupe['number']} « {groupe['label']} »")
    if not missing:
        report.add("ok", f"l’instructeur est dans les {len(demarche['groupeInstructeurs'])} "
                   "groupes instructeurs")


async def _check_write_access(report: CheckReport, ds: DsClient,
                              settings: PlatformSettings) -> None:
    nobody = base64.b64encode(b"Dossier-0").decode()  # no dossier has number 0
    try:
        result = await ds.execute("check_write_access", {"input": {
            "dossierId": nobody, "instructeurId": settings.instructeur_id, "annotations": []}})
    except PlatformNotFound:
        report.add("ok", "le jeton permet l’écriture")
        return
    except PlatformError as exc:
        report.add("erreur", f"accès en écriture non vérifié : {exc}")
        return
    errors = [e["message"] for e in (result.get("dossierModifierAnnotations") or {})
              .get("errors") or []]
    if any(_READ_ONLY in message for message in errors):
        report.add("erreur", "le jeton (PTCE_PLATFORM__TOKEN) est en lecture seule : il doit "
                   "permettre l’écriture")
    else:
        report.add("ok", "le jeton permet l’écriture")


def _check_expiry(report: CheckReport, settings: PlatformSettings, today: date,
                  strict: bool) -> None:
    expires = settings.token_expires_on
    if expires is None:
        report.add("erreur" if strict else "attention",
                   "date d’expiration du jeton inconnue : renseignez "
                   "PTCE_PLATFORM__TOKEN_EXPIRES_ON (page « Jetons d’API » de la plateforme)")
    elif expires <= today:
        report.add("erreur", f"le jeton a expiré le {expires:%d/%m/%Y} "
                   "(PTCE_PLATFORM__TOKEN_EXPIRES_ON) : renouvelez-le")
    elif expires - today <= EXPIRY_WARNING:
        report.add("attention", f"le jeton expire le {expires:%d/%m/%Y} : préparez sa rotation")
    else:
        report.add("ok", f"le jeton expire le {expires:%d/%m/%Y}")
