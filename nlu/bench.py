"""`make bench-emotion`: how fast the emotion scorer is on this machine's CPU.

    python -m nlu.bench [-n 300]

Prints, for the scorer on its own (text in, three scores out, tokenisation included):
- latency per message at batch 1, p50 and p95, over n real support messages, for the
  PyTorch scorer and for the int8 ONNX Runtime scorer that `nlu.score` uses when built;
- throughput at batch 32;
- one plain all-MiniLM-L6-v2 encode (sentence-transformers' `encode` of the same
  message) measured in the same run, interleaved, and the ratios to it — shared machines
  are noisy, ratios compare better than milliseconds;
- the marginal cost inside Rasa, where the message is already encoded once for every
  consumer: the emotion layers and heads on top of the shared encoding.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from nlu.datasets import own_examples

TARGET_P95_MS = 15.0
Scorer = Callable[[list[str]], object]


def once_ms(fn: Callable[..., object], *args: object) -> float:
    """Milliseconds one call of fn(*args) takes."""
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000


def throughput(fn: Scorer, texts: list[str], batch: int = 32) -> float:
    fn(texts[:batch])
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        fn(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - started)


def describe(name: str, ms: list[float]) -> str:
    return (
        f"{name:46} p50 {np.percentile(ms, 50):6.1f} ms   p95 {np.percentile(ms, 95):6.1f} ms"
        f"   mean {statistics.fmean(ms):6.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nlu.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-n", type=int, default=300, help="messages to time (default 300)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch
    from sentence_transformers import SentenceTransformer

    from nlu.encoder import shared_encoder
    from nlu.onnx_scorer import OnnxEmotionScorer, is_current
    from nlu.scorer import EmotionScorer
    from nlu.tokenizer import minilm_path

    texts = [e.text for e in own_examples()][: args.n]
    plain = SentenceTransformer(str(minilm_path()), device="cpu")
    torch_scorer = EmotionScorer(backend="torch").warm_up()
    scorers: dict[str, Scorer] = {"PyTorch fp32": torch_scorer.score}
    if is_current():
        scorers["ONNX Runtime int8"] = OnnxEmotionScorer().warm_up().score
    else:
        print(
            "note: the int8 ONNX scorer is not built (python -m nlu.onnx_scorer); "
            "timing PyTorch only.\n"
        )

    def encode_plain(batch: list[str]) -> object:
        return plain.encode(batch, batch_size=32)

    encode_plain(texts[:5])
    # Interleave every variant message by message so that all see the same machine load.
    ms: dict[str, list[float]] = {name: [] for name in [*scorers, "plain"]}
    for text in texts:
        for name, fn in scorers.items():
            ms[name].append(once_ms(fn, [text]))
        ms["plain"].append(once_ms(encode_plain, [text]))
    encoder = shared_encoder()
    encodings = [encoder.encode([t]) for t in texts[:100]]
    heads_ms = [once_ms(torch_scorer.score_encoding, e) for e in encodings]
    rates = {name: throughput(fn, texts) for name, fn in scorers.items()}
    plain_rate = throughput(encode_plain, texts)

    print(
        f"CPU threads: {torch.get_num_threads()}; {len(texts)} support messages from "
        f"data/emotion (mean {statistics.fmean(len(t) for t in texts):.0f} characters)\n"
    )
    for name in scorers:
        print(describe(f"emotion scorer alone, {name}, batch 1", ms[name]))
    print(describe("plain MiniLM encode (sentence-transformers)", ms["plain"]))
    print(describe("emotion layers + heads on the shared encoding", heads_ms))
    print()
    for name in scorers:
        r50 = np.percentile(ms[name], 50) / np.percentile(ms["plain"], 50)
        r95 = np.percentile(ms[name], 95) / np.percentile(ms["plain"], 95)
        print(f"{name} scorer / plain encode: p50 {r50:.2f}×, p95 {r95:.2f}×")
    print()
    for name, rate in rates.items():
        print(
            f"throughput at batch 32, {name}: {rate:.0f} msg/s "
            f"({rate / plain_rate:.2f}× plain encode, {plain_rate:.0f} msg/s)"
        )
    fastest = min(scorers, key=lambda name: float(np.percentile(ms[name], 95)))
    p95 = float(np.percentile(ms[fastest], 95))
    print(
        f"\ntarget p95 ≤ {TARGET_P95_MS:.0f} ms for the scorer alone ({fastest}, what "
        f"nlu.score uses): {'PASS' if p95 <= TARGET_P95_MS else 'FAIL'} ({p95:.1f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
