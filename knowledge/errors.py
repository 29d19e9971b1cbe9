"""Errors raised by the `knowledge` package.

KnowledgeError
├── ArticleError        a help-center article is malformed (names the file and field)
├── IndexNotFoundError  no index on disk (names the command that builds it)
└── CorruptIndexError   the index on disk is unreadable or inconsistent
"""

from __future__ import annotations

from core.errors import SupportError


class KnowledgeError(SupportError):
    """Base class of every error the `knowledge` package raises on purpose."""


class ArticleError(KnowledgeError):
    """A help-center article cannot be read."""


class IndexNotFoundError(KnowledgeError):
    """The help-center index has not been built."""


class CorruptIndexError(KnowledgeError):
    """The help-center index exists but cannot be used."""
