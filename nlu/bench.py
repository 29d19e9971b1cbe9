"""`make bench-emotion`: how fast the emotion scorer is on this machine's CPU.

    python -m nlu.bench [-n 300]

Prints, for the scorer on its own (text in, three scores out, tokenisation included):
- latency per message at batch 1, p50 and p95, over n real support messages;
- throughput at batch 32;
- the same for one plain all-MiniLM-L6-v2 encode (sentence-transformers' `encode` of the
  same message) measured in the same run, and the ratio between the two — shared
  machines are noisy, ratios compare better than milliseconds;
- the marginal cost inside Rasa, where the message is already encoded once for every
  consumer: the heads on top of the shared encoding.
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


def timings(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def per_message(fn: Callable[[list[str]], object], texts: list[str]) -> list[float]:
    fn(texts[:5])  # warm-up
    return [t for text in texts for t in timings(lambda text=text: fn([text]), 1)]


def throughput(fn: Callable[[list[str]], object], texts: list[str], batch: int = 32) -> float:
    fn(texts[:batch])
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        fn(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - started)


def describe(name: str, ms: list[float]) -> str:
    return (f"{name:44} p50 {np.percentile(ms, 50):6.1f} ms   p95 {np.percentile(ms, 95):6.1f} ms"
            f"   mean {statistics.fmean(ms):6.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlu.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=300, help="messages to time (default 300)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch
    from sentence_transformers import SentenceTransformer

    from nlu.encoder import minilm_path, shared_encoder
    from nlu.scorer import EmotionScorer

    threads = torch.get_num_threads()
    texts = [e.text for e in own_examples()][: args.n]
    scorer = EmotionScorer().warm_up()
    plain = SentenceTransformer(str(minilm_path()), device="cpu")
    encoder = shared_encoder()

    # Interleave the two so that both see the same machine load.
    scorer_ms, plain_ms = [], []
    scorer.score(texts[:5])
    plain.encode(texts[:5])
    for text in texts:
        scorer_ms += timings(lambda text=text: scorer.score([text]), 1)
        plain_ms += timings(lambda text=text: plain.encode([text]), 1)
    encodings = [encoder.encode([t]) for t in texts[:100]]
    heads_ms = [t for e in encodings for t in timings(lambda e=e: scorer.score_encoding(e), 1)]
    scorer_rate = throughput(scorer.score, texts)
    plain_rate = throughput(lambda b: plain.encode(b, batch_size=32), texts)

    print(f"CPU threads: {threads}; {len(texts)} support messages from data/emotion "
          f"(mean {statistics.fmean(len(t) for t in texts):.0f} characters)\n")
    print(describe("emotion scorer alone, batch 1", scorer_ms))
    print(describe("plain MiniLM encode (sentence-transformers)", plain_ms))
    print(describe("heads on the shared encoding (inside Rasa)", heads_ms))
    ratio50 = np.percentile(scorer_ms, 50) / np.percentile(plain_ms, 50)
    ratio95 = np.percentile(scorer_ms, 95) / np.percentile(plain_ms, 95)
    print(f"\nscorer / plain encode: p50 {ratio50:.2f}×, p95 {ratio95:.2f}×")
    print(f"throughput at batch 32: scorer {scorer_rate:.0f} msg/s, plain encode "
          f"{plain_rate:.0f} msg/s ({scorer_rate / plain_rate:.2f}×)")
    p95 = float(np.percentile(scorer_ms, 95))
    print(f"\ntarget p95 ≤ {TARGET_P95_MS:.0f} ms for the scorer alone: "
          f"{'PASS' if p95 <= TARGET_P95_MS else 'FAIL'} ({p95:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
