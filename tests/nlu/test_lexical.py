"""The lexical cues apply in numpy exactly what scikit-learn fitted."""

from __future__ import annotations

import numpy as np
import pytest

from nlu.lexical import LexicalCues, out_of_fold, terms

TEXTS = [
    "Where is my order? It still has not arrived",
    "I would like to cancel my subscription please",
    "This is the third time I ask, still nothing!!",
    "thanks, that worked great",
    "someone used my card today, please block it now",
    "can I change my delivery address",
    "still no refund after two weeks",
    "great service, thank you so much",
    "my card was used abroad right now",
    "how do I return an item",
] * 3
SENTIMENT = [0, 1, 0, 2, 0, 1, 0, 2, 0, 1] * 3
FRUSTRATION = [1, 0, 1, 0, 0, 0, 1, 0, 0, 0] * 3
URGENCY = [0, 0, 0, 0, 1, 0, 0, 0, 1, 0] * 3


@pytest.fixture(scope="module")
def cues() -> LexicalCues:
    return LexicalCues.fit(TEXTS, SENTIMENT, FRUSTRATION, URGENCY)


def test_terms_are_words_and_neighbouring_pairs() -> None:
    assert terms("Still NOT here!") == ["still", "not", "here", "still not", "not here"]


def test_the_numpy_tf_idf_equals_scikit_learn_s(cues: LexicalCues) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    reference = TfidfVectorizer(analyzer=terms, min_df=2, sublinear_tf=True).fit(TEXTS)
    probe = ["still nothing, where is my order", "unknown words only", ""]
    expected = reference.transform(probe).toarray()
    np.testing.assert_allclose(cues.transform(probe), expected, atol=1e-6)


def test_logits_follow_the_labels_and_survive_storage(cues: LexicalCues) -> None:
    restored = LexicalCues.from_arrays(cues.arrays())
    probe = ["still nothing after two weeks", "my card was used right now", "thanks, great"]
    z = restored.logits(probe)
    np.testing.assert_allclose(z, cues.logits(probe), atol=1e-6)
    assert z.shape == (3, 5)
    np.testing.assert_allclose(np.exp(z[:, :3]).sum(axis=1), 1.0, atol=1e-5)
    assert z[0, 3] > z[1, 3] and z[1, 4] > z[0, 4] and z[2, 2] == z[2, :3].max()
    assert restored.logits([]).shape == (0, 5)


def test_out_of_fold_logits_come_from_models_that_did_not_see_the_row() -> None:
    texts = TEXTS[:10] + [f"unique message number {i} still nothing" for i in range(20)]
    s, f, u = SENTIMENT[:10] + [0] * 20, FRUSTRATION[:10] + [1] * 20, URGENCY[:10] + [0] * 20
    oof = out_of_fold(texts, s, f, u)
    full = LexicalCues.fit(texts, s, f, u).logits(texts)
    assert oof.shape == full.shape
    assert not np.allclose(oof, full)


def test_fitting_needs_all_three_sentiments() -> None:
    with pytest.raises(ValueError, match="all three sentiments"):
        LexicalCues.fit(TEXTS[:2] * 3, [0, 1] * 3, [1, 0] * 3, [0, 0] * 3)
