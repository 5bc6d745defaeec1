"""Every recommender runs through one shared mixin on a block matrix with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_recommenders_fixtures import BLOCK, N_ITEMS, N_RATED, block_dataset, block_embeddings

from filmrec_toolkit import (
    ALS,
    BPR,
    EASE,
    ContentAwareHybrid,
    ContentRecommender,
    Dataset,
    Hybrid,
    ItemEmbeddings,
    ItemKNN,
    NotFittedError,
    Popularity,
    UnknownIdError,
    normalize_scores,
)
from filmrec_toolkit.profiles import UserProfiler


@pytest.fixture(scope="module")
def blocks():
    return block_dataset()


def own_block(user_id: int) -> set[int]:
    start = 0 if user_id < 10 else BLOCK
    return set(range(start, start + BLOCK))


class RecommenderMixin:
    """Shared contract; subclasses define ``make(ds)``; override ``check_known_answer`` if needed."""

    def make(self, ds):  # pragma: no cover - abstract
        raise NotImplementedError

    @pytest.fixture(scope="class")
    def fitted(self, blocks):
        return self.make(blocks).fit(blocks)

    def check_known_answer(self, ds, recs):
        for uid, grp in recs.groupby("user_id"):
            seen = set(ds.user_history(uid)["item_id"])
            assert set(grp["item_id"]) == own_block(uid) - seen, f"user {uid}: {grp['item_id'].tolist()}"

    def test_fit_returns_self(self, blocks):
        model = self.make(blocks)
        assert model.fit(blocks) is model
        assert model.fit_seconds_ >= 0

    def test_score_shape_dtype(self, fitted):
        s = fitted.score(np.arange(3))
        assert s.shape == (3, N_ITEMS) and s.dtype == np.float32 and np.isfinite(s).all()

    def test_known_answer(self, fitted, blocks):
        recs = fitted.recommend(k=BLOCK - N_RATED)
        assert list(recs.columns) == ["user_id", "item_id", "score", "rank"]
        self.check_known_answer(blocks, recs)

    def test_seen_items_excluded_and_sorted(self, fitted, blocks):
        recs = fitted.recommend(users=[0, 15], k=4)
        for uid, grp in recs.groupby("user_id"):
            assert not set(grp["item_id"]) & set(blocks.user_history(uid)["item_id"])
            assert grp["rank"].tolist() == [1, 2, 3, 4]
            assert (np.diff(grp["score"].to_numpy()) <= 1e-6).all()

    def test_k_larger_than_catalogue(self, fitted):
        recs = fitted.recommend(users=[0], k=100)
        assert len(recs) == N_ITEMS - N_RATED
        assert len(fitted.recommend(users=[0], k=100, exclude_seen=False)) == N_ITEMS

    def test_chunking_does_not_change_results(self, fitted):
        pd.testing.assert_frame_equal(fitted.recommend(k=3), fitted.recommend(k=3, chunk_size=3))

    def test_candidates(self, fitted):
        recs = fitted.recommend(users=[0, 1], k=5, candidates=[14, 15])
        assert set(recs["item_id"]) <= {14, 15}

    def test_bad_k_and_unknown_user(self, fitted):
        with pytest.raises(ValueError, match="k == 0, must be >= 1"):
            fitted.recommend(k=0)
        with pytest.raises(TypeError, match="k must be an integer"):
            fitted.recommend(k=2.5)
        with pytest.raises(UnknownIdError, match="999"):
            fitted.recommend(users=[999])

    def test_not_fitted(self, blocks):
        with pytest.raises(NotFittedError, match="call fit first"):
            self.make(blocks).recommend(k=3)


class TestPopularity(RecommenderMixin):
    def make(self, ds):
        return Popularity()

    def check_known_answer(self, ds, recs):
        counts = ds.item_counts()
        for uid, grp in recs.groupby("user_id"):
            seen = set(ds.user_history(uid)["item_id"])
            unseen = [i for i in np.lexsort((np.arange(N_ITEMS), -counts)) if i not in seen]
            assert grp["item_id"].tolist() == unseen[:len(grp)]


class TestItemKNN(RecommenderMixin):
    def make(self, ds):
        return ItemKNN(n_neighbors=5, shrink=1.0)


class TestEASE(RecommenderMixin):
    def make(self, ds):
        return EASE(l2=5.0)


class TestALS(RecommenderMixin):
    def make(self, ds):
        return ALS(factors=2, regularization=0.1, iterations=20, random_state=0)  # rank = number of blocks


class TestBPR(RecommenderMixin):
    def make(self, ds):
        return BPR(factors=4, learning_rate=0.01, iterations=200, random_state=0)


class TestContent(RecommenderMixin):
    def make(self, ds):
        return ContentRecommender(block_embeddings(ds))


class TestContentMeanProfiler(RecommenderMixin):
    def make(self, ds):
        return ContentRecommender(block_embeddings(ds), profiler=UserProfiler("mean"))


class TestContentMultiInterest(RecommenderMixin):
    """The profiler hook: a multi-interest profiler plugs into ContentRecommender unchanged."""

    def make(self, ds):
        from filmrec_toolkit.profiles import MultiInterestProfiler

        return ContentRecommender(block_embeddings(ds), profiler=MultiInterestProfiler(
            max_interests=2, min_cluster_size=2, history="all", random_state=0))


class TestHybrid(RecommenderMixin):
    def make(self, ds):
        return Hybrid([EASE(l2=5.0), ContentRecommender(block_embeddings(ds))], weights=[0.7, 0.3])


class TestContentAwareHybrid(RecommenderMixin):
    def make(self, ds):
        return ContentAwareHybrid(EASE(l2=5.0), ContentRecommender(block_embeddings(ds)), shrink=2.0)


# ----------------------------------------------------------------- model specifics
def test_ease_matches_closed_form(blocks):
    x = blocks.matrix.toarray()
    x[x > 0] = 1
    p = np.linalg.inv(x.T @ x + 5.0 * np.eye(N_ITEMS))
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0)
    np.testing.assert_allclose(EASE(l2=5.0).fit(blocks).B_, b, atol=1e-5)
    with pytest.raises(ValueError, match="l2 == 0"):
        EASE(l2=0).fit(blocks)


def test_itemknn_similarity_by_hand():
    # items a, b, c; users: u1 {a, b}, u2 {a, b, c}, u3 {c}
    # cos(a, b) = 2 / (sqrt2 sqrt2) = 1 -> with shrink 1: 2 / (2 + 1) = 2/3; cos(a, c) = 1 / (sqrt2 sqrt2 + 1) = 1/3
    r = pd.DataFrame({"user_id": [1, 1, 2, 2, 2, 3], "item_id": ["a", "b", "a", "b", "c", "c"], "rating": 1.0})
    ds = Dataset.from_frames(r)
    knn = ItemKNN(n_neighbors=1, shrink=1.0).fit(ds)
    s = knn.similarity_.toarray()
    assert s[0, 1] == pytest.approx(2 / 3) and s[1, 0] == pytest.approx(2 / 3)
    # one neighbour kept per item: a's is b, b's is a, c's is a or b at 1/3 (tie -> lower row a)
    assert s[0, 2] == pytest.approx(1 / 3) and s[1, 2] == 0 and s[2, 0] == 0 and s[2, 1] == 0
    with pytest.raises(ValueError, match="n_neighbors == 0"):
        ItemKNN(n_neighbors=0).fit(ds)


def test_hybrid_validation_and_normalisation(blocks):
    with pytest.raises(ValueError, match="weights has 1 value"):
        Hybrid([EASE(), Popularity()], weights=[1.0]).fit(blocks)
    with pytest.raises(ValueError, match="normalization='softmax'"):
        Hybrid([EASE()], normalization="softmax").fit(blocks)
    with pytest.raises(ValueError, match="content_weight == -1"):
        ContentAwareHybrid(EASE(), Popularity(), content_weight=-1).fit(blocks)
    z = normalize_scores(np.array([[1.0, 2.0, 3.0], [4.0, 4.0, 4.0]]))
    np.testing.assert_allclose(z[0], [-1.2247449, 0, 1.2247449], atol=1e-6)
    np.testing.assert_allclose(z[1], 0)
    np.testing.assert_allclose(normalize_scores(np.array([[1.0, 3.0]]), "minmax"), [[0, 1]])


def test_hybrid_prefit_models(blocks):
    ease = EASE(l2=5.0).fit(blocks)
    hyb = Hybrid([ease], refit=False).fit(blocks)
    assert hyb.models_[0] is ease  # used read-only, not refitted
    np.testing.assert_array_equal(hyb.score([0]), ease.score([0]))  # one member: its own scores


def test_content_rejects_missing_embeddings(blocks):
    emb = block_embeddings(blocks)
    partial = ItemEmbeddings(emb.matrix[:5], emb.item_ids[:5], "fake")
    with pytest.raises(KeyError, match="have no embedding"):
        ContentRecommender(partial).fit(blocks)
    with pytest.raises(TypeError, match="embeddings must be ItemEmbeddings"):
        ContentRecommender(np.zeros((16, 4))).fit(blocks)


def test_content_profiler_param_untouched(blocks):
    prof = UserProfiler("mean")
    model = ContentRecommender(block_embeddings(blocks), profiler=prof).fit(blocks)
    assert not hasattr(prof, "profiles_") and hasattr(model.profiler_, "profiles_")


def test_get_set_params():
    m = ItemKNN(n_neighbors=7)
    assert m.get_params() == {"n_neighbors": 7, "shrink": 10.0, "implicit": True}
    assert m.set_params(shrink=2.0).shrink == 2.0
    with pytest.raises(ValueError, match="'foo' is not a parameter of ItemKNN"):
        m.set_params(foo=1)
