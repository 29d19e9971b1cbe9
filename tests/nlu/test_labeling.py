"""The labelled support conversations: their format, size, splits and double labels."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nlu import labeling
from nlu.labeling import (
    LabelFormatError,
    agreement,
    cohen_kappa,
    labelled_turns,
    parse_conversation,
    read_conversations,
    read_double_labels,
    split_of,
    turns_in_split,
)


def customer(text: str, **labels: object) -> dict[str, object]:
    turn: dict[str, object] = {
        "speaker": "customer",
        "text": text,
        "sentiment": "neutral",
        "frustration": 0,
        "urgency": 0,
        "cue": "calm_request",
    }
    turn.update(labels)
    return turn


def line(*turns: dict[str, object], id: str = "t-1") -> str:
    return json.dumps({"id": id, "turns": list(turns)})


def test_the_committed_conversations_are_valid_and_large_enough() -> None:
    conversations = read_conversations()
    turns = [t for c in conversations for t in labelled_turns(c)]
    assert len(turns) >= 2000
    assert {t.sentiment for t in turns} == {"negative", "neutral", "positive"}
    assert 0.2 < sum(t.frustration for t in turns) / len(turns) < 0.6
    assert sum(t.urgency for t in turns) >= 150


def test_the_splits_partition_the_turns_by_conversation() -> None:
    conversations = read_conversations()
    parts = {s: turns_in_split(s, conversations) for s in ("train", "calibration", "test")}
    assert sum(len(p) for p in parts.values()) == sum(len(labelled_turns(c)) for c in conversations)
    ids = {s: {t.conversation for t in p} for s, p in parts.items()}
    assert not ids["test"] & ids["train"] and not ids["test"] & ids["calibration"]
    assert len(parts["test"]) >= 400
    assert all(split_of(c) == "test" for c in ids["test"])


def test_a_turn_knows_the_previous_customer_message_and_the_reply_before_it() -> None:
    conversation = parse_conversation(
        line(
            {"speaker": "bot", "text": "Hi! How can I help?"},
            customer("My parcel never came."),
            {"speaker": "bot", "text": "Sorry, I didn't quite get that."},
            customer("Can you help me?", frustration=1, sentiment="negative"),
        ),
        "x.jsonl:1",
    )
    first, second = labelled_turns(conversation)
    assert (first.previous_customer, first.last_reply) == ("", "Hi! How can I help?")
    assert second.previous_customer == "My parcel never came."
    assert second.last_reply == "Sorry, I didn't quite get that."


@pytest.mark.parametrize(
    ("turns", "message"),
    [
        ((customer("a", sentiment="angry"), customer("b")), "sentiment must be one of"),
        ((customer("a", frustration=2), customer("b")), "frustration must be 0 or 1"),
        ((customer("a", frustration=True), customer("b")), "frustration must be 0 or 1"),
        ((customer("a", cue="vibes"), customer("b")), "cue must be one of the tags"),
        ((customer("a", frustration=1, sentiment="positive"), customer("b")), "is negative"),
        ((customer("a"), {"speaker": "bot", "text": "x", "frustration": 0}), "has no labels"),
        ((customer("a"),), "1 customer turns"),
        ((customer(""), customer("b")), "non-empty string"),
        ((customer("x" * 2001), customer("b")), "at most 2000"),
    ],
)
def test_a_broken_line_is_named_with_what_to_fix(turns: tuple, message: str) -> None:
    with pytest.raises(LabelFormatError, match=message) as error:
        parse_conversation(line(*turns), "part-x.jsonl:7")
    assert "part-x.jsonl:7" in str(error.value)


def test_ids_are_unique_across_files(tmp_path: Path) -> None:
    text = line(customer("a"), customer("b"), id="same") + "\n"
    (tmp_path / "one.jsonl").write_text(text)
    (tmp_path / "two.jsonl").write_text(text)
    with pytest.raises(
        LabelFormatError, match=re.escape("two.jsonl:1: id 'same' is already used at one.jsonl:1")
    ):
        read_conversations(tmp_path)


def test_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LabelFormatError, match=re.escape("No *.jsonl")):
        read_conversations(tmp_path)


def test_cohen_kappa() -> None:
    assert cohen_kappa([0, 1, 0, 1], [0, 1, 0, 1]) == pytest.approx(1.0)
    assert cohen_kappa([0, 1, 0, 1], [1, 0, 1, 0]) == pytest.approx(-1.0)


def test_the_double_labels_cover_200_turns_and_their_resolutions_are_in_the_data() -> None:
    rows = read_double_labels()
    assert len(rows) >= 200
    turns = {(t.conversation, t.index): t for c in read_conversations() for t in labelled_turns(c)}
    for row in rows:
        turn = turns[(row["conversation"], row["index"])]
        assert row["text"] == turn.text
        for label in labeling.LABELS:
            assert row["final"][label] == getattr(turn, label), (row, label)
        if row["first"] != row["second"]:
            assert row["rule"], f"disagreement without the guide's rule: {row}"
    for kappa, raw, _ in agreement(rows).values():
        assert 0.0 <= raw <= 1.0 and -1.0 <= kappa <= 1.0


def test_the_check_command_reports_errors_with_exit_code_1(tmp_path: Path, capsys) -> None:
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    assert labeling.main(["check", "--dir", str(tmp_path)]) == 1
    assert "bad.jsonl:1: not JSON" in capsys.readouterr().err
