"""`make index`: build the help-center index from data/knowledge/*.md.

    python -m knowledge.build [--articles data/knowledge] [--out models/knowledge] [--force]

Splits every article into passages by section, embeds them with all-MiniLM-L6-v2 (only
articles that are new or changed since the last build; --force re-embeds all), writes the
FAISS and BM25 indexes, then fits the answer-confidence model on questions made from the
articles and on out-of-scope questions from ../shared/data (`knowledge.calibration`;
never on the labelled questions `make eval-knowledge` reports). A running assistant picks
the new index up without a restart.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from tqdm import tqdm

from core.paths import DATA_DIR
from knowledge.articles import load_articles
from knowledge.calibration import (
    TARGET_PRECISION,
    fit_confidence,
    help_center_questions,
    out_of_scope_questions,
)
from knowledge.errors import KnowledgeError
from knowledge.index import MANIFEST, HelpCenterIndex
from knowledge.retriever import CONFIDENCE_FILE, Retriever, index_dir

ARTICLES_DIR = DATA_DIR / "knowledge"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.build",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--articles", type=Path, default=ARTICLES_DIR)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--force", action="store_true", help="re-embed every article")
    args = parser.parse_args(argv)
    out = args.out or index_dir()
    try:
        articles = load_articles(args.articles)
    except KnowledgeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.force and out.exists():
        shutil.rmtree(out)
    from nlu.encoder import shared_encoder

    encoder = shared_encoder()
    bar = tqdm(total=0, desc="embedding changed articles", unit="entry")

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    # Until the new model is fitted, a running assistant uses the built-in one, not one
    # fitted on the previous articles (or on the features of an older version).
    (out / CONFIDENCE_FILE).unlink(missing_ok=True)
    report = HelpCenterIndex.build(articles, encoder.embed, out, progress=progress)
    bar.close()
    retriever = Retriever(out, encoder=encoder)
    questions = help_center_questions(retriever.index) + out_of_scope_questions()
    fitted = fit_confidence(retriever, questions)
    if fitted is not None:
        fitted.model.save(out, fitted.report())
        (out / MANIFEST).touch()  # a running assistant reloads, with the new model
    print(
        f"help-center index: {report.articles} articles, {report.passages} search entries "
        f"({report.embedded_articles} embedded, {report.reused_articles} unchanged, "
        f"{report.removed_articles} removed), {report.index_type} index, "
        f"{report.seconds:.1f} s → {out}"
    )
    if fitted is not None:
        counts = ", ".join(f"{n} {source}" for source, n in fitted.counts.items())
        print(
            f"answer confidence: threshold {fitted.model.threshold:.2f}, "
            f"{fitted.precision:.0%} of answers right (target ≥ {TARGET_PRECISION:.0%}), "
            f"{fitted.answered:.0%} answered, on {counts}"
        )
    else:
        print(
            "answer confidence: the built-in model (no out-of-scope questions to fit on: "
            "../shared/data not found)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
