"""The client backend gives exactly the in-process results; the cluster leaves no process behind.

``model.recommend(..., client=client)`` and ``evaluate(..., client=client)`` against ``client=None``;
the deprecated ``recommend_distributed`` / ``evaluate_distributed`` wrappers against both.
One 2-worker LocalCluster (processes, 127.0.0.1, no dashboard) serves the whole module.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")
import cloudpickle  # noqa: E402  (ships with distributed)
import psutil  # noqa: E402

from filmrec_toolkit import (  # noqa: E402
    EASE,
    ContentRecommender,
    Dataset,
    ItemEmbeddings,
    ItemKNN,
    Popularity,
    Recommender,
    count_differing_lists,
    evaluate,
    make_synthetic_interactions,
    random_split,
)
from filmrec_toolkit.features import EmbeddingCache, TextEncoder, build_item_documents, embed_items  # noqa: E402
from filmrec_toolkit.scale import (  # noqa: E402
    embed_items_distributed,
    evaluate_distributed,
    local_client,
    recommend_distributed,
)
from filmrec_toolkit.scale.recommend import recommend_rows_distributed  # noqa: E402

# classes defined here travel to the workers by value (pytest's module name is not importable there)
cloudpickle.register_pickle_by_value(sys.modules[__name__])


class QuantizedDot(Recommender):
    """Mean of rated items' vectors . item vectors, rounded to 1 decimal: many exact ties."""

    name = "quantized-dot"

    def __init__(self, dim: int = 8, random_state: int = 0) -> None:
        self.dim = dim
        self.random_state = random_state

    def _fit(self, train: Dataset) -> None:
        rng = np.random.default_rng(self.random_state)
        self.items_ = rng.standard_normal((train.n_items, self.dim)).astype(np.float32)
        x = train.matrix.copy()
        x.data[:] = 1.0
        n = np.maximum(1, np.diff(x.indptr))[:, None].astype(np.float32)
        self.profiles_ = np.asarray(x @ self.items_, dtype=np.float32) / n

    def _score(self, user_rows: np.ndarray) -> np.ndarray:
        return np.round(self.profiles_[user_rows] @ self.items_.T, 1)


class HashEncoder(TextEncoder):
    """A TextEncoder whose 'model' is a sha256-seeded random vector per text (no weights, offline)."""

    def _load(self) -> None:
        self.n_loads_ = getattr(self, "n_loads_", 0) + 1
        self.model_ = "hash"
        self.model_id_ = f"hash-{self.model}"
        self.fingerprint_ = "0" * 16
        self.pooling_ = "mean"
        self.max_length_ = self.max_length
        self.dtype_ = "float32"
        self.is_causal_ = False
        self.dim_ = 12
        self.postprocess_ = None if self.postprocess == "auto" else self.postprocess

    def encode_raw(self, texts, show_progress=None):
        import hashlib

        out = np.zeros((len(texts), self.dim_), dtype=np.float32)
        for n, t in enumerate(texts):
            seed = int(hashlib.sha256(t.encode()).hexdigest()[:12], 16)
            out[n] = np.random.default_rng(seed).standard_normal(self.dim_)
        return out


def _children_pids() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="module")
def client():
    before = _children_pids()
    c = local_client(n_workers=2, threads_per_worker=1)
    worker_pids = set(c.run(os.getpid).values())
    assert len(worker_pids) == 2 and os.getpid() not in worker_pids  # two separate processes
    yield c
    c.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(p) for p in worker_pids):
        time.sleep(0.1)
    assert not any(_alive(p) for p in worker_pids), "worker processes survived client.close()"
    # multiprocessing's resource tracker is a per-interpreter helper that lives until exit
    left = [psutil.Process(p) for p in _children_pids() - before if _alive(p)]
    left = [p for p in left if "resource_tracker" not in " ".join(p.cmdline())]
    assert not left, f"processes left behind: {[(p.pid, p.cmdline()) for p in left]}"


@pytest.fixture(scope="module")
def data():
    ds = make_synthetic_interactions(300, 120, 4000, n_clusters=6, random_state=0)
    train, test = random_split(ds, 0.8, random_state=0)
    emb = np.random.default_rng(1).standard_normal((ds.n_items, 16)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    embeddings = ItemEmbeddings(emb, ds.item_ids, model_id="random-16")
    return ds, train, test, embeddings


def _models(embeddings):
    return {
        "quantized-dot": QuantizedDot(),
        "popularity": Popularity(),
        "itemknn": ItemKNN(n_neighbors=20),
        "ease": EASE(l2=50.0),
        "content": ContentRecommender(embeddings),
    }


def test_local_client_is_local_and_headless(client):
    info = client.scheduler_info()
    assert info["address"].startswith("tcp://127.0.0.1:")
    assert all(addr.startswith("tcp://127.0.0.1:") for addr in client.nthreads())
    assert sum(client.nthreads().values()) == 2
    # the scheduler's HTTP server (health/metrics routes) listens on 127.0.0.1 only; no dashboard pages
    socks = client.run_on_scheduler(
        lambda dask_scheduler: [s.getsockname()[0] for s in dask_scheduler.http_server._sockets.values()])
    assert socks and set(socks) == {"127.0.0.1"}
    port = info["services"]["dashboard"]
    with pytest.raises(urllib.error.HTTPError, match="404"):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=10)


@pytest.mark.parametrize("name", ["quantized-dot", "popularity", "itemknn", "ease", "content"])
def test_recommend_client_equals_in_process(client, data, name):
    _, train, _, embeddings = data
    model = _models(embeddings)[name].fit(train)
    expected = model.recommend(k=10, chunk_size=16)
    got = model.recommend(k=10, chunk_size=16, client=client, n_partitions=5)
    assert count_differing_lists(got, expected) == 0
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert len(got) == 10 * train.n_users


@pytest.mark.parametrize("chunk_size", [1, 5])
def test_near_tied_content_lists_do_not_depend_on_the_layout(client, chunk_size):
    """Other chunking (1 user = BLAS's matrix-vector path) and other processes: the same lists, counted."""
    from test_recommenders_fixtures import near_tie_dataset

    ds, emb = near_tie_dataset()
    model = ContentRecommender(emb).fit(ds)
    expected = model.recommend(k=10)
    got = model.recommend(k=10, client=client, chunk_size=chunk_size, n_partitions=3)
    assert count_differing_lists(got, expected) == 0  # before the fix: 11 of 40 lists with chunk_size=1


def test_default_partitioning_and_ties(client, data):
    _, train, _, _ = data
    model = QuantizedDot().fit(train)
    expected = model.recommend(k=7)
    # rounding to 1 decimal makes many ties inside each top-k: the order must still match exactly
    assert expected.duplicated(["user_id", "score"]).any()
    pd.testing.assert_frame_equal(model.recommend(k=7, client=client), expected, check_exact=True)


def _exclusion_and_candidate_cases(ds, train, test, users):
    return (dict(exclude_seen=True), dict(exclude_seen=False), dict(exclude_seen=None),
            dict(exclude_seen=Dataset.concat([train, test])), dict(exclude_seen=test.matrix),
            dict(candidates=ds.item_ids[:40]), dict(candidates=ds.item_ids[:40], exclude_seen=test),
            dict(candidates={users[0]: ds.item_ids[:7], users[4]: ds.item_ids[3:9]}),
            dict(candidates=pd.DataFrame({"user_id": users[:5].repeat(3), "item_id": np.tile(ds.item_ids[:3], 5)})))


def test_users_exclusion_and_candidates(client, data):
    ds, train, test, _ = data
    model = QuantizedDot().fit(train)
    users = ds.user_ids[::-3][:50]  # unsorted subset
    for kwargs in _exclusion_and_candidate_cases(ds, train, test, users):
        expected = model.recommend(users, k=5, chunk_size=8, **kwargs)
        assert len(expected)
        got = model.recommend(users, k=5, chunk_size=8, client=client, n_partitions=3, **kwargs)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # the exclusion really reaches the workers: a user's training items never come back with True
    got = model.recommend(users, k=5, client=client, n_partitions=2).merge(train.ratings, on=["user_id", "item_id"])
    assert got.empty


def test_recommend_rows_client_equals_in_process(client, data):
    ds, train, test, _ = data
    model = ItemKNN(n_neighbors=20).fit(train)
    rows = np.array([5, 3, 200, 3, 17, 0])
    allowed = np.zeros(ds.n_items, dtype=bool)
    allowed[::2] = True
    for kwargs in (dict(), dict(exclude_seen=test.matrix), dict(candidate_mask=allowed)):
        cols, vals = model.recommend_rows(rows, 4, chunk_size=2, **kwargs)
        got_cols, got_vals = model.recommend_rows(rows, 4, chunk_size=2, client=client, n_partitions=2, **kwargs)
        np.testing.assert_array_equal(got_cols, cols)
        np.testing.assert_array_equal(got_vals, vals)


def test_k_larger_than_catalogue_and_empty_users(client, data):
    _, train, _, _ = data
    model = QuantizedDot().fit(train)
    pd.testing.assert_frame_equal(model.recommend(k=500, client=client, chunk_size=64),
                                  model.recommend(k=500, chunk_size=64), check_exact=True)
    empty = model.recommend([], k=3, client=client)
    assert empty.empty and list(empty.columns) == ["user_id", "item_id", "score", "rank"]


def _assert_same_evaluation(got, expected):
    pd.testing.assert_frame_equal(got.per_user, expected.per_user, check_exact=True)
    pd.testing.assert_series_equal(got.means, expected.means, check_exact=True)
    pd.testing.assert_frame_equal(got.recommendations, expected.recommendations, check_exact=True)
    assert got.n_users_excluded == expected.n_users_excluded
    assert got.model_name == expected.model_name and got.ks == expected.ks and got.params == expected.params


@pytest.mark.parametrize("name", ["itemknn", "content"])
def test_evaluate_client_equals_evaluate(client, data, name):
    _, train, test, embeddings = data
    expected = evaluate(_models(embeddings)[name], train, test, k=(5, 10))
    model = _models(embeddings)[name]  # not fitted: evaluate fits it here, once, then ranks on the cluster
    got = evaluate(model, train, test, k=(5, 10), client=client, n_partitions=3)
    assert model.train_ is train and got.fit_seconds > 0
    _assert_same_evaluation(got, expected)


def test_evaluate_client_with_exclusion_and_candidates(client, data):
    ds, train, test, embeddings = data
    model = ContentRecommender(embeddings).fit(train)
    for kwargs in (dict(exclude=False), dict(exclude=Dataset.concat([train, test.subset(np.arange(test.n_ratings)
                                                                                         % 2 == 0)])),
                   dict(candidates="test"), dict(candidates=ds.item_ids[::3]),
                   dict(candidates=ds.item_ids[::3], exclude=False, users=ds.user_ids[:30])):
        for backend in (dict(), dict(client=client, n_partitions=4)):
            overlap = isinstance(kwargs.get("exclude"), Dataset)  # half the test split is excluded too
            with pytest.warns(UserWarning, match="also in `exclude`") if overlap else contextlib.nullcontext():
                res = evaluate(model, train, test, k=(3, 10), **kwargs, **backend)
            if not backend:
                expected = res
        _assert_same_evaluation(res, expected)
    # refit=False with a model fitted on other data of the same vocabularies: train's matrix is sliced per partition
    other = ContentRecommender(embeddings).fit(ds)
    expected = evaluate(other, train, test, k=5, refit=False)
    _assert_same_evaluation(evaluate(other, train, test, k=5, refit=False, client=client), expected)


def test_deprecated_wrappers_warn_and_match(client, data):
    ds, train, test, embeddings = data
    model = QuantizedDot().fit(train)
    users = ds.user_ids[:40]
    with pytest.warns(FutureWarning, match=r"model\.recommend\(users, k, client=client\)"):
        got = recommend_distributed(model, users, k=5, client=client, exclude_seen=test, candidates=ds.item_ids[:60],
                                    chunk_size=8, n_partitions=3)
    pd.testing.assert_frame_equal(got, model.recommend(users, 5, exclude_seen=test, candidates=ds.item_ids[:60]),
                                  check_exact=True)
    with pytest.warns(FutureWarning, match=r"model\.recommend_rows\(rows, k, client=client\)"):
        cols, vals = recommend_rows_distributed(model, np.arange(30), 4, client, exclude_seen=False)
    exp_cols, exp_vals = model.recommend_rows(np.arange(30), 4, exclude_seen=False)
    np.testing.assert_array_equal(cols, exp_cols)
    np.testing.assert_array_equal(vals, exp_vals)
    with pytest.warns(FutureWarning, match=r"evaluate\(model, train, test, k, client=client\)"):
        res = evaluate_distributed(ItemKNN(n_neighbors=20), train, test, k=(5, 10), client=client, n_partitions=3)
    _assert_same_evaluation(res, evaluate(ItemKNN(n_neighbors=20), train, test, k=(5, 10)))


def test_errors_name_the_problem(client, data):
    _, train, test, _ = data
    with pytest.raises(TypeError, match="client must be a distributed.Client"):
        Popularity().fit(train).recommend(k=3, client="not a client")
    unfitted = Popularity()
    with pytest.raises(TypeError, match="client must be a distributed.Client"):
        evaluate(unfitted, train, test, k=3, client="not a client")
    assert not hasattr(unfitted, "train_")  # checked before any fit
    with pytest.raises(Exception, match="fit"):
        Popularity().recommend(k=3, client=client)
    with pytest.raises(ValueError, match="k == 0"):
        Popularity().fit(train).recommend(k=0, client=client)
    with pytest.raises(ValueError, match="n_partitions == 0"):
        Popularity().fit(train).recommend(k=3, client=client, n_partitions=0)
    with pytest.raises(ValueError, match="n_partitions=3 is only used with client"):
        Popularity().fit(train).recommend(k=3, n_partitions=3)
    with pytest.raises(ValueError, match="n_partitions=3 is only used with client"):
        evaluate(Popularity(), train, test, k=3, n_partitions=3)
    with pytest.warns(FutureWarning), pytest.raises(TypeError, match="client must be a distributed.Client"):
        recommend_distributed(Popularity().fit(train), k=3, client="not a client")


def test_import_distributed_says_how_to_install(monkeypatch):
    from filmrec_toolkit.scale import import_distributed

    assert import_distributed() is distributed
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install 'filmrec_toolkit\[scale\]'"):
        import_distributed()


def test_recommenders_and_evaluation_import_no_dask():
    """The client backend imports dask lazily: the in-process package never loads it."""
    import subprocess

    code = ("import sys, filmrec_toolkit as ft; ds = ft.make_synthetic_interactions(20, 10, 60); "
            "ft.evaluate(ft.Popularity(), *ft.random_split(ds, 0.8, random_state=0), k=3).means; "
            "ft.Popularity().fit(ds).recommend(k=3, candidates=ds.item_ids[:5]); "
            "assert not any(m == 'dask' or m.startswith(('dask.', 'distributed')) for m in sys.modules), "
            "sorted(m for m in sys.modules if 'dask' in m or 'distributed' in m)")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))})


def test_embed_items_distributed_matches_embed_items_and_cache(client, data, tmp_path):
    ds = data[0]
    expected = embed_items(ds, HashEncoder(model="a", postprocess="center"), cache=EmbeddingCache(tmp_path / "local"))
    cache = EmbeddingCache(tmp_path / "dask", chunk_size=50)
    got = embed_items_distributed(ds, HashEncoder(model="a", postprocess="center"), client, cache=cache,
                                  batch_size=17)
    np.testing.assert_array_equal(got.matrix, expected.matrix)
    np.testing.assert_array_equal(got.text_hashes, expected.text_hashes)
    np.testing.assert_array_equal(got.item_ids, ds.item_ids)
    assert got.model_id == expected.model_id and got.meta["n_encoded"] == ds.n_items
    # the vectors landed in the cache in its own format: the in-process path now encodes nothing
    again = embed_items(ds, HashEncoder(model="a", postprocess="center"), cache=cache)
    assert cache.last_stats_["n_encoded"] == 0 and cache.last_stats_["n_cached"] == ds.n_items
    np.testing.assert_array_equal(again.matrix, expected.matrix)
    # a second distributed call sends nothing to the workers
    embed_items_distributed(ds, HashEncoder(model="a", postprocess="center"), client, cache=cache)
    assert cache.last_stats_["n_encoded"] == 0


def test_embed_documents_distributed_and_one_load_per_worker(client, data):
    docs = build_item_documents(data[0])[:40] + ["a brand new film"]
    got = embed_items_distributed(docs, HashEncoder(model="b"), client, cache=None, batch_size=5)
    np.testing.assert_array_equal(got, HashEncoder(model="b").fit().transform(docs))
    embed_items_distributed(docs[:10], HashEncoder(model="b"), client, cache=False, batch_size=2)

    def loads():
        from filmrec_toolkit.scale.embed import _WORKER_ENCODERS

        return sorted((enc.model, enc.n_loads_) for enc in _WORKER_ENCODERS.values())

    per_worker = client.run(loads)
    assert any(v for v in per_worker.values())
    for entries in per_worker.values():  # each worker loaded each encoder at most once
        assert len(entries) == len(set(entries)) and all(n == 1 for _, n in entries)
