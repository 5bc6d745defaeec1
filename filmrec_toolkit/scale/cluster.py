"""A local Dask cluster with safe defaults, and helpers shared by the distributed paths."""

from __future__ import annotations

import logging
import warnings

logger = logging.getLogger(__name__)


def _import_distributed():
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
    >>> from filmrec_toolkit.scale import local_client, recommend_distributed   # doctest: +SKIP
    >>> with local_client(n_workers=2) as client:                               # doctest: +SKIP
    ...     recs = recommend_distributed(model, k=10, client=client)
    """
    distributed = _import_distributed()
    from ..exceptions import check_positive_int

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
    distributed = _import_distributed()
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
