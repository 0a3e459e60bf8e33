"""AugSearch's Python API: search augmentation policies, and evaluate the winners.

    import search
    result = search.run_search(search.SearchSettings(dataset="fashion_mnist", trials=50, budget="cpu"))
    result.export("policy.json")
    report = search.evaluate(search.EvaluationSettings(top_k=3, seeds=5))

The `search` command line is built on these. Names are imported on first use, so that
`import search` (and `search --help`) imports neither TensorFlow nor Ray.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "run_search": "search.searching",
    "SearchResult": "search.searching",
    "evaluate": "search.evaluating",
    "EvaluationResult": "search.evaluating",
    "SearchSettings": "search.settings",
    "EvaluationSettings": "search.settings",
    "Resources": "search.settings",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'search' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
