"""`LexicalCues`: word and word-pair evidence for the context model.

MiniLM's sentence embedding says what a message is about more than how the customer
feels about it; the words that carry frustration and urgency in support chat are small
ones ("still", "again", "already", "finally", "tomorrow", "hacked"). This is a TF-IDF
bag of words and word pairs with three logistic regressions (sentiment, frustration,
urgency), fitted with scikit-learn and applied in numpy from four arrays, so the
artifact needs no pickle. Its five logits are part of the context model's input
(`nlu.context_model`); in training the rows' own logits come from models that did not
see them (5-fold), as they would at run time.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern
OUTPUTS = 5  # sentiment (3 log-probabilities), frustration and urgency (logits)
MIN_DF = 2
BATCH = 256  # texts turned into dense TF-IDF rows at a time
C = 4.0


def terms(text: str) -> list[str]:
    """Lower-cased words of two or more characters, and each pair of neighbours."""
    words = TOKEN.findall(text.lower())
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


class LexicalCues:
    """`fit` on labelled texts, `logits(texts)` → [n, 5]; `arrays()` / `from_arrays` to
    store it."""

    def __init__(
        self,
        vocabulary: dict[str, int],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
    ) -> None:
        self.vocabulary = vocabulary
        self.idf = idf.astype(np.float32)
        self.coef = coef.astype(np.float32)  # [V, 5]
        self.intercept = intercept.astype(np.float32)  # [5]

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        sentiment: Sequence[int],
        frustration: Sequence[int],
        urgency: Sequence[int],
    ) -> LexicalCues:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = TfidfVectorizer(
            analyzer=terms, min_df=MIN_DF, sublinear_tf=True, dtype=np.float32
        )
        x = vectorizer.fit_transform(list(texts))
        coef = np.zeros((x.shape[1], OUTPUTS), np.float32)
        intercept = np.zeros(OUTPUTS, np.float32)
        s = LogisticRegression(C=C, max_iter=3000).fit(x, np.asarray(sentiment))
        if list(s.classes_) != [0, 1, 2]:
            raise ValueError("LexicalCues.fit needs examples of all three sentiments")
        coef[:, :3], intercept[:3] = s.coef_.T, s.intercept_
        for column, labels in ((3, frustration), (4, urgency)):
            model = LogisticRegression(C=C, max_iter=3000).fit(x, np.asarray(labels))
            coef[:, column], intercept[column] = model.coef_[0], model.intercept_[0]
        return cls(dict(vectorizer.vocabulary_), vectorizer.idf_, coef, intercept)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """[n, V] dense TF-IDF rows as scikit-learn's `TfidfVectorizer(sublinear_tf=True)`
        makes them (l2-normalised)."""
        rows = np.zeros((len(texts), len(self.idf)), np.float32)
        for i, text in enumerate(texts):
            for term, count in Counter(terms(text)).items():
                j = self.vocabulary.get(term)
                if j is not None:
                    rows[i, j] = (1.0 + math.log(count)) * self.idf[j]
            norm = float(np.linalg.norm(rows[i]))
            if norm > 0:
                rows[i] /= norm
        return rows

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """[n, 5]: sentiment log-probabilities (3), frustration and urgency logits."""
        if not texts:
            return np.zeros((0, OUTPUTS), np.float32)
        if len(texts) > BATCH:  # dense rows: bounded memory for batch work
            return np.concatenate(
                [self.logits(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
            )
        z = self.transform(texts) @ self.coef + self.intercept
        sentiment = z[:, :3] - z[:, :3].max(axis=1, keepdims=True)
        sentiment -= np.log(np.exp(sentiment).sum(axis=1, keepdims=True))
        return np.concatenate([sentiment, z[:, 3:]], axis=1).astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        ordered = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        return {
            "lex_terms": np.array(ordered),
            "lex_idf": self.idf,
            "lex_coef": self.coef,
            "lex_intercept": self.intercept,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> LexicalCues:
        vocabulary = {str(t): i for i, t in enumerate(arrays["lex_terms"])}
        return cls(vocabulary, arrays["lex_idf"], arrays["lex_coef"], arrays["lex_intercept"])


def out_of_fold(
    texts: Sequence[str],
    sentiment: Sequence[int],
    frustration: Sequence[int],
    urgency: Sequence[int],
    folds: int = 5,
    seed: int = 13,
    groups: Sequence[str] | None = None,
) -> np.ndarray:
    """[n, 5] logits for each text from a model fitted on the other folds. Rows of one
    group (a conversation) share a fold, so a model never saw the row's conversation."""
    rng = np.random.default_rng(seed)
    keys = list(groups) if groups is not None else [str(i) for i in range(len(texts))]
    unique = sorted(set(keys))
    fold_of_group = dict(zip(unique, rng.permutation(len(unique)) % folds, strict=True))
    fold_of = np.array([fold_of_group[k] for k in keys])
    out = np.zeros((len(texts), OUTPUTS), np.float32)
    s, f, u = (np.asarray(a) for a in (sentiment, frustration, urgency))
    for k in range(folds):
        train, held = fold_of != k, fold_of == k
        model = LexicalCues.fit(
            [t for t, keep in zip(texts, train, strict=True) if keep], s[train], f[train], u[train]
        )
        out[held] = model.logits([t for t, keep in zip(texts, held, strict=True) if keep])
    return out
