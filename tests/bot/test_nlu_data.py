"""The NLU training data: entity values the categorical slots accept, regex features that
compile, fraud wordings annotated as unknown charges. Cheap checks on data/nlu, no model."""

from __future__ import annotations

import re

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.constants import (
    ENTITY_ISSUE_TYPE,
    ENTITY_PLAN,
    INTENT_BILLING_ISSUE,
    ISSUE_UNKNOWN_CHARGE,
    SLOT_ISSUE_TYPE,
    SLOT_PLAN,
)
from core.paths import PROJECT_ROOT

NLU = PROJECT_ROOT / "data" / "nlu"
DOMAIN = yaml.safe_load((PROJECT_ROOT / "bot" / "domain.yml").read_text())
# Entities whose slot is categorical: every value the data gives them must be a slot value.
CATEGORICAL = {ENTITY_ISSUE_TYPE: SLOT_ISSUE_TYPE, ENTITY_PLAN: SLOT_PLAN}


@pytest.fixture(scope="module")
def data() -> TrainingData:
    return load_data(str(NLU))


@pytest.mark.parametrize("entity", sorted(CATEGORICAL))
def test_annotated_values_are_slot_values(data: TrainingData, entity: str) -> None:
    allowed = set(DOMAIN["slots"][CATEGORICAL[entity]]["values"])
    wrong = {
        (message.get("text"), annotation["value"])
        for message in data.entity_examples
        for annotation in message.get("entities", [])
        if annotation["entity"] == entity and annotation["value"] not in allowed
    }
    assert not wrong, f"{entity} values outside {sorted(allowed)}: {sorted(wrong)}"


def test_synonyms_map_to_slot_values(data: TrainingData) -> None:
    allowed = {value for slot in CATEGORICAL.values() for value in DOMAIN["slots"][slot]["values"]}
    # Synonyms of categorical entities, recognised by their value's shape (snake_case words).
    categorical_like = {
        key: value for key, value in data.entity_synonyms.items() if re.fullmatch(r"[a-z_]+", value)
    }
    wrong = {key: value for key, value in categorical_like.items() if value not in allowed}
    assert not wrong, f"synonyms to values no categorical slot accepts: {wrong}"


def test_regex_features_compile(data: TrainingData) -> None:
    for feature in data.regex_features:
        re.compile(feature["pattern"])


def test_fraud_wordings_are_annotated_as_unknown_charge(data: TrainingData) -> None:
    """Money taken without consent is a billing issue with issue_type unknown_charge (the
    handoff summary then says "possible fraud"), not account access."""
    fraud = [
        message
        for message in data.intent_examples
        if re.search(r"without my (consent|permission)|took money|stolen card", message.get("text"))
    ]
    assert fraud
    for message in fraud:
        values = {
            a["value"] for a in message.get("entities", []) if a["entity"] == ENTITY_ISSUE_TYPE
        }
        assert message.get("intent") == INTENT_BILLING_ISSUE, message.get("text")
        assert values == {ISSUE_UNKNOWN_CHARGE}, message.get("text")
