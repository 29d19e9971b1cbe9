"""`NameAndAddressModel`: the project's small spaCy pipeline for person names and street
addresses (labels PERSON and ADDRESS).

No English spaCy pipeline is published on PyPI by its makers, and re-uploads cannot be
checked against the official release here, so the project trains its own: a blank
English tokenizer and a CNN NER (`privacy.train`, `make train-privacy`) on
data/privacy/ner_train.jsonl, written for this project. The trained pipeline is
committed in `privacy/model/` (a few MB) and loads in well under a second.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

from core.constants import PII_ADDRESS, PII_PERSON
from core.errors import ConfigurationError
from core.paths import PROJECT_ROOT
from privacy.redacted import Span

MODEL_DIR = PROJECT_ROOT / "privacy" / "model"
LABELS = (PII_PERSON, PII_ADDRESS)


class NameAndAddressModel:
    """The pipeline in `model_dir`, loaded on first use (thread-safe)."""

    def __init__(self, model_dir: Path = MODEL_DIR) -> None:
        self.model_dir = model_dir
        self._nlp: Any = None
        self._lock = threading.Lock()

    @property
    def nlp(self) -> Any:
        return self.load()

    def load(self) -> Any:
        """The pipeline, loaded now if it is not yet."""
        with self._lock:
            if self._nlp is None:
                self._nlp = load(self.model_dir)
            return self._nlp

    def spans(self, text: str) -> list[Span]:
        doc = self.nlp(text)
        return [
            Span(entity.start_char, entity.end_char, entity.label_)
            for entity in doc.ents
            if entity.label_ in LABELS
        ]


def load(model_dir: Path) -> Any:
    spacy = import_spacy_without_torch()
    if not (model_dir / "meta.json").is_file():
        raise ConfigurationError(
            f"No name and address model in {model_dir}. It is committed with the code; "
            "restore it (git checkout privacy/model) or train it with `make train-privacy`."
        )
    return spacy.load(model_dir)


def import_spacy_without_torch() -> Any:
    """spaCy, imported so that its thinc does not import PyTorch (which it does whenever
    PyTorch is installed, to offer models built on it): about 550 MB in each process
    that redacts, for a CNN that runs on numpy. PyTorch itself stays importable; only
    thinc, imported here first, goes without it. A process that has imported PyTorch or
    thinc already gets spaCy as it is."""
    if "thinc" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # "import torch" fails
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy
