"""Help-center retrieval: FAISS dense search fused with BM25, with an answer confidence.

    >>> import knowledge
    >>> hits = knowledge.search("how long do refunds take to show on my card", k=3)
    >>> hits[0].title, hits[0].url

Importing `knowledge` is cheap (no model, no index); both load on the first search.
Build the index with `make index` (setup does it). The Rasa component is referenced by
module path in bot/config.yml: `knowledge.component.HelpCenterRetrieverComponent`.
"""

from knowledge.errors import KnowledgeError
from knowledge.retriever import Hit, Retriever, search

__all__ = ["Hit", "KnowledgeError", "Retriever", "search"]
