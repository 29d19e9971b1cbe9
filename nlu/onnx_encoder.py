"""`EncoderGraph`: the whole shared pass of a message as one ONNX Runtime graph.

    python -m nlu.onnx_encoder            # export (setup runs it when stale)

Inside Rasa every customer message goes through all-MiniLM-L6-v2 once (sentence
embedding and word-piece states for intents, entities and the help center) and through
the emotion model's own four layers on top of MiniLM's layer 2. In PyTorch that was
about 40 ms of the Rasa process's CPU per message on a 2-core machine; this graph does
the same work in ONNX Runtime in about half the time, and releases Python's GIL while it
runs, so `SharedEncoder` can run it beside Rasa's event loop (`SharedEncoder.prepare`).

Word-piece ids and mask in; three outputs:

- `sentence` [n, 384]: the mean-pooled, L2-normalised layer-6 output (the
  all-MiniLM-L6-v2 sentence embedding);
- `tokens` [n, T, 384]: layer-6 states per word piece;
- `emotion` [n, 5]: P(negative), P(neutral), P(positive), P(frustrated), P(urgent) from
  the committed emotion artifact's heads;
- `emotion_hidden` [n, 384]: the pooled state those heads read, which the context model
  (`nlu.context_model`) reads too.

The weights stay float32: the outputs equal PyTorch's to within 1e-5
(tests/nlu/test_onnx_encoder.py), so the trained intent classifier, the help-center
index and every evaluation table are unchanged. (An int8 graph was 1.8× faster again,
but moved sentence embeddings by up to 0.03 in cosine, enough to change answers.) The
graph is built, not committed: `models/encoder/shared.onnx`, stamped with the
fingerprint of the weights it came from; `SharedEncoder` uses it only when current.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from core.paths import MODELS_DIR
from nlu.artifact import ARTIFACT_DIR, CONFIG_FILE, WEIGHTS_FILE
from nlu.errors import ModelNotFoundError
from nlu.onnx_session import cpu_session
from nlu.tokenizer import minilm_path

GRAPH_DIR = MODELS_DIR / "encoder"
GRAPH_FILE = "shared.onnx"
STAMP_FILE = "shared.fingerprint"
OUTPUTS = ("sentence", "tokens", "emotion", "emotion_hidden")
DEFAULT_THREADS = 2
# Part of the fingerprint: bump it when `export` changes what the graph computes.
GRAPH_VERSION = 2


def fingerprint(emotion_dir: Path = ARTIFACT_DIR, minilm_dir: Path | None = None) -> str:
    """What the graph is built from: both sets of weights, the model code and
    `GRAPH_VERSION`."""
    digest = hashlib.sha256()
    minilm = minilm_dir or minilm_path()
    for path in (
        emotion_dir / WEIGHTS_FILE,
        emotion_dir / CONFIG_FILE,
        minilm / "model.safetensors",
        minilm / "config.json",
    ):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    for code in ("minilm.py", "emotion_model.py"):  # the modules the graph is traced from
        digest.update((Path(__file__).parent / code).read_bytes())
    digest.update(f"graph-version:{GRAPH_VERSION}".encode())
    return digest.hexdigest()[:20]


def is_current(out_dir: Path = GRAPH_DIR, emotion_dir: Path = ARTIFACT_DIR) -> bool:
    stamp = out_dir / STAMP_FILE
    try:
        return (
            (out_dir / GRAPH_FILE).is_file()
            and stamp.is_file()
            and stamp.read_text().strip() == fingerprint(emotion_dir)
        )
    except ModelNotFoundError:
        return False


def export(out_dir: Path = GRAPH_DIR, emotion_dir: Path = ARTIFACT_DIR) -> Path:
    """Export MiniLM and the emotion heads as one float32 graph; returns its path."""
    import torch

    from nlu.emotion_model import EmotionHeads
    from nlu.minilm import MiniLM, mean_pool
    from nlu.tokenizer import load_tokenizer, word_pieces

    path = minilm_path()
    minilm = MiniLM.from_pretrained(path)
    heads = EmotionHeads.load(emotion_dir)
    layers = minilm.config.layers

    class SharedPass(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.minilm, self.heads = minilm, heads

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor
        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
            branch = heads.branch_layer
            lower = self.minilm.forward_range(
                self.minilm.embeddings(input_ids), attention_mask, 0, branch
            )
            upper = self.minilm.forward_range(lower, attention_mask, branch, layers)
            sentence = torch.nn.functional.normalize(mean_pool(upper, attention_mask), dim=-1)
            scores, pooled = self.heads.scores_and_pooled(lower, attention_mask)
            return sentence, upper, scores, pooled

    pieces = word_pieces(load_tokenizer(path), ["where is my refund? this is taking forever"])
    ids, mask = torch.from_numpy(pieces.ids), torch.from_numpy(pieces.mask)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / GRAPH_FILE
    partial = out_dir / (GRAPH_FILE + ".partial")
    with torch.inference_mode():
        torch.onnx.export(
            SharedPass().eval(),
            (ids, mask),
            str(partial),
            input_names=["input_ids", "attention_mask"],
            output_names=list(OUTPUTS),
            opset_version=17,
            dynamo=False,
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "sentence": {0: "batch"},
                "tokens": {0: "batch", 1: "tokens"},
                "emotion": {0: "batch"},
                "emotion_hidden": {0: "batch"},
            },
        )
    partial.replace(target)
    (out_dir / STAMP_FILE).write_text(fingerprint(emotion_dir) + "\n")
    return target


class EncoderGraph:
    """Runs the exported graph; cheap to construct, loads on first use, thread-safe.

    Needs only ONNX Runtime: torch is never imported."""

    def __init__(self, path: Path = GRAPH_DIR / GRAPH_FILE, threads: int = DEFAULT_THREADS) -> None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self.path = path
        self.threads = threads
        self._session: Any = None
        self._lock = threading.Lock()

    @property
    def session(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = cpu_session(
                        self.path, self.threads, "encoder graph", "python -m nlu.onnx_encoder"
                    )
        return self._session

    def run(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, ...]:
        """(sentence [n, 384], tokens [n, T, 384], emotion [n, 5], emotion_hidden [n, 384])
        for a tokenized batch."""
        sentence, tokens, emotion, hidden = self.session.run(
            list(OUTPUTS), {"input_ids": ids, "attention_mask": mask}
        )
        return sentence, tokens, emotion, hidden


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m nlu.onnx_encoder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=GRAPH_DIR)
    parser.add_argument("--if-stale", action="store_true", help="do nothing if current")
    args = parser.parse_args(argv)
    if args.if_stale and is_current(args.out):
        return 0
    if not (ARTIFACT_DIR / WEIGHTS_FILE).is_file():
        print(
            f"error: no emotion model in {ARTIFACT_DIR}; restore it from git or run "
            "`make train-emotion`.",
            file=sys.stderr,
        )
        return 1
    started = time.monotonic()
    path = export(args.out)
    size = path.stat().st_size / 1e6
    print(
        f"==> Exported the shared encoder graph: {path} ({size:.0f} MB, "
        f"{time.monotonic() - started:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
