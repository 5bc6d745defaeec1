"""filmrec_toolkit: language-model embeddings, profiles, recommendations and audits for films.

Every public name of the subpackages is re-exported here (``ft.load_movielens``,
``ft.TextEncoder``, ``ft.EASE``, ``ft.audit`` ...). ``widgets`` (ipywidgets) and
``scale`` (dask) are imported lazily, on first use of one of their names.
"""

from __future__ import annotations

import importlib
import logging

from . import datasets, evaluation, features, metrics, plots, profiles, recommenders
from ._params import clone  # noqa: F401 (public)
from .audit import *  # noqa: F401,F403  (binds ft.audit to the audit() function)
from .audit import __all__ as _audit_all
from .datasets import *  # noqa: F401,F403
from .evaluation import *  # noqa: F401,F403
from .exceptions import ChecksumError, NotFittedError, UnknownIdError, UnsafeFileError  # noqa: F401 (public)
from .features import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
from .persistence import artefact_key, artefact_path, fit_or_load, load, load_or_fit, save  # noqa: F401 (public)
from .plots import *  # noqa: F401,F403
from .profiles import *  # noqa: F401,F403
from .ranking import candidate_mask, exclusion_matrix, ranked_rows, stored_entries  # noqa: F401 (public)
from .recommenders import *  # noqa: F401,F403
from .recommenders.device import torch_topk  # noqa: F401 (public)

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

_LAZY = {"widgets": ("UserInspector", "SegmentExplorer"),
         "scale": ("embed_items_distributed", "recommend_distributed", "evaluate_distributed",
                   "local_client",
                   "ensure_client", "import_distributed", "map_partitions", "total_threads"),
         "testing": ()}

__all__ = sorted({
    "artefact_key", "artefact_path", "load_or_fit", "fit_or_load",
    "ChecksumError", "NotFittedError", "UnknownIdError", "UnsafeFileError", "clone", "torch_topk", "save", "load", "ranked_rows", "stored_entries",
    "candidate_mask", "exclusion_matrix",
    *_audit_all, *datasets.__all__, *evaluation.__all__, *features.__all__, *metrics.__all__, *plots.__all__,
    *profiles.__all__, *recommenders.__all__, *(n for names in _LAZY.values() for n in names),
})


def __getattr__(name: str):
    for module, names in _LAZY.items():
        if name == module:
            return importlib.import_module(f".{module}", __name__)
        if name in names:
            return getattr(importlib.import_module(f".{module}", __name__), name)
    raise AttributeError(f"module 'filmrec_toolkit' has no attribute {name!r}")
