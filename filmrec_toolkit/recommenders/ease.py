"""EASE: closed-form item-item linear autoencoder (Steck, WWW 2019).

The fit is NumPy on the CPU by default (``device=None``: float64 Gram matrix,
``np.linalg.inv``). With ``device="cpu"``, ``"cuda"`` or ``"auto"`` the Gram matrix, its
Cholesky factor, the inverse and B are computed with torch on that device, in
``dtype`` (float64 by default, float32 on request); B comes back as a NumPy array, so
scoring, explanations and :func:`filmrec_toolkit.save` are the same whatever the device.
The two paths give the same B up to float rounding (in float64 the float32 B usually
agrees bit for bit; in float32 to ~1e-6 of its largest weight).
"""

from __future__ import annotations

import logging
import re
import time
import warnings

import numpy as np
import scipy.sparse as sp

from .._validation import check_bool, check_number, check_option
from ..datasets.dataset import Dataset
from .base import Recommender
from .explain import Explanation, history_explanation, user_history_arrays

logger = logging.getLogger(__name__)

__all__ = ["EASE"]

#: Bytes per n_items² entry at the peak of the NumPy closed-form fit: float64 Gram and
#: inverse, one float64 temporary, the float32 B (8 + 8 + 8 + 4).
EASE_BYTES_PER_ENTRY = 28

#: ``dtype`` values of the closed-form solve.
EASE_DTYPES = ("float64", "float32")

#: ``device`` values of the fit (besides ``"cuda:N"``): None = NumPy on the CPU.
EASE_DEVICES = (None, "auto", "cpu", "cuda")


def ease_bytes_per_entry(dtype: str = "float64") -> int:
    """Peak bytes per n_items² entry of the fit in ``dtype``: ``3 * itemsize + 4``.

    NumPy: the Gram matrix, its inverse and one temporary, plus the float32 B (float64:
    ``EASE_BYTES_PER_ENTRY`` = 28). Torch: the Gram matrix and its Cholesky factor, then the
    factor and the inverse (B is formed in place), then the float32 B; the third
    ``itemsize`` covers the solver's workspace and the Gram matrix's column blocks.
    """
    return 3 * (4 if dtype == "float32" else 8) + 4


def available_memory_bytes() -> int | None:
    """Memory this machine can still give a process (``MemAvailable`` of /proc/meminfo, else psutil)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def device_memory_bytes(device) -> int | None:
    """Free memory of a CUDA device (``torch.cuda.mem_get_info``); None for the CPU."""
    import torch

    dev = torch.device(device)
    if dev.type != "cuda":
        return None
    free, _total = torch.cuda.mem_get_info(dev)
    return int(free)


def _refuse(n_items: int, need: int, available: int, where: str, dtype: str) -> MemoryError:
    half = "" if dtype == "float32" else (
        f"; EASE(dtype='float32') needs about {ease_bytes_per_entry('float32') * n_items ** 2 / 2**30:,.1f} GiB")
    return MemoryError(
        f"EASE on n_items={n_items:,} needs about {need / 2**30:,.1f} GiB (dense n_items x n_items Gram, "
        f"inverse and weights) but only {available / 2**30:,.1f} GiB is available{where}. Use ItemKNN "
        "(sparse top-neighbour similarities), ALS (factors), or EASE on a filtered catalogue, e.g. "
        "train.filter(min_item_ratings=...) or the most popular ~20,000 items "
        f"(~{EASE_BYTES_PER_ENTRY * 20_000 ** 2 / 2**30:.0f} GiB){half}.")


def check_ease_memory(n_items: int, available: int | None = None, *, device=None, dtype: str = "float64",
                      device_available: int | None = None) -> int:
    """Estimated peak bytes of an EASE fit on ``n_items``; raise ``MemoryError`` when it cannot fit.

    Parameters
    ----------
    n_items : int
        Catalogue size.
    available : int, optional
        Free host memory in bytes (default :func:`available_memory_bytes`).
    device : None, str or torch.device
        None or ``"cpu"``: the fit in host memory, :func:`ease_bytes_per_entry` bytes per
        n_items² entry (float64: ``EASE_BYTES_PER_ENTRY``). A CUDA device: the same in
        device memory, checked against
        ``device_available`` (default: free memory from ``torch.cuda.mem_get_info``),
        plus the float32 B (4 bytes per entry) in host memory.
    dtype : {"float64", "float32"}
        Precision of the solve.
    device_available : int, optional
        Free device memory in bytes (CUDA only).

    Returns
    -------
    int
        The estimated peak bytes: in device memory for CUDA, else in host memory.
    """
    n2 = int(n_items) ** 2
    need = ease_bytes_per_entry(dtype) * n2
    host_need = need
    if device is not None:
        import torch

        if torch.device(device).type == "cuda":
            host_need = 4 * n2  # only B (float32) comes back to the host
            free = device_memory_bytes(device) if device_available is None else device_available
            if free is not None and need > free:
                raise _refuse(n_items, need, free, f" on {device} (free GPU memory, torch.cuda.mem_get_info); "
                              "device='cpu' fits it in host memory if that is larger", dtype)
    available = available_memory_bytes() if available is None else available
    if available is not None and host_need > available:
        raise _refuse(n_items, host_need, available, "", dtype)
    return need


def interaction_matrix(train: Dataset, implicit: bool) -> sp.csr_matrix:
    """Users x items float32 matrix: 1 for every rating when ``implicit`` else the rating."""
    m = train.matrix.copy()
    if implicit:
        m.data[:] = 1.0
    return m


def check_ease_device(device):
    """Validate ``EASE(device=...)``: None, "auto", "cpu", "cuda" or "cuda:N"; returns it unchanged.

    A string is asked for (not a ``torch.device``) so that the parameter can be saved with
    the model (:func:`filmrec_toolkit.save`).
    """
    fix = ("use device=None (NumPy on the CPU), 'cpu' (torch on the CPU), 'cuda' or 'cuda:N' (a GPU) or 'auto' "
           "(CUDA when present, else the CPU)")
    if device is None:
        return device
    if not isinstance(device, str):
        raise TypeError(f"device must be None or a string, got {device!r} ({type(device).__name__}); {fix}, "
                        "e.g. EASE(device='cuda').")
    if device not in EASE_DEVICES and not re.fullmatch(r"cuda:\d+", device):
        raise ValueError(f"device == {device!r} is not a device EASE can fit on; {fix}, e.g. EASE(device='cuda').")
    return device


def resolve_ease_device(device):
    """``torch.device`` of a validated ``device`` ("auto": cuda when present, else cpu); checks CUDA is there."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device == {device!r} but torch finds no CUDA device (torch.cuda.is_available() is "
                             f"False; torch {torch.__version__}); use device='cpu' (torch on the CPU), device=None "
                             "(NumPy) or device='auto' (CUDA when present), or install a CUDA build of torch.")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device == {device!r} but torch sees {torch.cuda.device_count()} CUDA device(s); use "
                             f"device='cuda:0' ... 'cuda:{torch.cuda.device_count() - 1}' or device='cuda'.")
    return dev


def _torch_gram(x: sp.csr_matrix, dev, dtype, budget_bytes: int | None = None, blocks: bool | None = None):
    """XᵀX (n_items x n_items) as a ``dtype`` tensor on ``dev``.

    On a GPU (``blocks``, the default off the CPU): sparse Xᵀ times dense column blocks of
    X, one block at a time. Each block of ``b`` item columns is scattered into a dense
    ``(n_users, b)`` tensor on the device and multiplied by the sparse ``Xᵀ`` (cuSPARSE),
    so the work is ``nnz x n_items`` and the extra memory ``(n_users + n_items) x b``
    entries. On the CPU, scipy's sparse product (the NumPy path's Gram matrix, moved into
    torch): torch's CPU sparse kernels were ~10x slower than scipy's on 3,000 items.
    """
    import torch

    if not (dev.type != "cpu" if blocks is None else blocks):
        gram = (x.T @ x).toarray()
        return torch.from_numpy(gram.astype(np.float64 if dtype == torch.float64 else np.float32, copy=False)).to(dev)
    n_users, n_items = x.shape
    itemsize = torch.empty((), dtype=dtype).element_size()
    xt = x.T.tocsr()
    with warnings.catch_warnings():  # torch calls its sparse CSR support "beta"
        warnings.simplefilter("ignore", UserWarning)
        Xt = torch.sparse_csr_tensor(torch.from_numpy(xt.indptr.astype(np.int64)),
                                     torch.from_numpy(xt.indices.astype(np.int64)),
                                     torch.from_numpy(xt.data.astype(np.float64)).to(dtype), size=xt.shape,
                                     check_invariants=False).to(dev)
    gram = torch.empty((n_items, n_items), dtype=dtype, device=dev)
    if budget_bytes is None:  # CUDA: a quarter of what is free once the Gram matrix is there
        from .device import device_budget_bytes

        budget_bytes = device_budget_bytes(dev)
    block = max(1, int(budget_bytes // (itemsize * (n_users + n_items))))
    xc = x.tocsc()
    for s in range(0, n_items, block):
        e = min(s + block, n_items)
        sub = xc[:, s:e].tocoo()
        dense = torch.zeros((n_users, e - s), dtype=dtype, device=dev)
        dense[torch.from_numpy(sub.row.astype(np.int64)).to(dev), torch.from_numpy(sub.col.astype(np.int64)).to(dev)] = \
            torch.from_numpy(sub.data.astype(np.float64)).to(dev, dtype)
        gram[:, s:e] = Xt @ dense
        del dense
    if dev.type == "cuda":
        del Xt
        torch.cuda.empty_cache()  # the blocks' memory back to the device before the factorisation
    return gram


class EASE(Recommender):
    """Embarrassingly Shallow Autoencoder.

    B = argmin ||X - XB||² + λ||B||² s.t. diag(B) = 0, solved in closed form:
    P = (XᵀX + λI)⁻¹, B_ij = -P_ij / P_jj, B_jj = 0. Score of user u = X_u B.
    Memory and time are O(n_items²) and O(n_items³); the fit refuses, before starting,
    a catalogue whose matrices will not fit the free memory (of the GPU too on CUDA).

    Parameters
    ----------
    l2 : float
        L2 penalty λ (> 0); a few hundred suits MovieLens.
    implicit : bool
        Use 1 for every rating (default) instead of the rating value.
    device : None, "cpu", "cuda", "cuda:N" or "auto"
        Where the closed form is computed. None (default): NumPy on the CPU
        (``np.linalg.inv``), the results of earlier versions bit for bit. Otherwise torch
        on that device: the Gram matrix from the sparse interactions (on a GPU in column
        blocks, sparse x dense; on the CPU scipy's sparse product), a Cholesky
        factorisation and its inverse (``torch.cholesky_inverse``; ``torch.linalg.inv``
        if the factorisation fails), and B. ``"auto"``: CUDA when torch sees a GPU, else
        the CPU. B is stored as a NumPy array in every case.
    dtype : {"float64", "float32"}
        Precision of the Gram matrix and the solve (B is stored as float32 either way).
        float32 halves the memory and is much faster on GPUs with little float64
        throughput (most consumer cards); B then differs from float64's by ~1e-6 of its
        largest weight, which can swap near-tied items.

    Attributes
    ----------
    B_ : ndarray (n_items, n_items), float32
        Item-item weights, zero diagonal.
    X_ : scipy.sparse.csr_matrix
        The training interactions (1 or the rating).
    fit_device_ : str
        Where B was computed: ``"numpy"`` or the torch device (e.g. ``"cuda:0"``).
    """

    name = "EASE"

    def __init__(self, l2: float = 500.0, implicit: bool = True, device=None, dtype: str = "float64") -> None:
        self.l2 = l2
        self.implicit = implicit
        self.device = device
        self.dtype = dtype

    def _validate_params(self) -> None:
        # the closed form needs a positive, finite penalty (inf gives B = 0: empty lists)
        check_number(self.l2, "l2", low=0, low_open=True, example="EASE(l2=500.0)")
        check_bool(self.implicit, "implicit", example="EASE(implicit=True)")
        check_ease_device(self.device)
        check_option(self.dtype, "dtype", EASE_DTYPES, example="EASE(dtype='float32')")

    def _gram_side(self, train: Dataset) -> tuple[float, np.ndarray] | None:
        """``(w, F)``: the Gram matrix gains ``w · F Fᵀ`` (item side information); None for plain EASE."""
        return None

    def _fit(self, train: Dataset) -> None:
        dev = None if self.device is None else resolve_ease_device(self.device)
        check_ease_memory(train.n_items, device=dev, dtype=self.dtype)
        x = interaction_matrix(train, self.implicit)
        side = self._gram_side(train)
        if dev is None:
            self.B_ = self._closed_form_numpy(x, side)
        else:
            self.B_ = self._closed_form_torch(x, side, dev)
        self.fit_device_ = "numpy" if dev is None else str(dev)
        self.X_ = x

    def _closed_form_numpy(self, x: sp.csr_matrix, side) -> np.ndarray:
        dt = np.dtype(self.dtype)
        gram = (x.T @ x).toarray().astype(dt)
        if side is not None:
            w, f = side
            f = f.astype(dt)
            gram += w * (f @ f.T)
        gram[np.diag_indices_from(gram)] += float(self.l2)
        p = np.linalg.inv(gram)
        b = p / (-np.diag(p))
        b[np.diag_indices_from(b)] = 0.0
        return b.astype(np.float32)

    def _closed_form_torch(self, x: sp.csr_matrix, side, dev) -> np.ndarray:
        import torch

        dtype = getattr(torch, self.dtype)
        t0 = time.perf_counter()
        with torch.inference_mode():
            gram = _torch_gram(x, dev, dtype)
            if side is not None:
                w, f = side
                ft_ = torch.from_numpy(np.ascontiguousarray(f, dtype=np.float64)).to(dev, dtype)
                gram.addmm_(ft_, ft_.T, alpha=float(w))
                del ft_
            gram.diagonal().add_(float(self.l2))
            chol, info = torch.linalg.cholesky_ex(gram)
            if int(info.item()) == 0:
                del gram
                p = torch.cholesky_inverse(chol)
            else:  # not positive definite in this precision (float32 on an ill-conditioned Gram)
                logger.warning("EASE: Cholesky failed in %s on %s (info %d); using torch.linalg.inv", self.dtype,
                               dev, int(info.item()))
                p = torch.linalg.inv(gram)
                del gram
            del chol
            p.div_(-p.diagonal().clone())  # column j divided by -P_jj
            p.fill_diagonal_(0.0)
            b = p.to(torch.float32)
            del p
            out = b.cpu().numpy()
            if dev.type == "cuda":
                del b
                torch.cuda.empty_cache()
        logger.info("EASE closed form on %s in %s: %d items in %.2f s", dev, self.dtype, x.shape[1],
                    time.perf_counter() - t0)
        return np.ascontiguousarray(out)

    def _score(self, user_rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.X_[user_rows] @ self.B_, dtype=np.float32)

    def _score_profile(self, item_rows, ratings, text_vector) -> np.ndarray:
        if text_vector is not None:
            raise ValueError("text: EASE cannot use text; use a ContentRecommender or a content hybrid.")
        implicit = check_bool(self.implicit, "implicit", example="EASE(implicit=True)")  # read again at use
        x = np.ones(len(item_rows), np.float32) if (implicit or ratings is None) else np.asarray(ratings, np.float32)
        return x @ self.B_[item_rows]

    def explain(self, user, item, n: int = 5) -> Explanation:
        row, hist, ratings = user_history_arrays(self, user)
        col = self.item_vocab_.to_rows(item, param="item")
        x = self.X_[row].toarray()[0][hist]
        sim = self.B_[hist, col].astype(np.float64)
        contrib = x * sim
        score = float(contrib.sum())
        return history_explanation(self, user, item, hist, ratings, x, sim, contrib, score, n,
                                   "EASE item-item weights")
