"""Images/second of the training input pipeline: the KerasCV guide's way against AugSearch's.

The guide's way: the policy's `RandomAugmentationPipeline` mapped over batches in `tf.data`
(`num_parallel_calls=AUTOTUNE`), then CutMix and MixUp, as in the KerasCV guide. AugSearch's:
`trainers.pipeline.train_dataset` for the same Policy (the per-image stage run op by op on
sub-batches, `trainers/augment.py`, then the batch stage). Both read the same Fashion-MNIST
images from memory and produce float32 batches of 64 with one-hot labels; the figures count
images delivered, after a warm-up that includes graph building. The two are measured
alternately, in rounds, in one process, so drift in the machine's speed hits both alike.

It also prints the per-image stage's op floor: the images/s if it cost nothing but its KerasCV
ops, each called once on a large batch (an image goes through rate x augmentations_per_image
ops, drawn uniformly). No execution of the same ops can beat it; how close AugSearch's gets
shows what is left to gain outside the ops themselves. Run with

    .venv/bin/python benchmarks/input_pipeline.py [--sizes 32,64,224] [--seconds 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from search.cli.quiet import import_tensorflow_quietly

import_tensorflow_quietly()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from space import GUIDE_POLICY  # noqa: E402
from space.layers import BatchStage, build_pipeline  # noqa: E402
from trainers import load_dataset  # noqa: E402
from trainers.augment import BatchedPipeline  # noqa: E402
from trainers.pipeline import train_dataset  # noqa: E402

BATCH = 64
AUTOTUNE = tf.data.AUTOTUNE


def guide_dataset(split, policy, num_classes: int) -> tf.data.Dataset:
    """The KerasCV guide's input pipeline for `policy`."""
    pipeline = build_pipeline(policy, seed=1)
    batch_stage = BatchStage.from_policy(policy, seed=1)

    def to_dict(image, label):
        return {"images": tf.cast(image, tf.float32), "labels": tf.one_hot(label, num_classes)}

    def apply_pipeline(inputs):
        inputs["images"] = pipeline(inputs["images"], training=True)
        return inputs

    ds = tf.data.Dataset.from_tensor_slices((split.images, split.labels)).shuffle(len(split.labels)).repeat()
    ds = ds.map(to_dict, num_parallel_calls=AUTOTUNE).batch(BATCH, drop_remainder=True)
    ds = ds.map(apply_pipeline, num_parallel_calls=AUTOTUNE).map(batch_stage, num_parallel_calls=AUTOTUNE)
    return ds.map(lambda b: (b["images"], b["labels"]), num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)


def op_floor(policy, images: tf.Tensor) -> float:
    """Images/s of `policy`'s per-image stage if it cost only its ops' batched calls."""
    layers = BatchedPipeline.from_policy(policy, seed=1).layers
    seconds_per_image = []
    for layer in layers:
        call = tf.function(lambda batch, layer=layer: layer(batch, training=True))
        call(images)
        started = time.perf_counter()
        for _ in range(3):
            call(images)
        seconds_per_image.append((time.perf_counter() - started) / 3 / len(images))
    ops_per_image = policy.rate * policy.augmentations_per_image
    return 1 / (ops_per_image * statistics.mean(seconds_per_image))


def images_per_second(iterator, seconds: float) -> float:
    started, images = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        images += int(next(iterator)[0].shape[0])
    return images / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="32,64,224")
    parser.add_argument("--seconds", type=float, default=8.0, help="measuring time per pipeline and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--shards", type=int, default=2, help="AugSearch's augment_shards (default: 2, one per core here)"
    )
    parser.add_argument("--examples", type=int, default=2048, help="images held in memory per size")
    args = parser.parse_args()
    keras.utils.set_random_seed(1)
    print(f"policy {GUIDE_POLICY!r}, batches of {BATCH}, {os.cpu_count()} CPUs")
    result, floors = [], []
    for size in (int(s) for s in args.sizes.split(",")):
        data = load_dataset(
            "fashion_mnist", image_size=size, train_examples=args.examples, validation_examples=1, seed=0
        )
        pipelines = {
            "guide": iter(guide_dataset(data.train, GUIDE_POLICY, data.num_classes)),
            "augsearch": iter(
                train_dataset(
                    data.train, GUIDE_POLICY, num_classes=data.num_classes, batch_size=BATCH, seed=1, shards=args.shards
                )
            ),
        }
        for iterator in pipelines.values():  # warm-up: graph building and the first chunks
            images_per_second(iterator, 3.0)
        speeds = {name: [] for name in pipelines}
        for _ in range(args.rounds):
            for name, iterator in pipelines.items():
                speeds[name].append(images_per_second(iterator, args.seconds))
        guide, ours = (statistics.median(speeds[name]) for name in ("guide", "augsearch"))
        floor = op_floor(GUIDE_POLICY, tf.constant(data.train.images[:256], tf.float32))
        print(
            f"{size:>3}px  guide {guide:7.0f} images/s  augsearch {ours:7.0f} images/s  speedup {ours / guide:.2f}  "
            f"per-image op floor {floor:7.0f} images/s  "
            f"(rounds: guide {', '.join(f'{v:.0f}' for v in speeds['guide'])}; "
            f"augsearch {', '.join(f'{v:.0f}' for v in speeds['augsearch'])})",
            flush=True,
        )
        result.append(f"speedup_{size}={ours / guide:.2f}")
        floors.append(f"op_floor_over_guide_{size}={floor / guide:.2f}")
    print("RESULT " + " ".join(result + floors))


if __name__ == "__main__":
    main()
