"""The emotion model's data: splits that never overlap, and the product's own set alone."""

from __future__ import annotations

import pytest

from nlu.datasets import (
    own_examples,
    shared_data_available,
    tweeteval_sentiment,
)

needs_shared = pytest.mark.skipif(
    not shared_data_available(), reason="../shared/data (the public corpora) is not present"
)


def test_own_splits_are_disjoint_and_complete() -> None:
    parts = {p: {e.text for e in own_examples(p)} for p in ("train", "calibration", "test")}
    assert not parts["train"] & parts["test"]
    assert not parts["train"] & parts["calibration"]
    assert sum(len(v) for v in parts.values()) == len({e.text for e in own_examples()})
    assert len(parts["test"]) >= 150


@needs_shared
def test_the_evaluated_half_of_tweeteval_is_never_trained_on() -> None:
    train = {e.text for e in tweeteval_sentiment("train")}
    held_out = tweeteval_sentiment("eval")
    assert not train & {e.text for e in held_out}
    assert len(train) + len(held_out) >= 1990  # the 2,000 tweets, less exact duplicates
    assert {e.sentiment for e in held_out} == {0, 1, 2}


def test_an_unknown_part_is_refused() -> None:
    with pytest.raises(ValueError, match="train or eval"):
        tweeteval_sentiment("test")
