"""The client backend: a local Dask cluster with safe defaults and the helpers that rank on it.

A leaf of the package (it imports no model), so ``Recommender.recommend(client=...)`` and
``evaluate(client=...)`` use it without reaching up to :mod:`filmrec_toolkit.scale`, which
re-exports these names. Nothing here imports dask at module import time: :func:`import_distributed` does, on
first use, with an error that says how to install it. ``Recommender.recommend(client=...)``
and ``evaluate(client=...)`` reach the cluster through :func:`map_partitions`.
"""

from __future__ import annotations

import logging
import warnings
from typing import Callable, Sequence

import scipy.sparse as sp

logger = logging.getLogger(__name__)

__all__ = ["import_distributed", "local_client", "ensure_client", "total_threads", "map_partitions"]


def import_distributed():
    """The ``distributed`` module, or an ImportError that says how to install it (extra ``scale``)."""
    try:
        import distributed
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "filmrec_toolkit.scale needs dask.distributed; install it with "
            "`pip install 'filmrec_toolkit[scale]'` (or `pip install 'dask[distributed]'`)."
        ) from err
    return distributed


def local_client(n_workers: int = 2, threads_per_worker: int = 1, memory_limit: str | int | None = "auto",
                 **kwargs):
    """Start a :class:`distributed.LocalCluster` on this machine and return a Client to it.

    Workers are separate processes (``processes=True``) listening on 127.0.0.1 only,
    without the dashboard. Closing the client (``client.close()`` or a ``with`` block)
    also shuts the cluster and its worker processes down.

    Worker processes are *spawned*: a script that calls this must guard its entry point
    with ``if __name__ == "__main__":`` (notebooks and pytest need nothing).

    Parameters
    ----------
    n_workers : int
        Worker processes (one per core is a good start).
    threads_per_worker : int
        Threads per worker; BLAS inside each worker is limited to the same number.
    memory_limit : str, int or None
        Per-worker memory limit passed to LocalCluster ("auto" = RAM / n_workers).
    **kwargs
        Any other LocalCluster argument (e.g. ``silence_logs``).

    Returns
    -------
    distributed.Client

    Examples
    --------
    >>> from filmrec_toolkit.scale import local_client                          # doctest: +SKIP
    >>> with local_client(n_workers=2) as client:                               # doctest: +SKIP
    ...     recs = model.recommend(k=10, client=client)
    """
    distributed = import_distributed()
    from .exceptions import check_positive_int

    n_workers = check_positive_int(n_workers, "n_workers")
    threads_per_worker = check_positive_int(threads_per_worker, "threads_per_worker")
    options = dict(processes=True, host="127.0.0.1", dashboard_address=None, silence_logs=logging.WARNING)
    options.update(kwargs)
    # a Client that creates its own LocalCluster closes it on client.close(). Without the
    # dashboard the scheduler still serves /health and /metrics, on 127.0.0.1 only; when
    # another cluster holds its default port 8787 it takes a free one (nothing to warn about).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Port 8787 is already in use")
        return distributed.Client(n_workers=n_workers, threads_per_worker=threads_per_worker,
                                  memory_limit=memory_limit, set_as_default=False, **options)


def ensure_client(client):
    """Return ``client`` (any distributed.Client), the current client when None, or raise a clear error."""
    distributed = import_distributed()
    if client is None:
        try:
            return distributed.get_client()
        except ValueError:
            raise ValueError("client is None and no Dask client is running; pass client=local_client() "
                             "or client=distributed.Client('tcp://scheduler:8786').") from None
    if not isinstance(client, distributed.Client):
        raise TypeError(f"client must be a distributed.Client, got {type(client).__name__}; for a remote "
                        "cluster pass distributed.Client('tcp://scheduler:8786').")
    return client


def total_threads(client) -> int:
    """Threads over all workers of ``client`` (at least 1)."""
    return max(1, sum(client.nthreads().values()))


def map_partitions(client, func: Callable, shared, partitions: Sequence[Sequence], *, show_progress: bool = False,
                   desc: str = "partitions", shared_future=None) -> list:
    """``[func(shared, *args) for args in partitions]`` computed on the workers of ``client``, in order.

    ``shared`` (e.g. a fitted model) is sent once to every worker (``broadcast=True``);
    the arguments of a partition that hold a sparse matrix are scattered straight to the
    workers instead of travelling inside the task.

    Parameters
    ----------
    client : distributed.Client or None
        None: the current client.
    func : callable
        Importable on the workers (a module-level function).
    shared : object
        Picklable; the first argument of every call.
    partitions : sequence of argument tuples
        The other arguments of each call.
    show_progress : bool
        A progress bar over finished partitions.
    desc : str
        Its label.
    shared_future : distributed.Future, optional
        ``shared`` already scattered (then ``shared`` is not sent again).

    Returns
    -------
    list
        ``func``'s results, in the order of ``partitions``.
    """
    client = ensure_client(client)
    if shared_future is None:
        shared_future = client.scatter(shared, broadcast=True, hash=False)
    futures = []
    for args in partitions:
        # bulky per-partition data (sparse matrices) goes straight to the workers
        args = [client.scatter(a, hash=False) if sp.issparse(a) else a for a in args]
        futures.append(client.submit(func, shared_future, *args, pure=False))
    if show_progress and futures:
        from distributed import as_completed
        from tqdm.auto import tqdm

        for _ in tqdm(as_completed(futures), total=len(futures), desc=desc, unit="part"):
            pass
    return client.gather(futures)
