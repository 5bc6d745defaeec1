"""Synthetic data with a known answer, shared by the recommender and evaluation tests.

The data and its encoder live in :mod:`filmrec_toolkit.testing` (public, for people who
write their own models); these names keep the tests' imports short.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from filmrec_toolkit import Dataset, ItemEmbeddings
from filmrec_toolkit.recommenders import Recommender
from filmrec_toolkit.testing import BLOCK, N_ITEMS, N_RATED, N_USERS  # noqa: F401
from filmrec_toolkit.testing import BlockTextEncoder as FakeEncoder  # noqa: F401
from filmrec_toolkit.testing import make_block_dataset as block_dataset  # noqa: F401
from filmrec_toolkit.testing import make_block_embeddings as block_embeddings  # noqa: F401
from filmrec_toolkit.testing import make_block_frames as block_frames  # noqa: F401


class FixedScores(Recommender):
    """Every user gets the same scores: item row i scores ``scores[i]``."""

    name = "fixed"

    def __init__(self, scores) -> None:
        self.scores = scores

    def _fit(self, train):
        self.scores_ = np.asarray(self.scores, dtype=np.float32)

    def _score(self, user_rows):
        return np.tile(self.scores_, (len(user_rows), 1))


def nudged_vectors(n_base: int = 60, d: int = 64, seed: int = 0) -> np.ndarray:
    """Each random vector three times, two copies nudged by one ulp: near-ties decided by float32 rounding."""
    base = np.random.default_rng(seed).standard_normal((n_base, d)).astype(np.float32)
    vecs = np.repeat(base, 3, axis=0)
    vecs[1::3, 0] = np.nextafter(vecs[1::3, 0], np.float32(np.inf))
    vecs[2::3, 1] = np.nextafter(vecs[2::3, 1], np.float32(-np.inf))
    return vecs


def near_tie_dataset() -> tuple[Dataset, ItemEmbeddings]:
    """40 users rating films whose vectors are near-ties (:func:`nudged_vectors`), with those vectors."""
    vecs = nudged_vectors()
    rng = np.random.default_rng(1)
    users = np.repeat(np.arange(40), 6)
    r = pd.DataFrame({"user_id": users, "item_id": rng.integers(0, len(vecs), len(users)),
                      "rating": rng.integers(1, 6, len(users)).astype(float)}).drop_duplicates(["user_id", "item_id"])
    ds = Dataset.from_frames(r)
    return ds, ItemEmbeddings(vecs[ds.item_ids], ds.item_ids, "nudged")
