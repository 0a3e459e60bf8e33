"""What a dataset source is: a kind of spec ("KIND" or "KIND:ARG") with a cheap check and a loader."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from trainers.subsets import Pool

#: Where a source finds its files (`load_dataset`'s `data_dir`): a folder, or None for its default.
DataDir = str | os.PathLike | None
#: (spec, arg, data_dir) -> None, raising AugSearchError: the checks that need no loading.
Check = Callable[[str, str, DataDir], None]
#: (spec, arg, data_dir, include_test) -> (class names, the splits it has as Pools, files skipped).
Load = Callable[[str, str, DataDir, bool], tuple[Sequence[str], dict[str, Pool], int]]
#: (spec, arg) -> whether that dataset has no test split of its own (a folder may have one or not).
CarvesTest = Callable[[str, str], bool]


def never_carves_test(spec: str, arg: str) -> bool:
    """The default: a dataset brings its own test split, or has none (and include_test=True is an error)."""
    return False


@dataclass(frozen=True)
class Source:
    """One kind of dataset spec. `spec` is how one is written ("tfds:NAME"; its prefix is the
    kind), `about` says what it names, for messages; `label(arg)` names its datasets in study
    names; `carves_test(spec, arg)`: that dataset has no test split of its own, so one is carved
    out of train before anything else, whether asked for or not (validation never depends on it).
    It is asked after `check`, so it may assume a dataset that passed it."""

    spec: str
    about: str
    check: Check
    load: Load
    carves_test: CarvesTest = never_carves_test
    label: Callable[[str], str] = str

    @property
    def kind(self) -> str:
        return self.spec.partition(":")[0]

    @property
    def takes_argument(self) -> bool:
        return ":" in self.spec

    @property
    def form(self) -> str:
        return f"{self.spec!r} ({self.about})" if self.about else repr(self.spec)
