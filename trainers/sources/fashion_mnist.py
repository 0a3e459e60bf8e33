"""`fashion_mnist`: the real Fashion-MNIST, from the gzipped IDX files of Debian's package
`dataset-fashion-mnist` (or any folder that holds them)."""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, overload

import numpy as np

from space.errors import AugSearchError
from trainers.sources.source import DataDir, Source
from trainers.subsets import Pool

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"  # where Debian's package installs it
DATA_DIR_ENV = "AUGSEARCH_DATA_DIR"
FASHION_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def _fashion_mnist_paths(data_dir: DataDir) -> dict[str, Path]:
    """The four IDX files, from data_dir, else $AUGSEARCH_DATA_DIR, else Debian's folder.

    A folder may hold the files or a `fashion-mnist` sub-folder that does (as /usr/share/datasets).
    """
    if data_dir is not None:
        where, named = Path(data_dir), f"data_dir={str(data_dir)!r}"
    elif os.environ.get(DATA_DIR_ENV):
        where, named = Path(os.environ[DATA_DIR_ENV]), f"{DATA_DIR_ENV}={os.environ[DATA_DIR_ENV]!r}"
    else:
        where, named = Path(FASHION_MNIST_DIR), "dataset='fashion_mnist'"
    for folder in (where, where / "fashion-mnist"):
        paths = {key: folder / name for key, name in FASHION_MNIST_FILES.items()}
        if all(path.is_file() for path in paths.values()):
            return paths
    missing = [name for name in FASHION_MNIST_FILES.values() if not (where / name).is_file()]
    raise AugSearchError(
        f"{named}: the Fashion-MNIST files are not in {where} (missing {', '.join(missing)}); install "
        f"them with `sudo apt-get install dataset-fashion-mnist`, or pass data_dir (--data-dir) or "
        f"set {DATA_DIR_ENV} to a folder that holds the four IDX .gz files."
    )


def _damaged(path: Path, why: str) -> AugSearchError:
    return AugSearchError(
        f"dataset='fashion_mnist': {path} is damaged ({why}); reinstall it with "
        f"`sudo apt-get install --reinstall dataset-fashion-mnist`, or point data_dir (--data-dir) "
        f"or {DATA_DIR_ENV} at intact files."
    )


@overload
def _read_idx(path: Path, header_only: Literal[False] = False) -> np.ndarray: ...
@overload
def _read_idx(path: Path, header_only: Literal[True]) -> None: ...
def _read_idx(path: Path, header_only: bool = False) -> np.ndarray | None:
    """A gzipped IDX file of unsigned bytes as an array (None when only the header is checked)."""
    ndim = 3 if "idx3" in path.name else 1  # the names say it: idx3 = images, idx1 = labels
    header_bytes = 4 + 4 * ndim
    try:
        with gzip.open(path, "rb") as f:
            data = f.read(header_bytes) if header_only else f.read()
    except (OSError, EOFError, zlib.error) as error:  # not gzip, truncated, bad CRC
        raise _damaged(path, f"cannot be decompressed: {error}") from None
    if len(data) < header_bytes:
        raise _damaged(path, f"only {len(data)} bytes")
    magic, *dims = struct.unpack(f">{1 + ndim}I", data[:header_bytes])
    # The IDX magic: two zero bytes, 0x08 for unsigned bytes, then the number of dimensions.
    if magic != 0x0800 + ndim:
        raise _damaged(path, f"IDX magic number {magic:#010x}, expected {0x0800 + ndim:#010x}")
    if header_only:
        return None
    body = np.frombuffer(data, np.uint8, offset=header_bytes)
    if body.size != int(np.prod(dims)):
        raise _damaged(path, f"{body.size} data bytes where its header promises {int(np.prod(dims))}")
    return body.reshape(dims)


def _fashion_mnist(data_dir: DataDir, include_test: bool) -> tuple[Sequence[str], dict[str, Pool]]:
    paths = _fashion_mnist_paths(data_dir)
    pools = {"train": _idx_pool(paths["train_images"], paths["train_labels"])}
    if include_test:  # 10k images only read when asked for
        pools["test"] = _idx_pool(paths["test_images"], paths["test_labels"])
    return FASHION_MNIST_CLASSES, pools


def _idx_pool(images_path: Path, labels_path: Path) -> Pool:
    images, labels = _read_idx(images_path), _read_idx(labels_path)
    if len(images) != len(labels):
        raise _damaged(images_path, f"{len(images)} images but {labels_path.name} has {len(labels)} labels")
    if labels.max(initial=0) >= len(FASHION_MNIST_CLASSES):
        raise _damaged(labels_path, f"label {labels.max()} outside 0..{len(FASHION_MNIST_CLASSES) - 1}")
    return Pool(labels.astype(np.int64), lambda i: images[i][..., None])  # grey: one channel


def _check(spec: str, arg: str, data_dir: DataDir) -> None:
    for path in _fashion_mnist_paths(data_dir).values():
        _read_idx(path, header_only=True)


def _load(spec: str, arg: str, data_dir: DataDir, include_test: bool) -> tuple[Sequence[str], dict[str, Pool], int]:
    return (*_fashion_mnist(data_dir, include_test), 0)


SOURCE = Source("fashion_mnist", "", check=_check, load=_load)
