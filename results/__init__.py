"""Reading studies and policies: tables, comparisons, statistics, artifacts, sample grids, and the
export file's format.

Never imports Ray, TensorFlow, Keras or KerasCV. Functions return plain data; the CLI formats it.
Export files with their Keras layers are `search.export_policy` and `search.load_policy_file`.
"""

from results.export import (
    FORMAT,
    FORMAT_VERSION,
    keras_configs,
    policy_document,
    read_policy_document,
    write_policy_document,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "keras_configs",
    "policy_document",
    "read_policy_document",
    "write_policy_document",
]
