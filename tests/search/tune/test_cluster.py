"""A process joins one Ray: later searches reuse it, and asking for another cluster is refused
rather than silently ignored."""

import pytest

from search.tune.cluster import _endpoint, start_ray
from space import AugSearchError


def test_a_process_reuses_its_ray_and_refuses_another_address():
    ray = start_ray(None)
    assert ray.is_initialized()
    here = ray.get_runtime_context().gcs_address
    assert start_ray(None) is ray and start_ray("auto") is ray
    assert start_ray(here) is ray
    with pytest.raises(
        AugSearchError, match=r"^address '127\.0\.0\.1:1': this process already runs on the Ray cluster at "
    ):
        start_ray("127.0.0.1:1")


def test_addresses_compare_by_ip_and_port():
    assert _endpoint("localhost:6379") == _endpoint("127.0.0.1:6379")
    assert _endpoint("127.0.0.1:6379") != _endpoint("127.0.0.1:6380")
