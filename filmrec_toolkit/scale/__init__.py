"""Scale-out on Dask (extra ``scale``): cluster helpers and distributed embedding.

Ranking on a cluster is a backend of the usual calls: ``model.recommend(..., client=client)``
and :func:`filmrec_toolkit.evaluate` ``(..., client=client)`` rank partitions of the users on
any ``distributed.Client`` with the in-process ranking function, and return exactly what
``client=None`` returns. This subpackage keeps the cluster helpers (:func:`local_client`,
:func:`ensure_client`, :func:`map_partitions`), ``embed_items_distributed`` (the features
pipeline's cached item embeddings, computed on the workers) and the deprecated wrappers
``recommend_distributed`` / ``evaluate_distributed``.

Imported lazily by the top-level package (``ft.local_client`` loads dask on first use).
"""

from .cluster import ensure_client, import_distributed, local_client, map_partitions, total_threads
from .embed import embed_items_distributed
from .evaluate import evaluate_distributed
from .recommend import recommend_distributed

__all__ = ["embed_items_distributed", "ensure_client", "evaluate_distributed", "import_distributed", "local_client",
           "map_partitions", "recommend_distributed", "total_threads"]
