"""`privacy.ner`: the model loads without PyTorch, which stays importable."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from privacy import redact
assert redact("I'm Dana Whitfield").text == "I'm [PERSON]"
assert "torch" not in sys.modules, "spaCy's thinc imported PyTorch"
import torch
assert torch.ones(2).sum().item() == 2.0
"""


def test_the_model_loads_without_pytorch_and_pytorch_still_imports() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
