"""Sample grids: the same source pictures before and after a policy, as one PNG.

A grid has three rows per band of up to `COLUMNS` pictures: the original, after the per-image
stages (base stage, the policy's `RandomAugmentationPipeline`, erasing), and after the batch
stage (CutMix and MixUp). The batch row's label names the batch layers it shows and the rates at
which training applies them.

Plain drawing on uint8 arrays: `trainers.pictures` augments the pictures (TensorFlow), and
`search.grid_images` joins the two.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from results._files import write_atomically

COLUMNS = 8  # pictures per band
MIN_CELL = 96  # small images are enlarged (nearest neighbour, by an integer factor) to at least this
PAD = 2
LABEL_WIDTH = 96
CAPTION_HEIGHT = 18
BACKGROUND = (255, 255, 255)
INK = (0, 0, 0)


@dataclass(frozen=True)
class Samples:
    """The source pictures: uint8 (N, H, W, 3) images, their int labels and the class names."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]


def cell_size(image_size: int) -> int:
    """The side in pixels of one picture in a grid."""
    return image_size * max(1, math.ceil(MIN_CELL / image_size))


def grid_shape(count: int, image_size: int) -> tuple[int, int]:
    """(height, width) in pixels of the grid of `count` pictures of side `image_size`."""
    cell = cell_size(image_size) + PAD
    columns = min(count, COLUMNS)
    bands = math.ceil(count / COLUMNS)
    return (PAD + bands * 3 * cell + (bands - 1) * PAD * 2, LABEL_WIDTH + PAD + columns * cell)


def batch_label(batch_layers: Sequence[tuple[str, float]]) -> str:
    """The batch row's label: each layer it shows with the rate training applies it at."""
    return " + ".join(f"{name} p={rate:.2g}" for name, rate in batch_layers) or "no batch stage"


def sample_grid(
    samples: Samples, per_image: np.ndarray, batch: np.ndarray, batch_layers: Sequence[tuple[str, float]]
) -> np.ndarray:
    """The grid picture (uint8 (H, W, 3), see `grid_shape`) of `samples` and of what a policy made
    of them: `per_image` and `batch`, uint8 arrays shaped like `samples.images`, and `batch_layers`,
    the batch layers applied, each as (name, rate) (`trainers.pictures.AugmentedPictures`)."""
    rows = (("original", samples.images), ("per-image", per_image), (batch_label(batch_layers), batch))
    count, image_size = len(samples.images), samples.images.shape[1]
    cell = cell_size(image_size)
    scale = cell // image_size
    canvas = Image.new("RGB", grid_shape(count, image_size)[::-1], BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    for band in range(math.ceil(count / COLUMNS)):
        top = PAD + band * (3 * (cell + PAD) + PAD * 2)
        for row, (label, images) in enumerate(rows):
            y = top + row * (cell + PAD)
            draw.multiline_text((4, y + 4), _wrap(label), fill=INK, font=font)
            for column, image in enumerate(images[band * COLUMNS : (band + 1) * COLUMNS]):
                enlarged = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
                canvas.paste(Image.fromarray(enlarged), (LABEL_WIDTH + PAD + column * (cell + PAD), y))
    return np.asarray(canvas)


def _wrap(label: str) -> str:
    return label.replace(" + ", "\n+ ")


def stacked(pictures: list[np.ndarray], captions: list[str]) -> np.ndarray:
    """Pictures one above the other, each under its caption, on one white canvas: grids of the
    same source pictures line up column by column."""
    width = max(picture.shape[1] for picture in pictures)
    height = sum(CAPTION_HEIGHT + picture.shape[0] for picture in pictures) + PAD * 4 * (len(pictures) - 1)
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    y = 0
    for picture, caption in zip(pictures, captions, strict=True):
        draw.text((4, y + 3), caption, fill=INK, font=font)
        canvas.paste(Image.fromarray(picture), (0, y + CAPTION_HEIGHT))
        y += CAPTION_HEIGHT + picture.shape[0] + PAD * 4
    return np.asarray(canvas)


def png_bytes(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


def write_png(picture: np.ndarray, path: str | os.PathLike) -> Path:
    """Write `picture` as a PNG at `path` atomically and return the path."""
    return write_atomically(path, png_bytes(picture))
