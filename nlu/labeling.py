"""The labelled support conversations: reading, checking, splitting and double labelling.

`data/emotion/conversations/*.jsonl` holds one conversation per line:

    {"id": "a-0001", "turns": [
        {"speaker": "bot", "text": "Hi! How can I help?"},
        {"speaker": "customer", "text": "I have not received my order.",
         "sentiment": "negative", "frustration": 1, "urgency": 0,
         "cue": "expectation_let_down"}, ...]}

Customer turns carry the labels that docs/labeling.md defines, judged in the conversation
so far. `python -m nlu.labeling check` reads every file and names each line that breaks
the format; `stats` counts the labels; `agreement` prints Cohen's κ of the double-labelled
sample (`data/emotion/double_labels.jsonl`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.paths import PROJECT_ROOT

CONVERSATIONS_DIR = PROJECT_ROOT / "data" / "emotion" / "conversations"
DOUBLE_LABELS = PROJECT_ROOT / "data" / "emotion" / "double_labels.jsonl"

CUSTOMER = "customer"
SPEAKERS = (CUSTOMER, "bot", "agent")
SENTIMENTS = ("negative", "neutral", "positive")
CUES = (
    "explicit_anger",
    "sarcasm",
    "threat_to_leave",
    "persisting_problem",
    "effort_spent",
    "expectation_let_down",
    "after_bot_failure",
    "polite_indirect",
    "calm_request",
    "calm_cancel",
    "calm_refund",
    "calm_complaint",
    "confusion",
    "anxiety",
    "urgent_safety",
    "urgent_security",
    "urgent_deadline",
    "mixed",
    "positive",
    "details",
    "greeting",
)
LABELS = ("sentiment", "frustration", "urgency")
MAX_TEXT_CHARS = 2000
MIN_CUSTOMER_TURNS, MAX_CUSTOMER_TURNS = 2, 6

# Split by conversation: a conversation's turns are all in one part.
TEST_FRACTION = 0.25
CALIBRATION_FRACTION = 0.15


class LabelFormatError(ValueError):
    """A conversation file breaks the format of docs/labeling.md."""


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str
    sentiment: str = ""
    frustration: int = -1
    urgency: int = -1
    cue: str = ""

    @property
    def is_customer(self) -> bool:
        return self.speaker == CUSTOMER


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: tuple[Turn, ...]
    source: str = ""

    def customer_turns(self) -> Iterable[tuple[int, Turn]]:
        return ((i, t) for i, t in enumerate(self.turns) if t.is_customer)


@dataclass(frozen=True)
class LabelledTurn:
    """A customer turn with its context: the customer's previous turn and the reply
    before this turn (either may be empty)."""

    conversation: str
    index: int
    text: str
    previous_customer: str
    last_reply: str
    sentiment: str
    frustration: int
    urgency: int
    cue: str


def _turn(raw: object, where: str) -> Turn:
    if not isinstance(raw, dict):
        raise LabelFormatError(f"{where}: a turn must be an object, got {type(raw).__name__}")
    speaker, text = raw.get("speaker"), raw.get("text")
    if speaker not in SPEAKERS:
        raise LabelFormatError(f"{where}: speaker must be one of {SPEAKERS}, got {speaker!r}")
    if not isinstance(text, str) or not text.strip():
        raise LabelFormatError(f"{where}: text must be a non-empty string")
    if len(text) > MAX_TEXT_CHARS:
        raise LabelFormatError(f"{where}: text is {len(text)} characters; at most {MAX_TEXT_CHARS}")
    if speaker != CUSTOMER:
        extra = set(raw) - {"speaker", "text"}
        if extra:
            raise LabelFormatError(
                f"{where}: a {speaker} turn has no labels; remove {sorted(extra)}"
            )
        return Turn(speaker, text)
    sentiment, frustration, urgency, cue = (raw.get(k) for k in (*LABELS, "cue"))
    if sentiment not in SENTIMENTS:
        raise LabelFormatError(f"{where}: sentiment must be one of {SENTIMENTS}, got {sentiment!r}")
    for name, value in (("frustration", frustration), ("urgency", urgency)):
        if value not in (0, 1) or isinstance(value, bool):
            raise LabelFormatError(f"{where}: {name} must be 0 or 1, got {value!r}")
    if cue not in CUES:
        raise LabelFormatError(
            f"{where}: cue must be one of the tags in docs/labeling.md, got {cue!r}"
        )
    if frustration == 1 and sentiment != "negative":
        raise LabelFormatError(
            f"{where}: frustration 1 with sentiment {sentiment!r}; docs/labeling.md: a "
            "frustrated turn is negative"
        )
    assert isinstance(frustration, int) and isinstance(urgency, int)  # checked above
    return Turn(speaker, text, str(sentiment), frustration, urgency, str(cue))


def parse_conversation(line: str, where: str) -> Conversation:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as e:
        raise LabelFormatError(f"{where}: not JSON ({e.msg} at column {e.colno})") from e
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise LabelFormatError(f"{where}: a conversation is an object with a string id")
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns:
        raise LabelFormatError(f"{where}: turns must be a non-empty list")
    parsed = tuple(_turn(t, f"{where} turn {i + 1}") for i, t in enumerate(turns))
    customers = sum(t.is_customer for t in parsed)
    if not MIN_CUSTOMER_TURNS <= customers <= MAX_CUSTOMER_TURNS:
        raise LabelFormatError(
            f"{where}: {customers} customer turns; a conversation has "
            f"{MIN_CUSTOMER_TURNS} to {MAX_CUSTOMER_TURNS}"
        )
    return Conversation(raw["id"], parsed, where)


def read_file(path: Path) -> list[Conversation]:
    conversations = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            conversations.append(parse_conversation(line, f"{path.name}:{number}"))
    return conversations


def read_conversations(directory: Path = CONVERSATIONS_DIR) -> list[Conversation]:
    """Every conversation in `directory`'s *.jsonl files; ids must be unique."""
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise LabelFormatError(f"No *.jsonl conversation files in {directory}.")
    conversations: list[Conversation] = []
    seen: dict[str, str] = {}
    for path in files:
        for conversation in read_file(path):
            if conversation.id in seen:
                raise LabelFormatError(
                    f"{conversation.source}: id {conversation.id!r} is already used at "
                    f"{seen[conversation.id]}; ids are unique across files"
                )
            seen[conversation.id] = conversation.source
            conversations.append(conversation)
    return conversations


def labelled_turns(conversation: Conversation) -> list[LabelledTurn]:
    out: list[LabelledTurn] = []
    previous_customer = ""
    for index, turn in conversation.customer_turns():
        before = conversation.turns[index - 1] if index else None
        last_reply = before.text if before is not None and not before.is_customer else ""
        out.append(
            LabelledTurn(
                conversation.id,
                index,
                turn.text,
                previous_customer,
                last_reply,
                turn.sentiment,
                turn.frustration,
                turn.urgency,
                turn.cue,
            )
        )
        previous_customer = turn.text
    return out


def split_of(conversation_id: str) -> str:
    """`test`, `calibration` or `train`, fixed by a hash of the conversation id."""
    digest = hashlib.sha256(f"conversation:{conversation_id}".encode()).digest()
    f = int.from_bytes(digest[:8], "big") / 2**64
    if f < TEST_FRACTION:
        return "test"
    if f < TEST_FRACTION + CALIBRATION_FRACTION:
        return "calibration"
    return "train"


def turns_in_split(
    split: str, conversations: Sequence[Conversation] | None = None
) -> list[LabelledTurn]:
    if conversations is None:
        conversations = read_conversations()
    return [
        turn
        for conversation in conversations
        if split_of(conversation.id) == split
        for turn in labelled_turns(conversation)
    ]


# --- double labelling -------------------------------------------------------------------


def previous_turns(turns: Sequence[LabelledTurn]) -> list[int]:
    """For each turn, the index of the same conversation's previous customer turn in
    `turns` (-1: its first), as `EmotionScorer.in_conversations` takes them."""
    last: dict[str, int] = {}
    previous = []
    for i, t in enumerate(turns):
        previous.append(last.get(t.conversation, -1) if t.previous_customer else -1)
        last[t.conversation] = i
    return previous


def read_double_labels(path: Path = DOUBLE_LABELS) -> list[dict[str, object]]:
    """Rows {conversation, index, first: {labels}, second: {labels}, final: {labels},
    rule}: the second labeller's labels beside the first, and the resolved ones."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise LabelFormatError(f"{path.name}:{number}: not JSON ({e.msg})") from e
    return rows


def blind_sample(
    conversations: Sequence[Conversation], n: int, seed: int = 7
) -> list[dict[str, object]]:
    """`n` customer turns for a second labeller, spread over the files: each with the
    conversation up to it and no labels."""
    import random

    rng = random.Random(seed)
    by_source: dict[str, list[tuple[Conversation, int]]] = {}
    for c in conversations:
        for index, _ in c.customer_turns():
            by_source.setdefault(c.source.split(":")[0], []).append((c, index))
    picked: list[tuple[Conversation, int]] = []
    sources = sorted(by_source)
    for i, source in enumerate(sources):
        share = n // len(sources) + (1 if i < n % len(sources) else 0)
        picked += rng.sample(by_source[source], share)
    return [
        {
            "conversation": c.id,
            "index": index,
            "context": [{"speaker": t.speaker, "text": t.text} for t in c.turns[:index]],
            "text": c.turns[index].text,
        }
        for c, index in picked
    ]


def cohen_kappa(first: Sequence[object], second: Sequence[object]) -> float:
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score([str(x) for x in first], [str(x) for x in second]))


def agreement(rows: Sequence[dict[str, object]]) -> dict[str, tuple[float, float, int]]:
    """Per label: (Cohen's κ, raw agreement, disagreements)."""
    out = {}
    for label in LABELS:
        a = [row["first"][label] for row in rows]  # type: ignore[index]
        b = [row["second"][label] for row in rows]  # type: ignore[index]
        same = sum(x == y for x, y in zip(a, b, strict=True))
        out[label] = (cohen_kappa(a, b), same / len(rows), len(rows) - same)
    return out


def stats(conversations: Sequence[Conversation]) -> str:
    turns = [t for c in conversations for t in labelled_turns(c)]
    by_split = Counter(split_of(c.id) for c in conversations for _ in labelled_turns(c))
    lines = [
        f"{len(conversations)} conversations, {len(turns)} labelled customer turns "
        f"(train {by_split['train']}, calibration {by_split['calibration']}, "
        f"test {by_split['test']})",
        "sentiment: "
        + ", ".join(f"{k} {v}" for k, v in sorted(Counter(t.sentiment for t in turns).items())),
        f"frustration 1: {sum(t.frustration for t in turns)}   "
        f"urgency 1: {sum(t.urgency for t in turns)}",
        "cues: " + ", ".join(f"{k} {v}" for k, v in Counter(t.cue for t in turns).most_common()),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlu.labeling", description=__doc__)
    parser.add_argument("command", choices=("check", "stats", "agreement", "sample"))
    parser.add_argument("--dir", type=Path, default=CONVERSATIONS_DIR)
    parser.add_argument("--n", type=int, default=240, help="sample: how many turns")
    parser.add_argument("--out", type=Path, help="sample: the file for the second labeller")
    args = parser.parse_args(argv)
    try:
        conversations = read_conversations(args.dir)
        if args.command == "check":
            print(f"ok: {len(conversations)} conversations in {args.dir}")
        elif args.command == "stats":
            print(stats(conversations))
        elif args.command == "sample":
            if args.out is None:
                parser.error("sample needs --out FILE")
            rows = blind_sample(conversations, args.n)
            args.out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
            print(f"{len(rows)} turns without labels in {args.out}")
        else:
            rows = read_double_labels()
            print(f"{len(rows)} double-labelled customer turns")
            for label, (kappa, raw, disagreements) in agreement(rows).items():
                print(
                    f"  {label:12} Cohen's κ {kappa:.3f}   agreement {raw:.1%}   "
                    f"{disagreements} disagreements resolved by docs/labeling.md"
                )
    except (LabelFormatError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
