"""Synthetic data with a known answer, shared by the recommender and evaluation tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from filmrec_toolkit import Dataset, ItemEmbeddings

N_USERS, N_ITEMS, BLOCK, N_RATED = 20, 16, 8, 5


def block_frames(seed: int = 0):
    """Users 0-9 rate 5 of items 0-7 (block A, comedies), users 10-19 rate 5 of items 8-15 (horror).

    The known answer of every personalised model: a user's 3 unseen items of their own block
    are their top 3.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(N_USERS):
        block = 0 if u < N_USERS // 2 else 1
        items = rng.choice(np.arange(BLOCK) + block * BLOCK, size=N_RATED, replace=False)
        rows += [(u, int(i), 5.0, 1000 + 10 * u + j) for j, i in enumerate(items)]
    ratings = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])
    items = pd.DataFrame({
        "item_id": np.arange(N_ITEMS),
        "title": [f"{'Comedy' if i < BLOCK else 'Horror'} film {i} (2000)" for i in range(N_ITEMS)],
        "genres": [["Comedy"] if i < BLOCK else ["Horror", "Thriller"] for i in range(N_ITEMS)],
    })
    return ratings, items


def block_dataset(seed: int = 0) -> Dataset:
    ratings, items = block_frames(seed)
    return Dataset.from_frames(ratings, items, name="blocks")


class FakeEncoder:
    """Text -> 4-d vector: 'comedy'/'funny' -> axis 0, 'horror'/'scary' -> axis 1, else axis 3."""

    def transform(self, texts):
        out = np.zeros((len(texts), 4), dtype=np.float32)
        for n, t in enumerate(texts):
            t = t.lower()
            out[n, 0] = ("comedy" in t) + ("funny" in t)
            out[n, 1] = ("horror" in t) + ("scary" in t)
            out[n, 2] = 0.1
            if not out[n, :2].any():
                out[n, 3] = 1.0
        return out


def block_embeddings(dataset: Dataset, seed: int = 1) -> ItemEmbeddings:
    """Block A items near axis 0, block B near axis 1, small noise, from the fake encoder's space."""
    rng = np.random.default_rng(seed)
    enc = FakeEncoder()
    vec = enc.transform([f"{t} {' '.join(g)}" for t, g in zip(dataset.items["title"], dataset.items["genres"])])
    vec = vec + rng.normal(0, 0.05, vec.shape).astype(np.float32)
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    return ItemEmbeddings(vec, dataset.item_ids, model_id="fake")
