"""Contract: every operation the client sends is valid against the platform's schema.

Pure validation with graphql-core against ``activities/platform/schema/schema.graphql`` (the
upstream SDL): no stand-in involved, so a field or argument the real API does not have fails
here even if the stand-in were lenient. The platform also rejects queries deeper than 15.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    NoDeprecatedCustomRule,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    parse,
    validate,
)

from activities.platform.client import OPERATIONS_DIR

SCHEMA_FILE = OPERATIONS_DIR.parent / "schema" / "schema.graphql"
DOCUMENTS = sorted(OPERATIONS_DIR.glob("*.graphql"))
PLATFORM_MAX_DEPTH = 15  # app/graphql/api/v2/schema.rb: max_depth 15


@cache
def schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))


def problems(source: str) -> list[GraphQLError]:
    try:
        document = parse(source)
    except GraphQLError as error:
        return [error]
    return list(validate(schema(), document))


def depth(document: DocumentNode) -> int:
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}

    def of(selection_set: SelectionSetNode | None) -> int:
        deepest = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                deepest = max(deepest, 1 + of(selection.selection_set))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, of(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                deepest = max(deepest, of(fragments[selection.name.value].selection_set))
        return deepest

    return max(of(d.selection_set) for d in document.definitions
               if isinstance(d, OperationDefinitionNode))


def test_the_client_has_its_operations() -> None:
    assert {path.stem for path in DOCUMENTS} >= {
        "get_dossier", "dossiers_updated_since", "passer_en_instruction", "envoyer_message",
        "accepter", "refuser", "classer_sans_suite", "modifier_annotations",
        "annuler_demande_correction",
    }


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.stem)
def test_operation_is_valid_against_the_platform_schema(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert problems(source) == []
    document = parse(source)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1, "one operation per file: the client sends the whole file"
    assert depth(document) <= PLATFORM_MAX_DEPTH


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_operation_selects_no_deprecated_field(path: Path) -> None:
    """``Traitement.state`` and ``Dossier.revision`` are deprecated: ``event``, ``demarche.revision``."""
    errors = validate(schema(), parse(path.read_text(encoding="utf-8")), [NoDeprecatedCustomRule])
    assert errors == [], [e.message for e in errors]


def test_a_wrong_field_fails_validation() -> None:
    source = (OPERATIONS_DIR / "get_dossier.graphql").read_text(encoding="utf-8")
    mutated = source.replace("dateDerniereModification", "dateDeDerniereModification", 1)
    assert mutated != source

    errors = problems(mutated)

    assert len(errors) == 1
    assert errors[0].message.startswith(
        "Cannot query field 'dateDeDerniereModification' on type 'Dossier'.")


def test_a_wrong_argument_or_missing_variable_fails_validation() -> None:
    source = (OPERATIONS_DIR / "refuser.graphql").read_text(encoding="utf-8")
    wrong_type = source.replace("DossierRefuserInput!", "DossierAccepterInput!")
    assert any("DossierAccepterInput" in e.message for e in problems(wrong_type))
    assert problems("query { dossier(numero: 1) { id } }")  # the argument is `number`
    assert problems("query { dossier(number: 1) { id ")  # does not even parse


def test_a_query_too_deep_for_the_platform_is_caught() -> None:
    nested = "champs { ... on RepetitionChamp { rows { champs { id } } } }"
    for _ in range(6):
        nested = f"champs {{ ... on RepetitionChamp {{ rows {{ {nested} }} }} }}"
    document = parse(f"query {{ dossier(number: 1) {{ {nested} }} }}")
    assert validate(schema(), document) == []  # valid GraphQL…
    assert depth(document) > PLATFORM_MAX_DEPTH  # …that the platform would refuse
