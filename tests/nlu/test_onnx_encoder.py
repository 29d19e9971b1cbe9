"""The shared encoder graph gives PyTorch's numbers, and `prepare` moves the work off
the caller's turn: batched, on a worker thread, taken once by `encode`."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from nlu.encoder import MAX_PREPARED, SharedEncoder
from nlu.onnx_encoder import is_current
from nlu.scorer import EmotionScorer
from tests.conftest import run_async, run_python_offline

TEXTS = [
    "where is my order 10402?",
    "WHY do you need my email AGAIN?!",
    "thanks, bye",
    "my parcel hasn't turned up and I needed it for the weekend, this is really annoying",
    "",
    "😡😡",
]


@pytest.fixture(scope="module")
def graph_encoder() -> SharedEncoder:
    assert is_current(), "the shared encoder graph is missing or stale: run `make setup`"
    encoder = SharedEncoder(backend="onnx").warm_up()
    assert encoder.uses_graph
    return encoder


@pytest.fixture(scope="module")
def torch_encoder() -> SharedEncoder:
    return SharedEncoder(backend="torch").warm_up()


def test_the_graph_gives_pytorch_s_embeddings_and_scores(graph_encoder, torch_encoder) -> None:
    ours, theirs = graph_encoder.encode(TEXTS), torch_encoder.encode(TEXTS)
    assert np.abs(ours.sentence - theirs.sentence).max() < 1e-5
    assert np.abs(ours.tokens - theirs.tokens).max() < 1e-3
    assert np.array_equal(ours.mask, theirs.mask)
    assert np.array_equal(ours.offsets, theirs.offsets)
    with_graph = EmotionScorer(encoder=graph_encoder, backend="torch")
    with_torch = EmotionScorer(encoder=torch_encoder, backend="torch")
    assert np.abs(with_graph.probabilities(TEXTS) - with_torch.probabilities(TEXTS)).max() < 1e-5
    from_encoding = [s.as_dict() for s in with_graph.score_encoding(ours)]
    assert from_encoding == [s.as_dict() for s in with_torch.score_encoding(theirs)]
    # The context model reads the heads' pooled state: the same from either path.
    graph_probs, graph_hidden = with_graph.encoding_vectors(ours, TEXTS)
    torch_probs, torch_hidden = with_torch.encoding_vectors(theirs, TEXTS)
    assert np.abs(graph_hidden - torch_hidden).max() < 1e-4
    assert np.abs(graph_probs - torch_probs).max() < 1e-5
    # With context, each path encoding everything itself (the committed model's scorers
    # share one memory of context texts: emptied between the two).
    from nlu import scorer as scorer_module
    from nlu.context_model import TurnContext

    contexts = [TurnContext(TEXTS[i - 1], "Sorry, I didn't quite get that.") for i in range(6)]
    scorer_module._MEMORY.clear()
    graph_rows = with_graph.in_context(TEXTS, with_graph.vectors(TEXTS), contexts)
    scorer_module._MEMORY.clear()
    torch_rows = with_torch.in_context(TEXTS, with_torch.vectors(TEXTS), contexts)
    scorer_module._MEMORY.clear()
    assert np.abs(graph_rows - torch_rows).max() < 1e-3


def test_prepared_texts_are_encoded_once_in_one_batch(graph_encoder) -> None:
    encoder = SharedEncoder(backend="onnx", graph=graph_encoder._graph)
    batches: list[list[str]] = []
    compute = encoder.compute

    def counting(texts: list[str]):
        batches.append(list(texts))
        return compute(texts)

    encoder.compute = counting  # type: ignore[method-assign]

    async def turns() -> None:
        await asyncio.gather(*(encoder.prepare([t]) for t in TEXTS[:4]))

    run_async(turns())
    prepared = len(batches)
    assert sum(len(b) for b in batches) == 4 and prepared <= 2
    alone = graph_encoder.compute([TEXTS[1]])
    taken = encoder.encode([TEXTS[1]])
    assert len(batches) == prepared  # taken, not computed again
    assert np.abs(taken.sentence - alone.sentence).max() < 1e-5
    assert taken.emotion is not None and taken.tokens.shape == alone.tokens.shape
    encoder.encode([TEXTS[1]])
    assert len(batches) == prepared + 1  # taken once: the second time it is computed


def test_prepared_encodings_are_bounded(graph_encoder) -> None:
    encoder = SharedEncoder(backend="onnx", graph=graph_encoder._graph)
    run_async(encoder.prepare([f"message {i}" for i in range(MAX_PREPARED + 20)]))
    assert len(encoder._prepared) == MAX_PREPARED


def test_a_failing_prepare_leaves_the_work_to_encode(graph_encoder) -> None:
    encoder = SharedEncoder(backend="onnx", graph=graph_encoder._graph)

    def broken(texts: list[str]):
        raise RuntimeError("out of memory")

    encoder.compute = broken  # type: ignore[method-assign]
    run_async(encoder.prepare(["hello"]))  # does not raise
    assert not encoder._prepared


def test_the_rasa_pipeline_encoder_never_loads_torch() -> None:
    probe = """
import sys
from nlu.encoder import shared_encoder
from nlu.scorer import EmotionScorer
encoder = shared_encoder()
assert encoder.uses_graph, "the shared encoder graph is missing or stale: run `make setup`"
scorer = EmotionScorer(encoder=encoder, backend="torch").warm_up()
encoding = encoder.encode(["where is my refund?"])
assert scorer.can_reuse("where is my refund?", encoding)
scorer.score(["@shop #fail my refund http://x.example"])
print("torch loaded:", "torch" in sys.modules)
"""
    done = run_python_offline(probe)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("torch loaded: False"), done.stdout
