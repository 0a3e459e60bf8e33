"""The plain values of a search: `Policy`, the op catalogue, the Optuna space, `Budget`.

Pure Python and light: KerasCV is imported only by `space.layers`, when layers are built.
"""

import warnings

from space.baselines import BASELINES, resolve_baselines
from space.budget import PRESETS, Budget
from space.errors import AugSearchError
from space.ops import EXTENDED_OPS, MAGNITUDE_DISTRIBUTIONS, OPS, STANDARD_OPS, TRIVIALAUGMENT_OPS, resolve_ops
from space.policy import GUIDE_POLICY, NO_AUGMENTATION, Policy
from space.search_space import SearchSpace, op_param, policy_params, suggest_policy

# `python -m space.ops` prints docs/ops.md from a module this package has already imported, which
# runpy warns about (once this package is imported); harmless here, as the second copy only prints.
warnings.filterwarnings("ignore", message="'space.ops' found in sys.modules", category=RuntimeWarning)

__all__ = [
    "AugSearchError",
    "BASELINES",
    "Budget",
    "EXTENDED_OPS",
    "GUIDE_POLICY",
    "MAGNITUDE_DISTRIBUTIONS",
    "NO_AUGMENTATION",
    "OPS",
    "PRESETS",
    "Policy",
    "STANDARD_OPS",
    "SearchSpace",
    "TRIVIALAUGMENT_OPS",
    "op_param",
    "policy_params",
    "resolve_baselines",
    "resolve_ops",
    "suggest_policy",
]
