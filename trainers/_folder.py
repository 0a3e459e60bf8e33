"""Reading `folder:PATH` datasets: one sub-folder of image files per class, decoded with Pillow.

Pillow rather than `tf.io.decode_image`: TensorFlow logs a C++ warning for every file it cannot
decode, and a folder with a few stray files would then flood the terminal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

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
