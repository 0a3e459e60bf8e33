"""The scale-out tests' fixtures: real servers, from scale_servers.py."""

from scale_servers import postgres_url, ray_cluster  # noqa: F401
