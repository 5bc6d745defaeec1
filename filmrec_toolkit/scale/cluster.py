"""Cluster helpers of :mod:`filmrec_toolkit.scale` (they live in :mod:`filmrec_toolkit.cluster`)."""

from ..cluster import ensure_client, import_distributed, local_client, map_partitions, total_threads

__all__ = ["import_distributed", "local_client", "ensure_client", "total_threads", "map_partitions"]
