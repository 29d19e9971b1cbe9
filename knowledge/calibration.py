"""Calibration questions for the answer-confidence model, and its fit (`make index`).

    >>> questions = help_center_questions(retriever.index) + out_of_scope_questions()
    >>> fitted = fit_confidence(retriever, questions)
    >>> fitted.model.threshold, fitted.precision

Nothing here reads the labelled customer questions in data/eval/: they are what
`make eval-knowledge` reports. The model is fitted on

- in scope, labelled by whether the top hit is the question's article:
  - every related question of every article (front matter `questions:`), searched with
    its own entry left out of the index: a question the help center does not list, in
    words it has not seen (hard: a quarter land on another article);
  - every related question again, retyped the way customers type (lowercase, no
    punctuation, "u"/"pls"/"dont", a slipped key) and with its entry in place: the
    common case of a listed question in a customer's typing (easy);
  - every article title and section heading, lowercased, as a short question about the
    topic ("return policy", "gift card rules");
- out of scope (label 0), from the train splits of public corpora in ../shared/data:
  - CLINC150 `oos_train`;
  - CLINC150 `train` utterances of intents a shop's help center does not answer (all but
    the banking and credit-card domains and the two order intents);
  - BANKING77 `train` utterances of intents about banking itself (top-ups, transfers,
    cash machines, exchange rates…), not those about card payments, refunds, charges or
    accounts, which this help center may well answer.

Every source weighs the same in total: each in-scope source as much as the in-scope
questions on average, and the out-of-scope sources together half the in-scope total (one
unanswerable question for two answerable ones). The
threshold is the lowest probability at which the weighted answers are at least
`TARGET_PRECISION` right. Without ../shared/data there is nothing out of scope to fit
on, and the index keeps the built-in `ConfidenceModel` defaults.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.paths import SHARED_DATA_DIR
from knowledge.articles import QUESTION, SECTION
from knowledge.index import HelpCenterIndex
from knowledge.retriever import ConfidenceModel, Retriever

TARGET_PRECISION = 0.9  # answer only when at least 9 in 10 such answers are right
OUT_OF_SCOPE_WEIGHT = 0.5  # all out-of-scope questions together, per in-scope question
SAMPLE_SALT = "helpcenter-calibration"
CLINC150_SHARE = 0.03  # of the eligible train utterances (about 350)
BANKING77_SHARE = 0.05  # of the eligible train utterances (about 350)

RELATED, RETYPED, HEADING = "related question", "retyped related question", "title or heading"
CLINC_OOS, CLINC_TRAIN, BANKING77 = "CLINC150 oos_train", "CLINC150 train", "BANKING77 train"

# CLINC150 intents a shopper might bring to a shop's help center: the banking and
# credit-card domains (payments, cards, fraud, accounts) and the order intents.
CLINC150_NEAR_HELP_CENTER = frozenset(
    {
        "account_blocked",
        "apr",
        "application_status",
        "balance",
        "bill_balance",
        "bill_due",
        "card_declined",
        "credit_limit",
        "credit_limit_change",
        "credit_score",
        "damaged_card",
        "direct_deposit",
        "expiration_date",
        "freeze_account",
        "improve_credit_score",
        "interest_rate",
        "international_fees",
        "min_payment",
        "new_card",
        "order",
        "order_checks",
        "order_status",
        "pay_bill",
        "pin_change",
        "redeem_rewards",
        "replacement_card_duration",
        "report_fraud",
        "report_lost_card",
        "rewards_balance",
        "routing",
        "spending_history",
        "transactions",
        "transfer",
    }
)

# BANKING77 intents about banking itself, which no article here answers.
BANKING77_OUT_OF_SCOPE = frozenset(
    {
        "activate_my_card",
        "age_limit",
        "atm_support",
        "automatic_top_up",
        "balance_not_updated_after_bank_transfer",
        "balance_not_updated_after_cheque_or_cash_deposit",
        "beneficiary_not_allowed",
        "cancel_transfer",
        "card_about_to_expire",
        "card_arrival",
        "card_delivery_estimate",
        "card_linking",
        "card_payment_wrong_exchange_rate",
        "card_swallowed",
        "cash_withdrawal_charge",
        "cash_withdrawal_not_recognised",
        "change_pin",
        "contactless_not_working",
        "declined_cash_withdrawal",
        "declined_transfer",
        "disposable_card_limits",
        "exchange_charge",
        "exchange_rate",
        "exchange_via_app",
        "failed_transfer",
        "fiat_currency_support",
        "get_disposable_virtual_card",
        "get_physical_card",
        "getting_spare_card",
        "getting_virtual_card",
        "order_physical_card",
        "pending_cash_withdrawal",
        "pending_top_up",
        "pending_transfer",
        "pin_blocked",
        "receiving_money",
        "top_up_by_bank_transfer_charge",
        "top_up_by_card_charge",
        "top_up_by_cash_or_cheque",
        "top_up_failed",
        "top_up_limits",
        "top_up_reverted",
        "topping_up_by_card",
        "transfer_fee_charged",
        "transfer_into_account",
        "transfer_not_received_by_recipient",
        "transfer_timing",
        "unable_to_verify_identity",
        "verify_my_identity",
        "verify_source_of_funds",
        "verify_top_up",
        "virtual_card_not_working",
        "why_verify_identity",
        "wrong_amount_of_cash_received",
        "wrong_exchange_rate_for_cash_withdrawal",
    }
)


# How customers shorten words in a chat (`retyped`).
CHAT_SPELLINGS = {
    "you": "u",
    "your": "ur",
    "are": "r",
    "please": "pls",
    "thanks": "thx",
    "don't": "dont",
    "can't": "cant",
    "i'm": "im",
    "what's": "whats",
    "doesn't": "doesnt",
    "didn't": "didnt",
    "won't": "wont",
    "isn't": "isnt",
    "it's": "its",
}


@dataclass(frozen=True)
class CalibrationQuestion:
    text: str
    article_id: str | None  # None: out of scope
    source: str
    exclude: frozenset[int] = field(default_factory=frozenset)  # index entries left out


@dataclass
class FittedConfidence:
    model: ConfidenceModel
    precision: float  # weighted share of answers that are right, at the threshold
    answered: float  # weighted share of questions answered, at the threshold
    counts: dict[str, int]  # questions per source

    def report(self) -> dict[str, Any]:
        """What confidence.json records next to the coefficients."""
        return {
            "fitted_on": self.counts,
            "target_precision": TARGET_PRECISION,
            "calibration_precision": round(self.precision, 4),
            "calibration_answered": round(self.answered, 4),
        }


def help_center_questions(index: HelpCenterIndex) -> list[CalibrationQuestion]:
    """In-scope questions made from the index: related questions (each left out of the
    index when it is asked), the same retyped (left in), titles and section headings."""
    related = [(i, p) for i, p in enumerate(index.passages) if p.kind == QUESTION]
    out = [CalibrationQuestion(p.text, p.article_id, RELATED, frozenset({i})) for i, p in related]
    out += [CalibrationQuestion(retyped(p.text), p.article_id, RETYPED) for _, p in related]
    topics: dict[str, set[str]] = defaultdict(set)
    for p in index.passages:
        if p.kind == SECTION:
            topics[_as_query(p.title)].add(p.article_id)
            if p.section:
                topics[_as_query(p.section)].add(p.article_id)
    # A heading shared by two articles ("Gift receipts") has no single right answer.
    out += [
        CalibrationQuestion(text, next(iter(ids)), HEADING)
        for text, ids in topics.items()
        if len(ids) == 1 and text
    ]
    return out


def out_of_scope_questions(
    root: Path = SHARED_DATA_DIR,
    clinc150_share: float = CLINC150_SHARE,
    banking77_share: float = BANKING77_SHARE,
) -> list[CalibrationQuestion]:
    """Out-of-scope questions from the train splits in `root` (none if it is absent); the
    shares are the samples taken of the eligible CLINC150 and BANKING77 utterances."""
    from nlu.datasets import hash_fraction

    out: list[CalibrationQuestion] = []
    clinc = root / "clinc150" / "train_val.json"
    if clinc.is_file():
        data = json.loads(clinc.read_text(encoding="utf-8"))
        out += [CalibrationQuestion(t, None, CLINC_OOS) for t, _ in data["oos_train"]]
        out += [
            CalibrationQuestion(t, None, CLINC_TRAIN)
            for t, intent in data["train"]
            if intent not in CLINC150_NEAR_HELP_CENTER
            and hash_fraction(t, SAMPLE_SALT) < clinc150_share
        ]
    banking = root / "banking77" / "train.csv"
    if banking.is_file():
        with banking.open(newline="", encoding="utf-8") as f:
            out += [
                CalibrationQuestion(r["text"], None, BANKING77)
                for r in csv.DictReader(f)
                if r["category"] in BANKING77_OUT_OF_SCOPE
                and hash_fraction(r["text"], SAMPLE_SALT) < banking77_share
            ]
    return out


def fit_confidence(
    retriever: Retriever, questions: list[CalibrationQuestion]
) -> FittedConfidence | None:
    """Fit `ConfidenceModel` on the questions; None without both in- and out-of-scope ones."""
    from sklearn.linear_model import LogisticRegression

    inside = [q for q in questions if q.article_id is not None]
    in_sources = {q.source for q in inside}
    out_sources = {q.source for q in questions if q.article_id is None}
    if not inside or not out_sources:
        return None
    embeddings = retriever.encoder.embed([q.text for q in questions])
    rows, labels = [], []
    for q, embedding in zip(questions, embeddings, strict=True):
        hits = retriever.search_embedding(q.text, embedding, k=5, exclude=q.exclude)
        rows.append(ConfidenceModel.features(hits))
        labels.append(
            int(q.article_id is not None and bool(hits) and hits[0].article_id == q.article_id)
        )
    counts: dict[str, int] = defaultdict(int)
    for q in questions:
        counts[q.source] += 1
    total = {s: len(inside) / len(in_sources) for s in in_sources}
    total |= {s: OUT_OF_SCOPE_WEIGHT * len(inside) / len(out_sources) for s in out_sources}
    weights = np.array([total[q.source] / counts[q.source] for q in questions])
    x, y = np.array(rows), np.array(labels)
    if len(set(labels)) < 2:
        return None
    fitted = LogisticRegression(C=1.0, max_iter=2000).fit(x, y, sample_weight=weights)
    p = fitted.predict_proba(x)[:, 1]
    threshold, precision, answered = 0.95, 1.0, 0.0
    for t in np.linspace(0.05, 0.95, 91):
        chosen = p >= t
        if chosen.sum() < 5:
            break
        share = float(np.average(y[chosen], weights=weights[chosen]))
        if share >= TARGET_PRECISION:
            threshold, precision = float(round(t, 2)), share
            answered = float(weights[chosen].sum() / weights.sum())
            break
    model = ConfidenceModel(
        [round(float(c), 4) for c in fitted.coef_[0]],
        round(float(fitted.intercept_[0]), 4),
        threshold,
    )
    return FittedConfidence(model, precision, answered, dict(counts))


def retyped(text: str) -> str:
    """The question as a customer might type it: lowercase, no punctuation, chat spellings
    (most of the time) and, every other question, one slipped key. Stable for a text."""
    rng = random.Random(hashlib.sha256(text.encode("utf-8")).digest())
    words = re.sub(r"[?!.,]", "", text.lower()).split()
    words = [CHAT_SPELLINGS.get(w, w) if rng.random() < 0.7 else w for w in words]
    long_words = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if long_words and rng.random() < 0.5:
        i = rng.choice(long_words)
        w, j = words[i], rng.randrange(1, len(words[i]) - 1)
        # a dropped letter or two letters swapped
        words[i] = (
            w[:j] + w[j + 1 :] if rng.random() < 0.5 else w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :]
        )
    return " ".join(words)


def _as_query(text: str) -> str:
    return text.strip().rstrip("?").strip().lower()
