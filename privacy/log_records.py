"""Logs without personal data: every log record's message (and traceback) is redacted
when it is made, in whichever library it is logged.

`install()` replaces the process's log record factory; records below a logger's level
are never made, so only what is written pays for the redaction. The Rasa server, the
action server and the web front call it at start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from privacy.redactor import redact_text, shared_redactor

_installed = False
_original: Callable[..., logging.LogRecord] | None = None
busy = threading.local()


def install(redactor: Callable[[str], str] = redact_text) -> None:
    """Redact every log record of this process from now on (once; later calls do nothing)."""
    global _installed, _original
    if _installed:
        return
    _installed = True
    make = _original = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if getattr(busy, "on", False):
            return record  # logged by the redaction itself (the model loading)
        busy.on = True
        try:
            message = record.getMessage()
            record.msg, record.args = redactor(message), ()
            if record.exc_info and not record.exc_text:
                record.exc_text = redactor(formatter.formatException(record.exc_info))
        except Exception:  # a record whose arguments do not fit: leave it to logging
            pass
        finally:
            busy.on = False
        return record

    logging.setLogRecordFactory(factory)
    if redactor is redact_text:
        # The model loads now, at start, on the main thread: not during the first
        # turn, and not while another thread may be importing PyTorch (privacy.ner).
        shared_redactor().model.load()


def uninstall() -> None:
    """Back to the record factory before `install` (tests)."""
    global _installed
    if _installed and _original is not None:
        logging.setLogRecordFactory(_original)
    _installed = False
