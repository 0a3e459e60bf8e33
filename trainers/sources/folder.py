"""`folder:PATH`: one sub-folder of image files per class, decoded with Pillow.

Pillow rather than `tf.io.decode_image`: TensorFlow logs a C++ warning for every file it cannot
decode, and a folder with a few stray files would then flood the terminal. A folder has no split
structure: its test split is carved out of it, always (asked for or not), before anything else.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from space.errors import AugSearchError
from trainers.sources.source import Source
from trainers.subsets import Pool

#: A folder with a larger share of undecodable files is refused: it is probably the wrong folder.
MAX_BAD_FILE_SHARE = 0.2
# Modes Pillow opens 16-bit greyscale images in; `convert("RGB")` would clip them, not scale them.
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I")


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")  # .DS_Store, .ipynb_checkpoints, editor files


def class_folders(root: Path) -> list[Path]:
    """The class sub-folders of `root`, sorted by name (hidden folders are not classes)."""
    return sorted((p for p in root.iterdir() if p.is_dir() and _visible(p)), key=lambda p: p.name)


def class_files(folder: Path) -> list[Path]:
    """Every visible file under a class folder, sub-folders included (as Keras does), sorted."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and all(_visible(Path(part)) for part in p.relative_to(folder).parts)
    )


def decode_rgb(path: Path) -> np.ndarray | None:
    """The image as HxWx3 uint8 RGB (grey, palette, CMYK and alpha dropped), or None if undecodable.

    Animated GIFs give their first frame.
    """
    try:
        with Image.open(path) as image:
            if image.mode in _SIXTEEN_BIT_MODES:
                grey = np.asarray(image, dtype=np.float64) / 257.0
                return np.repeat(np.clip(np.rint(grey), 0, 255).astype(np.uint8)[..., None], 3, axis=-1)
            return np.asarray(image.convert("RGB"))
    # Pillow reports damaged data with many exception types (OSError, SyntaxError, ValueError,
    # struct.error, EOFError, DecompressionBombError, ...); each one means "not a decodable image",
    # and the caller counts and reports these files.
    except Exception:
        return None


def _folder_files(spec: str, path: str) -> tuple[list[str], list[list[Path]]]:
    """Class names and each class's files, after the checks that need no decoding."""
    root = Path(path).expanduser()
    if not root.is_dir():
        state = "does not exist" if not root.exists() else "is not a folder"
        raise AugSearchError(
            f"dataset={spec!r}: {root} {state}; expected folder:PATH to name a folder with one "
            f"sub-folder of images per class."
        )
    folders = class_folders(root)
    if len(folders) < 2:
        found = f" ({folders[0].name!r})" if folders else ""
        raise AugSearchError(
            f"dataset={spec!r}: {root} has {len(folders)} class folder(s){found}; expected at least 2 "
            f"sub-folders, one per class, each holding that class's images."
        )
    files = [class_files(folder) for folder in folders]
    for folder, its_files in zip(folders, files, strict=True):
        if not its_files:
            raise AugSearchError(
                f"dataset={spec!r}: class folder {folder.name!r} is empty; put that class's images in it or remove it."
            )
    return [folder.name for folder in folders], files


def _folder_dataset(spec: str, path: str) -> tuple[list[str], dict[str, Pool], int]:
    class_names, files = _folder_files(spec, path)
    # Every file is decoded once here, to know which are images; only the chosen ones again later.
    good, labels, bad = [], [], []
    for label, of_class in enumerate(files):
        for file in of_class:
            if decode_rgb(file) is None:
                bad.append(file)
            else:
                good.append(file)
                labels.append(label)
    total = len(good) + len(bad)
    root = Path(path).expanduser()
    examples = ", ".join(str(f.relative_to(root)) for f in bad[:3]) + (", ..." if len(bad) > 3 else "")
    if len(bad) > MAX_BAD_FILE_SHARE * total:
        raise AugSearchError(
            f"dataset={spec!r}: {len(bad)} of {total} files ({len(bad) / total:.0%}) are not decodable "
            f"images ({examples}), more than MAX_BAD_FILE_SHARE={MAX_BAD_FILE_SHARE:.0%}; remove or fix them."
        )
    counts = np.bincount(labels, minlength=len(class_names))
    for name, count in zip(class_names, counts, strict=True):
        if count == 0:
            raise AugSearchError(f"dataset={spec!r}: class folder {name!r} has no decodable images.")
    if len(good) < 3:
        raise AugSearchError(
            f"dataset={spec!r} has {len(good)} decodable images; a folder needs at least 3 (train, "
            f"validation and test get at least one each)."
        )
    if bad:
        print(f"{spec}: skipped {len(bad)} files that are not decodable images ({examples})", file=sys.stderr)

    def fetch(indices: np.ndarray) -> list[np.ndarray]:
        images = []
        for i in indices:
            image = decode_rgb(good[i])
            if image is None:
                raise AugSearchError(f"dataset={spec!r}: {good[i]} stopped being a decodable image while loading.")
            images.append(image)
        return images

    return class_names, {"train": Pool(np.asarray(labels, np.int64), fetch)}, len(bad)


def _check(spec: str, arg: str, data_dir) -> None:
    class_names, files = _folder_files(spec, arg)
    # Decoding stops at each class's first image: cheap for a healthy folder, while a folder
    # of corrupt files fails here, before a search starts, rather than when it is loaded.
    for name, of_class in zip(class_names, files, strict=True):
        if not any(decode_rgb(file) is not None for file in of_class):
            raise AugSearchError(
                f"dataset={spec!r}: class folder {name!r} has no decodable images (none of its "
                f"{len(of_class)} files is an image Pillow can read); fix or remove its files."
            )


def _load(spec: str, arg: str, data_dir, include_test: bool) -> tuple[Sequence[str], dict[str, Pool], int]:
    return _folder_dataset(spec, arg)


def _label(arg: str) -> str:
    return Path(arg.rstrip("/")).name


SOURCE = Source(
    "folder:PATH",
    "a folder with one sub-folder of images per class",
    check=_check,
    load=_load,
    carves_test=True,
    label=_label,
)
