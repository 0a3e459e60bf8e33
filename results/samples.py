"""Sample grids: the same source pictures before and after a policy, as one PNG.

A grid has three rows per band of up to `COLUMNS` pictures: the original, after the per-image
stage (the policy's `RandomAugmentationPipeline`), and after the batch stage (CutMix and MixUp).
The batch row applies every batch layer whose rate is above 0, so that two policies show what
their layers do; its label gives the rates at which training applies them.

Seeded: the same `Samples`, policy and seed give the same picture, so two policies are compared
on the same images (KerasCV also needs TF's global seed for that, which `augment` sets).
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from results._files import write_atomically
from space import Policy

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


@dataclass(frozen=True)
class Augmented:
    """What a policy makes of `Samples`: uint8 images after each stage, and the batch row's label."""

    per_image: np.ndarray
    batch: np.ndarray
    batch_label: str


def augment(samples: Samples, policy: Policy, seed: int = 1) -> Augmented:
    """Apply `policy` to `samples` in eager mode, seeded (sets Keras' global seed to `seed`)."""
    import keras
    import tensorflow as tf

    from space.layers import BatchStage, apply_stages, image_stages

    keras.utils.set_random_seed(seed)
    stages = image_stages(policy, seed=seed)
    images = tf.constant(samples.images, tf.float32)
    # One image at a time, as training does: KerasCV's batch path races on the layer's generator.
    per_image = tf.stack([apply_stages(stages, image) for image in images])
    batch = {"images": per_image, "labels": tf.one_hot(samples.labels, len(samples.class_names))}
    applied = []
    if len(samples.labels) >= 2:  # CutMix and MixUp mix pairs of images
        for layer, rate in BatchStage.from_policy(policy, seed=seed).stages:
            if rate > 0:
                batch = layer(batch, training=True)
                applied.append(f"{type(layer).__name__} p={rate:.2g}")
    return Augmented(_to_uint8(per_image), _to_uint8(batch["images"]), " + ".join(applied) or "no batch stage")


def _to_uint8(images) -> np.ndarray:
    return np.clip(np.round(np.asarray(images)), 0, 255).astype(np.uint8)


def cell_size(image_size: int) -> int:
    """The side in pixels of one picture in a grid."""
    return image_size * max(1, math.ceil(MIN_CELL / image_size))


def grid_shape(count: int, image_size: int) -> tuple[int, int]:
    """(height, width) in pixels of the grid of `count` pictures of side `image_size`."""
    cell = cell_size(image_size) + PAD
    columns = min(count, COLUMNS)
    bands = math.ceil(count / COLUMNS)
    return (PAD + bands * 3 * cell + (bands - 1) * PAD * 2, LABEL_WIDTH + PAD + columns * cell)


def sample_grid(samples: Samples, policy: Policy, seed: int = 1) -> np.ndarray:
    """The grid picture (uint8 (H, W, 3), see `grid_shape`) of `samples` before and after `policy`."""
    augmented = augment(samples, policy, seed)
    rows = (("original", samples.images), ("per-image", augmented.per_image), (augmented.batch_label, augmented.batch))
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
