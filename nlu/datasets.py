"""Labelled messages for training and evaluating the emotion heads.

Sources:
- the project's own customer-support messages, `data/emotion/support_messages.csv`
  (split by a hash of the text: 70% train, 10% calibration, 20% test);
- TweetEval sentiment val, the only labelled neutral tweets here, halved by a hash of
  the text: one half trained on, the other the evaluation's held-out set;
- when `../shared/data` is present, the public corpora (never committed): GoEmotions,
  TweetEval, BANKING77 and CLINC150, mapped to the three tasks as below.

Every `Example` carries the labels it has; a task whose label is None is not trained or
scored on that example.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.paths import DATA_DIR, PROJECT_ROOT, SHARED_DATA_DIR
from nlu.errors import ModelNotFoundError

OWN_DATA = DATA_DIR / "emotion" / "support_messages.csv"
LEAD_REVIEWS = DATA_DIR / "emotion" / "lead_reviews.csv"  # insights.annotations writes it
SHARED_DATA = SHARED_DATA_DIR

SENTIMENTS = ("negative", "neutral", "positive")
NEGATIVE, NEUTRAL, POSITIVE = 0, 1, 2

# GoEmotions labels that mean frustration (the evaluation's definition).
FRUSTRATION_EMOTIONS = frozenset({"anger", "annoyance", "disappointment", "disapproval"})

# Weak urgency labels from intent corpora: urgent intents against informational ones.
BANKING77_URGENT = frozenset(
    {
        "lost_or_stolen_card",
        "compromised_card",
        "card_swallowed",
        "cash_withdrawal_not_recognised",
        "card_payment_not_recognised",
        "direct_debit_payment_not_recognised",
        "lost_or_stolen_phone",
        "transaction_charged_twice",
    }
)
BANKING77_INFORMATIONAL = frozenset(
    {
        "exchange_rate",
        "fiat_currency_support",
        "supported_cards_and_currencies",
        "visa_or_mastercard",
        "age_limit",
        "country_support",
        "card_delivery_estimate",
        "top_up_limits",
        "disposable_card_limits",
        "getting_virtual_card",
        "get_physical_card",
        "order_physical_card",
        "getting_spare_card",
        "apple_pay_or_google_pay",
        "atm_support",
        "card_acceptance",
        "why_verify_identity",
        "exchange_charge",
        "transfer_timing",
        "receiving_money",
        "automatic_top_up",
        "top_up_by_card_charge",
        "top_up_by_bank_transfer_charge",
        "card_about_to_expire",
        "change_pin",
        "edit_personal_details",
        "activate_my_card",
        "verify_my_identity",
        "get_disposable_virtual_card",
        "exchange_via_app",
        "card_linking",
    }
)
CLINC150_URGENT = frozenset({"report_fraud", "report_lost_card", "freeze_account", "damaged_card"})
CLINC150_INFORMATIONAL = frozenset(
    {
        "apr",
        "interest_rate",
        "exchange_rate",
        "international_fees",
        "routing",
        "credit_limit",
        "rewards_balance",
        "redeem_rewards",
        "min_payment",
        "bill_due",
        "bill_balance",
        "balance",
        "taxes",
        "w2",
        "income",
        "direct_deposit",
        "order_checks",
        "spending_history",
        "credit_score",
        "improve_credit_score",
        "insurance",
        "expiration_date",
        "pin_change",
        "new_card",
        "replacement_card_duration",
        "travel_notification",
        "international_visa",
        "credit_limit_change",
        "transactions",
        "pay_bill",
    }
)


@dataclass(frozen=True)
class Example:
    text: str
    sentiment: int | None = None  # 0 negative, 1 neutral, 2 positive
    frustration: int | None = None  # 0 or 1
    urgency: int | None = None  # 0 or 1
    source: str = ""
    emotions: tuple[int, ...] | None = None  # GoEmotions label ids (auxiliary training task)


# Share of TweetEval sentiment val trained on; the rest is the evaluation's held-out half.
TWEETEVAL_TRAIN_SHARE = 0.5


def hash_fraction(text: str, salt: str = "") -> float:
    """A stable number in [0, 1) from the text: the same text always lands in the same split."""
    digest = hashlib.sha256((salt + text.strip().lower()).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def own_split(text: str) -> str:
    f = hash_fraction(text, "own")
    return "train" if f < 0.7 else "calibration" if f < 0.8 else "test"


def own_examples(
    split: str | None = None, path: Path = OWN_DATA, reviews: Path | None = LEAD_REVIEWS
) -> list[Example]:
    """The project's labelled support messages (split: train, calibration, test, or all),
    with the leads' corrections (`make export-annotations`) when there are any."""
    if not path.is_file():
        raise ModelNotFoundError(f"{path} is missing; restore it from git.")
    rows: dict[str, dict[str, str]] = {}  # a lead's correction replaces the same words
    for source in (path, reviews):
        if source is not None and source.is_file():
            with source.open(newline="", encoding="utf-8") as f:
                rows.update((row["text"], row) for row in csv.DictReader(f))
    return [
        Example(
            text=row["text"],
            sentiment=SENTIMENTS.index(row["sentiment"]),
            frustration=int(row["frustration"]),
            urgency=int(row["urgency"]),
            source=f"own:{row['cue']}",
        )
        for row in rows.values()
        if split is None or own_split(row["text"]) == split
    ]


def conversation_examples(split: str) -> list[Example]:
    """The customer turns of the labelled support conversations in `split` (train,
    calibration or test, split by conversation), as single messages: their text and
    labels, without the context (`nlu.labeling.turns_in_split` gives it)."""
    from nlu.labeling import turns_in_split

    return [
        Example(t.text, SENTIMENTS.index(t.sentiment), t.frustration, t.urgency, f"chat:{t.cue}")
        for t in turns_in_split(split)
    ]


def shared_data_available(root: Path = SHARED_DATA) -> bool:
    return (root / "goemotions").is_dir()


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def goemotions(part: str, root: Path = SHARED_DATA) -> Iterator[Example]:
    """GoEmotions: `train` and `calibration` (95% / 5% of its train split, by hash) or `dev`.
    Sentiment from the label groups; frustration from anger / annoyance / disappointment /
    disapproval."""
    split = "dev" if part == "dev" else "train"
    labels = _lines(root / "goemotions" / "original" / "labels.txt")
    groups = _lines(root / "goemotions" / "group" / "labels.txt")
    original = root / "goemotions" / "original" / f"{split}.tsv"
    grouped = root / "goemotions" / "group" / f"{split}.tsv"
    group_rows = {}
    for line in _lines(grouped):
        text, ids, key = line.split("\t")
        group_rows[key] = {groups[int(i)] for i in ids.split(",")}
    for line in _lines(original):
        text, ids, key = line.split("\t")
        if split == "train" and (hash_fraction(text, "goemotions") < 0.95) != (part == "train"):
            continue
        emotions = {labels[int(i)] for i in ids.split(",")}
        group = group_rows.get(key, set())
        sentiment: int | None = None
        if group == {"positive"}:
            sentiment = POSITIVE
        elif group == {"negative"}:
            sentiment = NEGATIVE
        elif group == {"neutral"}:
            sentiment = NEUTRAL
        yield Example(
            text=text,
            sentiment=sentiment,
            frustration=int(bool(emotions & FRUSTRATION_EMOTIONS)),
            source="goemotions",
            emotions=tuple(sorted(int(i) for i in ids.split(","))),
        )


def tweeteval_emotion(split: str, root: Path = SHARED_DATA) -> Iterator[Example]:
    """TweetEval emotion (`train` or `val`): anger/sadness negative, joy/optimism positive;
    anger is frustration, joy/optimism are not (sadness is left unlabelled)."""
    folder = root / "tweeteval" / "emotion"
    texts = _lines(folder / f"{split}_text.txt")
    labels = [int(x) for x in _lines(folder / f"{split}_labels.txt")]
    for text, label in zip(texts, labels, strict=True):
        sentiment = NEGATIVE if label in (0, 3) else POSITIVE
        frustration = 1 if label == 0 else 0 if label in (1, 2) else None
        yield Example(
            text=text.strip(),
            sentiment=sentiment,
            frustration=frustration,
            source="tweeteval-emotion",
        )


def tweeteval_sentiment(part: str, root: Path = SHARED_DATA) -> list[Example]:
    """TweetEval sentiment val (the only split here), halved by a hash of the text: `train`
    (in-domain examples of what neutral means in short social messages) or `eval` (the
    held-out half the evaluation reports, never trained or calibrated on)."""
    if part not in ("train", "eval"):
        raise ValueError(f"part must be train or eval, got {part!r}")
    folder = root / "tweeteval" / "sentiment"
    texts = _lines(folder / "val_text.txt")
    labels = [int(x) for x in _lines(folder / "val_labels.txt")]
    return [
        Example(text=t.strip(), sentiment=y, source="tweeteval-sentiment")
        for t, y in zip(texts, labels, strict=True)
        if (hash_fraction(t.strip(), "tweeteval-sentiment") < TWEETEVAL_TRAIN_SHARE)
        == (part == "train")
    ]


def banking77_urgency(part: str, root: Path = SHARED_DATA) -> Iterator[Example]:
    """BANKING77 train.csv as weak urgency labels (informational ones also neutral);
    `part` is `train` (70%), `calibration` (10%) or `eval` (20%), by a hash of the text."""
    with (root / "banking77" / "train.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            category = row["category"]
            if category in BANKING77_URGENT:
                urgency = 1
            elif category in BANKING77_INFORMATIONAL:
                urgency = 0
            else:
                continue
            fraction = hash_fraction(row["text"], "banking77")
            which = "train" if fraction < 0.7 else "calibration" if fraction < 0.8 else "eval"
            if which == part:
                # Informational questions are also examples of neutral sentiment.
                sentiment = None if urgency else NEUTRAL
                yield Example(
                    text=row["text"], sentiment=sentiment, urgency=urgency, source="banking77"
                )


def clinc150_urgency(part: str, root: Path = SHARED_DATA) -> Iterator[Example]:
    """CLINC150 as weak urgency labels: `train` and `calibration` (90% / 10% of its train
    split, by hash) or `eval` (its val split)."""
    data = json.loads((root / "clinc150" / "train_val.json").read_text(encoding="utf-8"))
    rows = (
        data["val"]
        if part == "eval"
        else [
            (t, i)
            for t, i in data["train"]
            if (hash_fraction(t, "clinc150") < 0.9) == (part == "train")
        ]
    )
    for text, intent in rows:
        if intent in CLINC150_URGENT:
            yield Example(text=text, urgency=1, source="clinc150")
        elif intent in CLINC150_INFORMATIONAL:
            yield Example(text=text, sentiment=NEUTRAL, urgency=0, source="clinc150")


def deduplicate(examples: Iterable[Example]) -> list[Example]:
    seen: set[str] = set()
    out = []
    for e in examples:
        key = e.text.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(e)
    return out


def data_versions(root: Path = SHARED_DATA) -> dict[str, str]:
    """SHA-256 of every data file a training run read, recorded next to the artifact."""
    files = [OWN_DATA]
    if shared_data_available(root):
        files += [
            root / "goemotions" / "original" / "train.tsv",
            root / "goemotions" / "group" / "train.tsv",
            root / "tweeteval" / "emotion" / "train_text.txt",
            root / "tweeteval" / "emotion" / "train_labels.txt",
            root / "tweeteval" / "sentiment" / "val_text.txt",
            root / "tweeteval" / "sentiment" / "val_labels.txt",
            root / "banking77" / "train.csv",
            root / "clinc150" / "train_val.json",
        ]

    def name(p: Path) -> str:
        return (
            str(p.relative_to(PROJECT_ROOT))
            if p.is_relative_to(PROJECT_ROOT)
            else "shared/data/" + str(p.relative_to(root))
        )

    return {name(p): hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in files}
