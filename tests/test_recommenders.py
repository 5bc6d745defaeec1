"""Every recommender runs through one shared mixin on a block matrix with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_recommenders_fixtures import N_ITEMS, block_dataset, block_embeddings

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
    Popularity,
    normalize_scores,
)
from filmrec_toolkit.profiles import UserProfiler
from filmrec_toolkit.testing import (
    RecommenderContract,
    check_encoder,
    check_profiler,
    check_recommender,
    check_reranker,
)


@pytest.fixture(scope="module")
def blocks():
    return block_dataset()


# The shared contract is public (filmrec_toolkit.testing); each class below only says how to build its model.
RecommenderMixin = RecommenderContract


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


class TestContentToCF(RecommenderMixin):
    def make(self, ds):
        from filmrec_toolkit import ContentToCF

        return ContentToCF(block_embeddings(ds), metadata=("genres",), factors=2)


class TestContentToCFMetadataOnly(RecommenderMixin):
    def make(self, ds):
        from filmrec_toolkit import ContentToCF

        return ContentToCF(None, metadata=("genres",), factors=2)


class TestEASESide(RecommenderMixin):
    def make(self, ds):
        from filmrec_toolkit import EASESide

        return EASESide(block_embeddings(ds), l2=5.0, side_weight=2.0)


class TestUserActivity(RecommenderMixin):
    known_answer = False  # ranks films by who rates most: no personal taste to find

    def make(self, ds):
        from filmrec_toolkit import UserActivity

        return UserActivity()


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


# ---------------------------------------------------------------- the public contract itself
def test_check_recommender_runs_without_pytest():
    names = check_recommender(lambda ds: EASE(l2=5.0))
    assert "known" in names and "save_load_identical" in names


def test_check_recommender_catches_a_broken_model():
    class Fitted(Popularity):  # does work in __init__: breaks the contract
        def __init__(self, min_rating=None):
            self.min_rating = min_rating
            self.counts_ = 1

    with pytest.raises(AssertionError, match="init_stores_parameters_only"):
        check_recommender(lambda ds: Fitted(), known_answer=False)

    class ShowsSeen(EASE):  # ranks seen items too
        def recommend_rows(self, user_rows, k=10, exclude_seen=True, *args, **kw):
            return super().recommend_rows(user_rows, k, False, *args, **kw)

    with pytest.raises(AssertionError, match="seen"):
        check_recommender(lambda ds: ShowsSeen(l2=5.0))


def test_rerankers_profilers_encoders_pass_their_contracts():
    from filmrec_toolkit import CalibratedReranker, MMRReranker, TfidfEncoder
    from filmrec_toolkit.profiles import MultiInterestProfiler

    check_reranker(MMRReranker())
    check_reranker(CalibratedReranker())
    check_profiler(UserProfiler("mean"))
    check_profiler(UserProfiler("rating_weighted"))
    check_profiler(MultiInterestProfiler(max_interests=2, min_cluster_size=2, history="all", random_state=0))
    check_encoder(TfidfEncoder(min_df=1))
    from test_recommenders_fixtures import FakeEncoder

    check_encoder(FakeEncoder())

    class BatchDependent(TfidfEncoder):  # a text's vector changes with its batch: broken
        def transform(self, texts):
            return super().transform(texts) + np.float32(len(texts))

    with pytest.raises(AssertionError, match="batch"):
        check_encoder(BatchDependent(min_df=1))
