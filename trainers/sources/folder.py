"""`folder:PATH`: image files in one sub-folder per class, or in split folders of those; decoded with Pillow.

Two layouts. A plain folder, PATH/CLASS/*, has no split structure: its test split is carved out of
it, always (asked for or not), before anything else. A split folder, as most downloads come
(ImageNet, CIFAR-10 as JPEGs), has PATH/train/CLASS/* and maybe PATH/val/ (or validation/) and
PATH/test/ laid out the same; the splits it lacks are carved out of train. Each split is read as a
plain folder is, with train's class names and labels.

Pillow rather than `tf.io.decode_image`: TensorFlow logs a C++ warning for every file it cannot
decode, and a folder with a few stray files would then flood the terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from space.errors import AugSearchError
from trainers.sources.source import DataDir, Source
from trainers.subsets import Pool

#: A folder with a larger share of undecodable files is refused: it is probably the wrong folder.
MAX_BAD_FILE_SHARE = 0.2
#: The sub-folders of a split folder, and the split each one holds.
SPLIT_FOLDERS = {"train": "train", "val": "validation", "validation": "validation", "test": "test"}
#: A split's class folders (in label order) and each one's files.
Classes = dict[Path, list[Path]]
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


def _shown(root: Path, path: Path) -> str:
    """How messages name a file or class folder: from the dataset's folder ("cat", "test/cat/1.png")."""
    return path.relative_to(root).as_posix()


def _quoted(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)


def _root(spec: str, path: str) -> Path:
    root = Path(path).expanduser()
    if not root.is_dir():
        state = "does not exist" if not root.exists() else "is not a folder"
        raise AugSearchError(
            f"dataset={spec!r}: {root} {state}; expected folder:PATH to name a folder with one "
            f"sub-folder of images per class, or with train/ (val/, test/) split folders of those."
        )
    return root


def _split_folders(spec: str, root: Path) -> dict[str, Path]:
    """Each split's folder of class folders, by split name: {"train": root} for a plain folder."""
    folders = {folder.name: folder for folder in class_folders(root)}
    # train/ and nothing but split names: a plain folder with a class named "train" stays plain.
    if "train" not in folders or not folders.keys() <= SPLIT_FOLDERS.keys():
        return {"train": root}
    if {"val", "validation"} <= folders.keys():
        raise AugSearchError(
            f"dataset={spec!r}: {root} has both val/ and validation/; expected at most one validation "
            f"split folder: merge them, or rename or remove one."
        )
    return {SPLIT_FOLDERS[name]: folder for name, folder in folders.items()}


def _require_classes(spec: str, split: Path, class_names: list[str]) -> None:
    """A split's class folders must be train's: the same label must mean the same class in every split."""
    names = [folder.name for folder in class_folders(split)]
    extra = [name for name in names if name not in class_names]
    missing = [name for name in class_names if name not in names]
    differences = [f"has class folders that train/ lacks ({_quoted(extra)})"] if extra else []
    differences += [f"lacks train/'s {_quoted(missing)}"] if missing else []
    if differences:
        raise AugSearchError(
            f"dataset={spec!r}: {split.name}/ {' and '.join(differences)}; expected every split folder to "
            f"hold the same class folders as train/."
        )


def _class_files(spec: str, root: Path, folder: Path) -> list[Path]:
    files = class_files(folder)
    if not files:
        raise AugSearchError(
            f"dataset={spec!r}: class folder {_shown(root, folder)!r} is empty; put that class's images in it "
            f"or remove it."
        )
    return files


def _listing(spec: str, path: str) -> tuple[Path, list[str], dict[str, Classes]]:
    """The dataset's folder, its class names (train's) and each split's classes, after the checks
    that need no decoding."""
    root = _root(spec, path)
    splits = _split_folders(spec, root)
    folders = class_folders(splits["train"])
    if len(folders) < 2:
        found = f" ({folders[0].name!r})" if folders else ""
        raise AugSearchError(
            f"dataset={spec!r}: {splits['train']} has {len(folders)} class folder(s){found}; expected at least 2 "
            f"sub-folders, one per class, each holding that class's images."
        )
    class_names = [folder.name for folder in folders]
    for split in splits.values():
        _require_classes(spec, split, class_names)
    classes = {
        name: {split / c: _class_files(spec, root, split / c) for c in class_names} for name, split in splits.items()
    }
    return root, class_names, classes


def _pool(spec: str, root: Path, classes: Classes, carved: tuple[str, ...]) -> tuple[Pool, int]:
    """A split's decodable images as a Pool, and how many of its files are not and were skipped.

    `carved`: the splits to be carved out of this one, which each need at least one image.
    """
    split = next(iter(classes)).parent
    where = f" in {split.name}/" if split != root else ""
    # Every file is decoded once here, to know which are images; only the chosen ones again later.
    good, labels, bad = [], [], []
    for label, of_class in enumerate(classes.values()):
        for file in of_class:
            if decode_rgb(file) is None:
                bad.append(file)
            else:
                good.append(file)
                labels.append(label)
    total = len(good) + len(bad)
    examples = ", ".join(_shown(root, f) for f in bad[:3]) + (", ..." if len(bad) > 3 else "")
    if len(bad) > MAX_BAD_FILE_SHARE * total:
        raise AugSearchError(
            f"dataset={spec!r}: {len(bad)} of {total} files{where} ({len(bad) / total:.0%}) are not decodable "
            f"images ({examples}), more than MAX_BAD_FILE_SHARE={MAX_BAD_FILE_SHARE:.0%}; remove or fix them."
        )
    counts = np.bincount(labels, minlength=len(classes))
    for folder, count in zip(classes, counts, strict=True):
        if count == 0:
            raise AugSearchError(f"dataset={spec!r}: class folder {_shown(root, folder)!r} has no decodable images.")
    if len(good) < 1 + len(carved):
        raise AugSearchError(
            f"dataset={spec!r} has {len(good)} decodable images{where}; it needs at least {1 + len(carved)}: "
            f"one to train on and one for each split carved out of it ({', '.join(carved)})."
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

    return Pool(np.asarray(labels, np.int64), fetch), len(bad)


def _check(spec: str, arg: str, data_dir: DataDir) -> None:
    root, _, splits = _listing(spec, arg)
    # Decoding stops at each class's first image: cheap for a healthy folder, while a folder
    # of corrupt files fails here, before a search starts, rather than when it is loaded.
    for classes in splits.values():
        for folder, files in classes.items():
            if not any(decode_rgb(file) is not None for file in files):
                raise AugSearchError(
                    f"dataset={spec!r}: class folder {_shown(root, folder)!r} has no decodable images (none of "
                    f"its {len(files)} files is an image Pillow can read); fix or remove its files."
                )


def _load(spec: str, arg: str, data_dir: DataDir, include_test: bool) -> tuple[Sequence[str], dict[str, Pool], int]:
    root, class_names, splits = _listing(spec, arg)
    carved = tuple(split for split in ("validation", "test") if split not in splits)
    if not include_test:
        splits.pop("test", None)  # not decoded unless asked for (`_check` checked its class folders)
    pools, skipped = {}, 0
    for split, classes in splits.items():
        pools[split], bad = _pool(spec, root, classes, carved if split == "train" else ())
        skipped += bad
    return class_names, pools, skipped


def _carves_test(spec: str, arg: str) -> bool:
    # A plain folder, or a split folder without test/: a test split is carved out of train.
    return "test" not in _split_folders(spec, _root(spec, arg))


def _label(arg: str) -> str:
    return Path(arg.rstrip("/")).name


SOURCE = Source(
    "folder:PATH",
    "a folder of class folders, or of train/ (val/, test/) split folders",
    check=_check,
    load=_load,
    carves_test=_carves_test,
    label=_label,
)
