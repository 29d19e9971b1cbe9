"""Errors raised by the `nlu` package.

    NluError
    ├── ModelNotFoundError   a model or artifact is missing on disk
    └── ArtifactError        an artifact exists but cannot be loaded or is inconsistent

Messages say what happened, the path seen, and the command that fixes it.
"""

from __future__ import annotations

from core.errors import SupportError


class NluError(SupportError):
    """Base class of every error the `nlu` package raises on purpose."""


class ModelNotFoundError(NluError):
    """A model or artifact is missing."""


class ArtifactError(NluError):
    """An artifact exists but is unusable."""
