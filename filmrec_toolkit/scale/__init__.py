"""Scale-out on Dask (extra ``scale``): the same pipeline on any ``distributed.Client``.

Imported lazily by the top-level package (``ft.recommend_distributed`` loads dask on
first use). Every function returns exactly what its in-process twin returns:
``recommend_distributed`` = ``model.recommend``, ``evaluate_distributed`` =
:func:`filmrec_toolkit.evaluation.evaluate`, ``embed_items_distributed`` = the
features pipeline's cached item embeddings.
"""

from .cluster import local_client
from .embed import embed_items_distributed
from .evaluate import evaluate_distributed
from .recommend import recommend_distributed

__all__ = ["embed_items_distributed", "evaluate_distributed", "local_client", "recommend_distributed"]
