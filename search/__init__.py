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
from typing import TYPE_CHECKING, Any

# What __getattr__ returns, for type checkers (`X as X` marks a re-export); at run time the imports stay lazy.
if TYPE_CHECKING:
    from search.evaluating import EvaluationResult as EvaluationResult
    from search.evaluating import evaluate as evaluate
    from search.policy_files import ExportedPolicy as ExportedPolicy
    from search.policy_files import export_policy as export_policy
    from search.policy_files import load_policy_file as load_policy_file
    from search.searching import SearchResult as SearchResult
    from search.searching import run_search as run_search
    from search.settings import EvaluationSettings as EvaluationSettings
    from search.settings import Resources as Resources
    from search.settings import SearchSettings as SearchSettings

_EXPORTS = {
    "export_policy": "search.policy_files",
    "load_policy_file": "search.policy_files",
    "ExportedPolicy": "search.policy_files",
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
