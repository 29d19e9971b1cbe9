"""The Rasa component: hits in parse data from the shared encoding; a bad index stops start."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.message import Message

from core.constants import KNOWLEDGE, SHARED_ENCODING
from knowledge.component import HelpCenterRetrieverComponent
from knowledge.errors import IndexNotFoundError
from knowledge.retriever import Retriever


def component(directory: Path, encoder) -> HelpCenterRetrieverComponent:
    return HelpCenterRetrieverComponent({"top_k": 2}, Retriever(directory, encoder=encoder))


def test_writes_hits_confidence_and_threshold(small_index: Path, encoder) -> None:
    text = "how long until a refund is back on my visa card"
    message = Message(data={"text": text})
    message.set(SHARED_ENCODING, encoder.encode([text]))
    component(small_index, encoder).process([message])
    data = message.get(KNOWLEDGE)
    assert data["hits"][0]["article_id"] == "refund-timing"
    assert data["hits"][0]["url"].endswith("/refund-timing")
    assert len(data["hits"]) <= 2
    assert 0 <= data["confidence"] <= 1 and 0 < data["threshold"] < 1
    assert KNOWLEDGE in message.as_dict(only_output_properties=True)


@pytest.mark.parametrize("text", ["", "   ", "/greet"])
def test_skips_empty_messages_and_payloads(small_index: Path, encoder, text: str) -> None:
    message = Message(data={"text": text})
    component(small_index, encoder).process([message])
    assert message.get(KNOWLEDGE) is None


def test_missing_index_stops_the_server_start_with_the_fix(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(tmp_path / "missing"))
    with pytest.raises(IndexNotFoundError, match="make index"):
        HelpCenterRetrieverComponent.load({}, None, None, None)  # type: ignore[arg-type]


def test_confidence_reads_the_runner_up_even_when_one_hit_is_shown(
    small_index: Path, encoder, monkeypatch
) -> None:
    text = "how long until a refund is back on my visa card"
    message = Message(data={"text": text})
    message.set(SHARED_ENCODING, encoder.encode([text]))
    retriever = Retriever(small_index, encoder=encoder)
    seen: list[int] = []
    confidence = retriever.confidence
    monkeypatch.setattr(
        retriever, "confidence", lambda hits: seen.append(len(hits)) or confidence(hits)
    )
    HelpCenterRetrieverComponent({"top_k": 1}, retriever).process([message])
    data = message.get(KNOWLEDGE)
    assert len(data["hits"]) == 1
    assert seen == [2]  # the lead over the runner-up is one of the model's features
