"""`make eval-privacy`: recall and precision per kind of personal data, ours and Presidio's.

    python -m privacy.evaluate [--data FILE ...] [--json results/privacy.json]

Both detectors read every message of each evaluation set in the same run:
data/eval/pii.jsonl (customer messages written for this project, with labelled spans and
hard negatives; never used for training, though the categories of the first model's
mistakes on it guided the training data) and data/eval/pii_holdout.jsonl (written later
by another author who saw neither the detector nor the other data). The detectors:

- **ours**: `privacy.Redactor` (patterns with checks, and the project's name and address
  model);
- **Presidio**: `presidio_analyzer.AnalyzerEngine()` with its default recognizers. Its
  default spaCy pipeline (en_core_web_lg) cannot be installed offline, so its NLP engine
  runs the project's name and address model instead (ADDRESS read as Presidio's
  LOCATION); its labels map to ours as in `PRESIDIO_LABELS` (DATE_TIME → DOB: Presidio
  has no date-of-birth recognizer).

A labelled span is found when a prediction of the same label covers at least half of
it; a prediction is correct when at least half of it lies in a labelled span of its
label.

Then, where the public corpora are beside the checkout (../shared/data), both detectors
read messages with almost no names or addresses: CLINC150's validation queries (a few
say "my name is jason") and GoEmotions' validation comments (whose names its authors
replaced by "[NAME]"). The share of them where a detector finds a name or an address is
mostly false alarms, on text unlike the training data: what turns "I am furious" into
"I am [PERSON]" in a transcript an agent reads. It is shown, not a target.

The targets: recall ≥ 0.97 on e-mail, phone, card and IBAN, ≥ 0.85 on names and
addresses, overall precision ≥ 0.90, and p95 ≤ 10 ms per message. The command exits 1
when ours misses one on data/eval/pii.jsonl (the holdout's verdicts are shown too).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.constants import (
    PII_ADDRESS,
    PII_CARD,
    PII_DOB,
    PII_EMAIL,
    PII_IBAN,
    PII_IP,
    PII_LABELS,
    PII_NATIONAL_ID,
    PII_PERSON,
    PII_PHONE,
)
from core.paths import PROJECT_ROOT, SHARED_DATA_DIR
from privacy.redacted import Span

DATA = PROJECT_ROOT / "data" / "eval" / "pii.jsonl"
# Written later, by another author who saw neither the detector nor the other sets.
HOLDOUT = PROJECT_ROOT / "data" / "eval" / "pii_holdout.jsonl"
RECALL_TARGETS = {
    PII_EMAIL: 0.97,
    PII_PHONE: 0.97,
    PII_CARD: 0.97,
    PII_IBAN: 0.97,
    PII_PERSON: 0.85,
    PII_ADDRESS: 0.85,
}
PRECISION_TARGET = 0.90
P95_TARGET_MS = 10.0
PRESIDIO_LABELS = {
    "EMAIL_ADDRESS": PII_EMAIL,
    "PHONE_NUMBER": PII_PHONE,
    "CREDIT_CARD": PII_CARD,
    "IBAN_CODE": PII_IBAN,
    "US_SSN": PII_NATIONAL_ID,
    "UK_NINO": PII_NATIONAL_ID,
    "IP_ADDRESS": PII_IP,
    "PERSON": PII_PERSON,
    "LOCATION": PII_ADDRESS,
    "DATE_TIME": PII_DOB,
}


@dataclass
class Tally:
    gold: int = 0
    found: int = 0
    predicted: int = 0
    correct: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0


@dataclass
class Result:
    name: str
    tallies: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k in PII_LABELS})
    latencies_ms: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def overall(self) -> Tally:
        total = Tally()
        for tally in self.tallies.values():
            total.gold += tally.gold
            total.found += tally.found
            total.predicted += tally.predicted
            total.correct += tally.correct
        return total

    @property
    def p95_ms(self) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else 0.0
        return statistics.quantiles(self.latencies_ms, n=20)[-1]


def overlap(a: Span, b: Span) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def score(result: Result, text: str, gold: list[Span], predicted: list[Span]) -> None:
    for span in gold:
        tally = result.tallies[span.label]
        tally.gold += 1
        if any(
            p.label == span.label and overlap(p, span) * 2 >= span.end - span.start
            for p in predicted
        ):
            tally.found += 1
        else:
            result.misses.append(f"{span.label}: {text[span.start : span.end]!r} in {text!r}")
    for span in predicted:
        if span.label not in result.tallies:
            continue
        tally = result.tallies[span.label]
        tally.predicted += 1
        if any(
            g.label == span.label and overlap(g, span) * 2 >= span.end - span.start for g in gold
        ):
            tally.correct += 1
        else:
            result.false_alarms.append(f"{span.label}: {text[span.start : span.end]!r} in {text!r}")


def run(name: str, detect: Callable[[str], list[Span]], rows: list[dict[str, Any]]) -> Result:
    result = Result(name)
    detect(rows[0]["text"])  # loads the model outside the timings
    for row in rows:
        started = time.perf_counter()
        predicted = detect(row["text"])
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        gold = [Span(s["start"], s["end"], s["label"]) for s in row.get("spans", [])]
        score(result, row["text"], gold, predicted)
    return result


def ours() -> Callable[[str], list[Span]]:
    from privacy.redactor import Redactor

    return Redactor().spans


def presidio() -> Callable[[str], list[Span]]:
    import tldextract

    # Presidio checks e-mail domains with tldextract, which fetches the public suffix
    # list from the internet on first use: use the snapshot it ships with.
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)  # type: ignore[assignment]
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from privacy.ner import MODEL_DIR

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": str(MODEL_DIR)}],
            "ner_model_configuration": {
                "model_to_presidio_entity_mapping": {"PERSON": "PERSON", "ADDRESS": "LOCATION"},
            },
        }
    )
    engine = AnalyzerEngine(nlp_engine=provider.create_engine())

    def detect(text: str) -> list[Span]:
        return [
            Span(r.start, r.end, PRESIDIO_LABELS[r.entity_type])
            for r in engine.analyze(text=text, language="en")
            if r.entity_type in PRESIDIO_LABELS
        ]

    return detect


def table(results: list[Result]) -> str:
    header = f"{'label':<12} {'spans':>5}  " + "  ".join(
        f"{r.name + ' R':>12} {r.name + ' P':>12}" for r in results
    )
    lines = [header, "-" * len(header)]
    for label in PII_LABELS:
        gold = results[0].tallies[label].gold
        cells = "  ".join(
            f"{r.tallies[label].recall:>12.3f} {r.tallies[label].precision:>12.3f}" for r in results
        )
        lines.append(f"{label:<12} {gold:>5}  {cells}")
    cells = "  ".join(f"{r.overall.recall:>12.3f} {r.overall.precision:>12.3f}" for r in results)
    lines.append(f"{'overall':<12} {results[0].overall.gold:>5}  {cells}")
    lines.append(
        f"{'p95 ms/msg':<12} {'':>5}  " + "  ".join(f"{r.p95_ms:>12.2f} {'':>12}" for r in results)
    )
    return "\n".join(lines)


def verdicts(result: Result) -> list[tuple[str, bool]]:
    checks = [
        (
            f"recall {label} {result.tallies[label].recall:.3f} ≥ {target}",
            result.tallies[label].recall >= target,
        )
        for label, target in RECALL_TARGETS.items()
    ]
    checks.append(
        (
            f"overall precision {result.overall.precision:.3f} ≥ {PRECISION_TARGET}",
            result.overall.precision >= PRECISION_TARGET,
        )
    )
    checks.append(
        (f"p95 {result.p95_ms:.2f} ms ≤ {P95_TARGET_MS} ms", result.p95_ms <= P95_TARGET_MS)
    )
    return checks


def evaluate(path: Path, presidio_too: bool, show: int) -> tuple[list[Result], bool]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    print(f"==> {len(rows)} messages from {path}")
    results = [run("ours", ours(), rows)]
    if presidio_too:
        results.append(run("presidio", presidio(), rows))
    print(table(results))
    mine = results[0]
    for kind, items in (("missed", mine.misses), ("false alarms", mine.false_alarms)):
        if items and show:
            print(f"\nours, {kind} ({len(items)}):")
            for item in items[:show]:
                print("  " + item)
    print()
    checks = verdicts(mine)
    for text, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    print()
    return results, all(ok for _, ok in checks)


def clean_messages(root: Path = SHARED_DATA_DIR, per_corpus: int = 2000) -> dict[str, list[str]]:
    """Public validation messages with almost no names or addresses, by corpus (none when the
    corpora are not there). Only validation splits: the test splits are held out."""
    found: dict[str, list[str]] = {}
    clinc = root / "clinc150" / "train_val.json"
    if clinc.is_file():
        items = json.loads(clinc.read_text(encoding="utf-8")).get("val", [])
        found["CLINC150 val"] = [text for text, _ in items][:per_corpus]
    goemotions = root / "goemotions" / "original" / "dev.tsv"
    if goemotions.is_file():
        lines = goemotions.read_text(encoding="utf-8").splitlines()
        found["GoEmotions val"] = [line.split("\t")[0] for line in lines if line][:per_corpus]
    return found


def false_alarms(presidio_too: bool, per_corpus: int) -> dict[str, dict[str, float]]:
    """Per corpus and detector: the share of messages where a name or address is found."""
    corpora = clean_messages(per_corpus=per_corpus)
    if not corpora:
        print(f"(no public corpora at {SHARED_DATA_DIR}: the false-alarm check is skipped)\n")
        return {}
    detectors = [("ours", ours())] + ([("presidio", presidio())] if presidio_too else [])
    rates: dict[str, dict[str, float]] = {}
    print("==> names or addresses found in public messages that hold almost none")
    print(f"{'corpus':<16} {'messages':>8}  " + "  ".join(f"{n:>10}" for n, _ in detectors))
    for corpus, texts in corpora.items():
        rates[corpus] = {}
        examples: list[str] = []
        for name, detect in detectors:
            flagged = 0
            for text in texts:
                spans = [s for s in detect(text) if s.label in (PII_PERSON, PII_ADDRESS)]
                if spans:
                    flagged += 1
                    if name == "ours" and len(examples) < 3:
                        examples.append(
                            ", ".join(f"{text[s.start : s.end]!r} ({s.label})" for s in spans)
                        )
            rates[corpus][name] = flagged / len(texts) if texts else 0.0
        print(
            f"{corpus:<16} {len(texts):>8}  "
            + "  ".join(f"{rates[corpus][n]:>10.1%}" for n, _ in detectors)
            + (f"   e.g. {'; '.join(examples)}" if examples else "")
        )
    print()
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m privacy.evaluate", description=__doc__)
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        help=f"an evaluation file (repeatable; default: {DATA.name} and {HOLDOUT.name})",
    )
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--no-presidio", action="store_true", help="ours only")
    parser.add_argument("--show", type=int, default=10, help="misses and false alarms to list")
    parser.add_argument(
        "--clean",
        type=int,
        default=2000,
        help="public messages per corpus for the false-alarm check (0: skip it)",
    )
    options = parser.parse_args(argv)
    paths = options.data or [p for p in (DATA, HOLDOUT) if p.is_file()]
    numbers: dict[str, Any] = {}
    passed = True
    for path in paths:
        results, ok = evaluate(path, not options.no_presidio, options.show)
        if options.data or path == DATA:
            passed = passed and ok
        else:
            print(f"  ({path.name}: an independent check, shown; the targets are on {DATA.name})\n")
        numbers[path.name] = {
            r.name: {
                "per_label": {
                    k: {"recall": t.recall, "precision": t.precision, "spans": t.gold}
                    for k, t in r.tallies.items()
                },
                "overall": {"recall": r.overall.recall, "precision": r.overall.precision},
                "p95_ms": r.p95_ms,
            }
            for r in results
        }
    if options.clean:
        numbers["false_alarm_rate"] = false_alarms(not options.no_presidio, options.clean)
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(numbers, indent=2))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
