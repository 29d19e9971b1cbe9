"""`make bench-knowledge`: help-center query latency and index build time by index size.

    python -m knowledge.bench [--sizes 1000,100000,1000000] [--queries 200]

The real help-center passages are padded with random unit vectors up to each size (only
the vector store is timed at large sizes; the real questions are the queries). For each
size it prints the index type `FaissDocumentStore.for_size` chooses, its build time, the
search latency p50/p95 on one thread, and recall@10 against exact search. Query
embedding (MiniLM, batch 1) is timed separately, once, since it does not depend on size.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from knowledge.document_store import FaissDocumentStore, exact_search
from knowledge.questions import load_questions
from knowledge.retriever import Retriever

TARGET_P95_MS_100K = 5.0


def percentiles(ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    import faiss

    from nlu.encoder import shared_encoder

    retriever = Retriever().warm_up()
    encoder = shared_encoder()
    texts = [q.text for q in load_questions()][: args.queries]
    embed_ms = []
    for text in texts:
        started = time.perf_counter()
        encoder.encode([text])
        embed_ms.append((time.perf_counter() - started) * 1000)
    queries = encoder.embed(texts)
    e50, e95 = percentiles(embed_ms)
    print(
        f"query embedding (MiniLM, batch 1, {len(texts)} real questions): "
        f"p50 {e50:.1f} ms, p95 {e95:.1f} ms\n"
    )
    real = retriever.index.vectors
    rng = np.random.default_rng(7)
    print(
        f"{'passages':>10} {'index':>6} {'build s':>8} {'search p50':>11} {'search p95':>11} "
        f"{'recall@10':>10}"
    )
    faiss.omp_set_num_threads(1)
    verdict = ""
    for size in [int(s) for s in args.sizes.split(",")]:
        extra = max(0, size - len(real))
        noise = rng.standard_normal((extra, real.shape[1]), dtype=np.float32)
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        vectors = np.concatenate([real, noise])[:size]
        store = FaissDocumentStore.for_size(vectors.shape[1], len(vectors))
        faiss.omp_set_num_threads(2)  # building may use both cores
        started = time.perf_counter()
        store.add(vectors)
        build = time.perf_counter() - started
        faiss.omp_set_num_threads(1)  # searching: one core, as the target says
        ms = []
        for q in queries:
            t = time.perf_counter()
            store.search(q[None, :], 10)
            ms.append((time.perf_counter() - t) * 1000)
        _, found = store.search(queries, 10)
        faiss.omp_set_num_threads(2)
        _, truth = exact_search(vectors, queries, 10)
        faiss.omp_set_num_threads(1)
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])
        p50, p95 = percentiles(ms)
        print(
            f"{size:>10,} {store.kind:>6} {build:8.1f} {p50:8.2f} ms {p95:8.2f} ms {recall:10.3f}"
        )
        if size == 100_000:
            ok = p95 <= TARGET_P95_MS_100K
            verdict = (
                f"\ntarget: search p95 ≤ {TARGET_P95_MS_100K:.0f} ms at 100k passages on one "
                f"core: {'PASS' if ok else 'FAIL'} ({p95:.2f} ms)"
            )
        del store, vectors, noise
    print(verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
