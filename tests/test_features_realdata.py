"""Real offline models on real MovieLens: MiniLM sanity on ml-1m, SmolLM2 preset (slow)."""

from __future__ import annotations

import numpy as np
import pytest

from filmrec_toolkit.features import TextEncoder, embed_items, similar_items


def _genre_agreement(emb, dataset) -> float:
    """Share of items whose nearest neighbour (itself excluded) shares >= 1 genre."""
    sims = emb.matrix @ emb.matrix.T
    np.fill_diagonal(sims, -np.inf)
    nn = sims.argmax(1)
    genres = [set(g) for g in dataset.items["genres"]]
    return float(np.mean([bool(genres[i] & genres[j]) for i, j in enumerate(nn)]))


@pytest.fixture
def minilm_ml1m(ml1m):
    # function scope so the autouse data-home fixture applies: the first test encodes,
    # the others hit the session's shared cache
    return embed_items(ml1m)


@pytest.mark.realdata
def test_minilm_ml1m_toy_story_neighbour(minilm_ml1m, ml1m):
    assert minilm_ml1m.matrix.shape == (3706, 384)
    out = similar_items(minilm_ml1m, "Toy Story (1995)", k=5, dataset=ml1m)
    assert out["title"].iloc[0] == "Toy Story 2 (1999)", out


@pytest.mark.realdata
def test_minilm_ml1m_neighbours_share_genres(minilm_ml1m, ml1m):
    assert _genre_agreement(minilm_ml1m, ml1m) >= 0.80


@pytest.mark.realdata
def test_minilm_cached_second_call_encodes_nothing(minilm_ml1m, ml1m):
    again = embed_items(ml1m)
    assert again.meta["n_encoded"] == 0
    np.testing.assert_array_equal(again.matrix, minilm_ml1m.matrix)


@pytest.mark.realdata
@pytest.mark.slow
def test_smollm2_preset_centred_contrast(ml1m):
    from filmrec_toolkit.features import build_item_documents

    docs = build_item_documents(ml1m)
    names = ["Toy Story (1995)", "Toy Story 2 (1999)", "Schindler's List (1993)"]
    rows = list(ml1m.item_vocab.to_rows(names)) + list(range(0, ml1m.n_items, 25))  # + ~150 films to centre on
    texts = [docs[r] for r in rows]
    enc = TextEncoder(model="smollm2-135m")
    X = enc.fit_transform(texts)
    assert enc.is_causal_ and enc.postprocess_ == "center" and X.shape[1] == 576
    assert type(enc.model_).__name__ == "LlamaModel"  # hidden states, never logits
    toy, toy2, other = X[:3]
    assert toy @ toy2 > 0.5 > toy @ other
    # without centring the raw states are anisotropic: unrelated films look alike
    raw = TextEncoder(model="smollm2-135m", postprocess=None).fit().transform(texts[:3])
    assert float(raw[0] @ raw[2]) > 0.8
