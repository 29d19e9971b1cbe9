"""The domain, the constants and the training data agree with each other."""

from __future__ import annotations

import inspect
from pathlib import Path

import yaml

from core import constants
from core.paths import PROJECT_ROOT

DOMAIN = yaml.safe_load((PROJECT_ROOT / "bot" / "domain.yml").read_text())


def test_every_action_constant_is_declared_in_the_domain() -> None:
    actions = set(DOMAIN["actions"])
    named = {v for k, v in vars(constants).items() if k.startswith("ACTION_")}
    assert named <= actions, named - actions


def test_every_form_has_a_validator_action() -> None:
    for form in DOMAIN["forms"]:
        assert f"validate_{form}" in DOMAIN["actions"]
    named = {v for k, v in vars(constants).items() if k.startswith("FORM_")}
    assert named == set(DOMAIN["forms"])


def test_every_slot_constant_is_a_domain_slot() -> None:
    slots = set(DOMAIN["slots"]) | {constants.SESSION_STARTED_METADATA, constants.REQUESTED_SLOT}
    named = {v for k, v in vars(constants).items() if k.startswith("SLOT_")}
    assert named <= slots, named - slots
    assert set(constants.CARRY_OVER_SLOTS) <= slots


def test_every_intent_and_entity_constant_is_in_the_domain() -> None:
    intents = set(DOMAIN["intents"]) | {"nlu_fallback"}
    named = {v for k, v in vars(constants).items() if k.startswith("INTENT_")}
    assert named <= intents, named - intents
    entities = {v for k, v in vars(constants).items() if k.startswith("ENTITY_")}
    assert entities <= set(DOMAIN["entities"])


def test_issue_types_match_the_categorical_slot() -> None:
    values = set(DOMAIN["slots"]["issue_type"]["values"])
    assert values == set(
        constants.DELIVERY_ISSUES + constants.BILLING_ISSUES + constants.ACCOUNT_ISSUES
    )


def test_every_registered_custom_action_is_in_the_domain() -> None:
    from rasa_sdk import Action

    import bot.actions  # noqa: F401 - registers the actions

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    names = set()
    for cls in subclasses(Action):
        if cls.__module__.startswith("bot.actions") and not inspect.isabstract(cls):
            names.add(cls().name())
    assert names == set(DOMAIN["actions"])


def test_each_intent_has_at_least_15_training_examples() -> None:
    counts: dict[str, int] = {}
    for path in (PROJECT_ROOT / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text()).get("nlu", []):
            if "intent" in block:
                examples = [x for x in block["examples"].splitlines() if x.strip().startswith("- ")]
                counts[block["intent"]] = counts.get(block["intent"], 0) + len(examples)
    assert set(counts) == set(DOMAIN["intents"])
    assert min(counts.values()) >= 15, counts


def test_root_rasa_files_point_into_bot() -> None:
    for name in ("config.yml", "domain.yml", "credentials.yml"):
        assert (PROJECT_ROOT / name).resolve() == (PROJECT_ROOT / "bot" / name).resolve()


def test_every_slot_a_form_asks_for_has_a_question() -> None:
    # Forms ask through `action_ask_<slot>` (bot/actions/questions.py): a slot with neither
    # that action nor an `utter_ask_<slot>` response would stop the form without a word.
    for form in DOMAIN["forms"].values():
        for slot in form["required_slots"]:
            assert f"action_ask_{slot}" in DOMAIN["actions"], slot


def test_rasa_data_validate_gives_no_warnings() -> None:
    import os
    import subprocess
    import sys

    rasa = Path(sys.executable).with_name("rasa")
    done = subprocess.run(
        [str(rasa), "data", "validate"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "default"},
    )
    output = done.stdout + done.stderr
    warnings = [line for line in output.splitlines() if "UserWarning" in line]
    assert done.returncode == 0 and not warnings, output[-3000:]
