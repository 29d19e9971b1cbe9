"""`cpu_session`: an ONNX Runtime session on the CPU, as this project's graphs run.

Shared by the int8 emotion scorer (`nlu.onnx_scorer`) and the shared encoder graph
(`nlu.onnx_encoder`). Idle pool threads sleep instead of spinning: in the Rasa server a
spinning thread takes the core that the event loop needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nlu.errors import ModelNotFoundError


def cpu_session(path: Path, threads: int, what: str, build: str) -> Any:
    """A session for the graph at `path`; `ModelNotFoundError` naming `build` (the
    command that makes it) when the file is missing."""
    if not path.is_file():
        raise ModelNotFoundError(
            f"No {what} at {path}. Build it with `{build}` (make setup does it)."
        )
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
