"""GPU settings: what can be checked without a GPU (this machine has none). On a GPU machine the
same functions set memory growth and pick mixed precision; see docs/scale-out.md."""

import pytest
import tensorflow as tf

from trainers.gpu import MIXED, TENSOR_CORES, configure_gpus, dtype_policy, has_tensor_cores


def test_configure_gpus_is_a_no_op_without_gpus_and_can_be_called_again():
    assert tf.config.list_physical_devices("GPU") == []
    assert configure_gpus() == []
    assert configure_gpus() == []  # a reused worker calls it for every trial


@pytest.mark.parametrize(
    "capabilities, expected",
    [
        ([(7, 0)], True),  # V100
        ([(8, 0), (9, 0)], True),  # A100 + H100
        ([(7, 5)], True),  # T4
        ([(6, 1)], False),  # P4 / GTX 1080: no tensor cores
        ([(8, 0), (6, 0)], False),  # one GPU without them: float16 would be slow there
        ([], False),  # no GPU
        ([None], True),  # no compute capability (not CUDA): as Keras assumes
    ],
    ids=["volta", "ampere+hopper", "turing", "pascal", "mixed-generations", "no-gpu", "not-cuda"],
)
def test_tensor_cores_from_device_details(capabilities, expected):
    details = [
        {"device_name": "GPU"} if c is None else {"compute_capability": c, "device_name": "GPU"} for c in capabilities
    ]
    assert has_tensor_cores(details) is expected
    assert TENSOR_CORES == (7, 0)


def test_without_a_gpu_the_dtype_policy_stays_as_it_is():
    assert dtype_policy(default="float32") == "float32"
    assert MIXED == "mixed_float16"
