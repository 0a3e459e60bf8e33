"""Reading studies and policies: tables, comparisons, artifacts, export and import of pipeline configs.

Never imports Ray. Functions return plain data; the CLI formats it.
"""

from results.export import (
    FORMAT,
    FORMAT_VERSION,
    ExportedPolicy,
    export_policy,
    load_policy_file,
    policy_document,
    read_policy_document,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ExportedPolicy",
    "export_policy",
    "load_policy_file",
    "policy_document",
    "read_policy_document",
]
