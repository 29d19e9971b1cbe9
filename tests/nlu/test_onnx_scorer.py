"""The int8 scorer stands alone: ONNX Runtime and the tokenizer, no torch, no cycle."""

from __future__ import annotations

from tests.conftest import run_python_offline

PROBE = """
import sys
import nlu
from nlu.onnx_scorer import is_current
assert is_current(), "the int8 ONNX scorer is missing or stale: run `make setup`"
(scores,) = nlu.score(["This is the THIRD time I'm asking, where is my refund??"])
assert 0.0 <= scores.frustration <= 1.0
print("torch loaded:", "torch" in sys.modules)
"""


def test_scoring_with_the_int8_graph_never_loads_torch() -> None:
    done = run_python_offline(PROBE)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("torch loaded: False"), done.stdout
