"""One home per concept: the genre matrix, the title resolver, the k check, deprecations,
row normalisation and ParamsMixin on profilers and encoders, on hand-made tiny tables."""

from __future__ import annotations

import ast
import pathlib
import warnings

import numpy as np
import pandas as pd
import pytest

import filmrec_toolkit as ft
from filmrec_toolkit import Dataset, UnknownIdError, clone
from filmrec_toolkit._deprecation import deprecated_alias, pop_renamed_kwarg, renamed_argument
from filmrec_toolkit._validation import check_k
from filmrec_toolkit.features import (
    EmbeddingPostprocessor,
    GenreEncoder,
    ItemEmbeddings,
    MetadataEncoder,
    TfidfEncoder,
    l2_normalize,
    resolve_item,
)
from filmrec_toolkit.metrics import genre_matrix, item_features
from filmrec_toolkit.profiles import MultiInterestProfiler, UserProfiler, genre_lift
from filmrec_toolkit.recommenders import resolve_items
from filmrec_toolkit.testing import check_encoder, check_profiler


def _ds(genres, titles=None, years=None):
    n = len(genres)
    ratings = pd.DataFrame({"user_id": [1] * n, "item_id": np.arange(10, 10 + n), "rating": [4.0] * n})
    items = pd.DataFrame({"item_id": np.arange(10, 10 + n), "genres": genres,
                          "title": titles if titles is not None else [f"T{i}" for i in range(n)]})
    if years is not None:
        items["year"] = years
    return Dataset.from_frames(ratings, items)


# ------------------------------------------------------------------------ genre cells
def test_parse_genres_rule():
    assert ft.parse_genres(["Drama", "Comedy", "Drama"]) == ["Drama", "Comedy"]   # repeats once, order kept
    assert ft.parse_genres("Comedy| Drama |") == ["Comedy", "Drama"]               # "A|B", stripped, blanks out
    assert ft.parse_genres(("Horror", None, " ")) == ["Horror"]
    assert ft.parse_genres(np.array(["War"])) == ["War"]
    for missing in (None, np.nan, "", [], pd.NA):
        assert ft.parse_genres(missing) == []
    assert ft.parse_genres("children|(no genres listed)", canonical=True) == ["Children's", "unknown"]
    assert ft.parse_genres("children") == ["children"]   # spelling kept unless canonical=True


def test_dataset_genre_matrix_binary_share_and_order():
    ds = _ds([["Drama", "Comedy"], "Comedy|Action", None, ["Drama", "Drama"]])
    m, names = ds.genre_matrix()
    assert names == ["Action", "Comedy", "Drama"]               # sorted
    np.testing.assert_array_equal(m, [[0, 1, 1], [1, 1, 0], [0, 0, 0], [0, 0, 1]])
    share, names2 = ds.genre_matrix("share")
    assert names2 == names
    np.testing.assert_allclose(share, [[0, .5, .5], [.5, .5, 0], [0, 0, 0], [0, 0, 1]])
    m3, names3 = ds.genre_matrix(genres=["Drama", "Western"])    # fixed columns, others ignored
    assert names3 == ["Drama", "Western"]
    np.testing.assert_array_equal(m3, [[1, 0], [0, 0], [0, 0], [1, 0]])
    s3, _ = ds.genre_matrix("share", genres=["Drama", "Comedy"])
    np.testing.assert_allclose(s3[1], [0, 1])                   # Action outside the columns: Comedy gets 1
    assert ds.genre_matrix(order="canonical")[1] == ["Action", "Comedy", "Drama"]
    ds2 = _ds([["Zed", "War"], ["Action"]])
    assert ds2.genre_matrix(order="canonical")[1] == ["Action", "War", "Zed"]
    assert ds2.genre_matrix()[1] == ["Action", "War", "Zed"]
    with pytest.raises(ValueError, match=r"column == 'tags' is not a column of dataset.items.*genre_matrix\(column="):
        ds.genre_matrix(column="tags")
    with pytest.raises(ValueError, match="weighting == 'tfidf'"):
        ds.genre_matrix("tfidf")


def test_every_genre_builder_uses_the_one_matrix():
    ds = _ds([["Drama", "Comedy"], ["Comedy"], [], ["Sci-Fi"]])
    binary, names = ds.genre_matrix()
    np.testing.assert_array_equal(item_features(ds, "genres"), binary)
    share, share_names = genre_matrix(ds)
    assert share_names == names
    np.testing.assert_allclose(share, ds.genre_matrix("share")[0])
    lift = genre_lift(ds, np.zeros(ds.n_users, dtype=int))
    assert list(lift.columns) == names
    np.testing.assert_allclose(lift.to_numpy()[0], 1.0)          # one segment: lift 1 on every genre
    enc = GenreEncoder().fit(ds)
    assert enc.genres_ == ["Comedy", "Drama", "Sci-Fi"]          # canonical MovieLens order
    np.testing.assert_allclose(enc.transform(ds)[0], [2 ** -0.5, 2 ** -0.5, 0], rtol=1e-6)
    np.testing.assert_allclose(enc.transform(["Sci-Fi|Comedy", "Western"]), [[2 ** -0.5, 0, 2 ** -0.5], [0, 0, 0]],
                               rtol=1e-6)


# --------------------------------------------------------------------------- titles
IDS = np.array([10, 20, 30, 40, 50])
TITLES = ["American President, The (1995)", "Heat (1995)", "Heat (1986)", "Heat (1995)", None]


def test_resolve_title_rule():
    assert ft.resolve_title(20, IDS, TITLES).tolist() == [1]                         # 1. id
    assert ft.resolve_title("american president, the (1995)", IDS, TITLES).tolist() == [0]   # 2. exact, any case
    assert ft.resolve_title("The American President", IDS, TITLES).tolist() == [0]  # 3. normalised key
    assert ft.resolve_title("heat (1985)", IDS, TITLES).tolist() == [2]              # year within one
    with pytest.raises(UnknownIdError) as err:                                       # 4. ambiguous
        ft.resolve_title("Heat (1995)", IDS, TITLES)
    msg = str(err.value)
    assert "ambiguous: 2 titles match" in msg
    assert "'Heat (1995)' (item_id=20, year 1995); 'Heat (1995)' (item_id=40, year 1995)" in msg
    assert "Pass the exact title with its year or the item_id" in msg
    with pytest.raises(UnknownIdError, match=r"ambiguous: 3 titles match.*item_id=30, year 1986"):
        ft.resolve_title("heat", IDS, TITLES)
    with pytest.warns(UserWarning, match=r"names 2 items \(item_id \[20, 40\]\)"):
        assert ft.resolve_title("Heat (1995)", IDS, TITLES, ambiguous="all").tolist() == [1, 3]
    with pytest.raises(UnknownIdError, match=r"neither an item id nor a title.*Close matches: 'Heat \(1995\)'"):
        ft.resolve_title("Haet (1995)", IDS, TITLES)
    with pytest.raises(UnknownIdError, match="not an item id of this dataset"):
        ft.resolve_title(99, IDS, TITLES)
    with pytest.raises(UnknownIdError, match="No close title"):
        ft.resolve_title("zzzzzzzzzz", IDS, TITLES)


def test_resolve_title_years_column_and_old_functions_delegate():
    titles = ["Heat", "Heat", "Alien"]
    ds = _ds([["Crime"], ["Crime"], ["Sci-Fi"]], titles=titles, years=[1986, 1995, 1979])
    assert ft.resolve_title("heat (1995)", ds.item_ids, titles, years=[1986, 1995, 1979]).tolist() == [1]
    emb = ItemEmbeddings(np.eye(3, dtype=np.float32), ds.item_ids, "toy")
    assert resolve_item(emb, "Heat (1995)", ds) == 1
    assert resolve_item(emb, "alien", ds) == 2
    assert resolve_items(ds, ["Heat (1986)", 12]).tolist() == [0, 2]
    with pytest.raises(UnknownIdError, match=r"item_id=10, year 1986.*item_id=11, year 1995"):
        resolve_item(emb, "Heat", ds)
    with pytest.warns(UserWarning, match="Pass one item_id"):
        assert resolve_items(ds, ["heat"]).tolist() == [0, 1]


# ------------------------------------------------------------------------------- k
def test_check_k():
    assert check_k(5) == 5 and check_k(np.int64(3)) == 3
    assert check_k(None, allow_none=True) is None
    with pytest.raises(ValueError, match=r"^k == 0, must be an integer >= 1; e.g. k=10\.$"):
        check_k(0)
    with pytest.raises(TypeError, match=r"k must be an integer >= 1, got 2.5 \(float\)"):
        check_k(2.5)
    with pytest.raises(TypeError, match="got True"):
        check_k(True)
    with pytest.raises(TypeError, match="must be an integer >= 1, got None"):
        check_k(None)
    with pytest.raises(ValueError, match=r"n == -1, must be None or an integer >= 1; e.g. n=5"):
        check_k(-1, "n", allow_none=True, example=5)
    # the callers use it: same text from a metric and from similar_items
    with pytest.raises(ValueError, match=r"k == 0, must be an integer >= 1; e.g. k=10"):
        ft.precision_at_k([1, 2], [1], k=0)


# --------------------------------------------------------------------- deprecation
def test_deprecation_helpers():
    def new(x):
        return x + 1

    old = deprecated_alias(new, "old", "a clearer name")
    with pytest.warns(FutureWarning, match=r"^old is deprecated \(a clearer name\); use new \(same result\)\.$"):
        assert old(1) == 2
    assert old.__name__ == "old"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert renamed_argument("f", "k", None, "n", 3, default=1, reason="r") == 3       # old not given: silent
    with pytest.warns(FutureWarning, match=r"^f\(k=\.\.\.\) is deprecated \(why\); use n=\.$"):
        assert renamed_argument("f", "k", 7, "n", 1, default=1, reason="why") == 7
    with pytest.raises(ValueError, match="f got both k=7 and n=2; give only n"), pytest.warns(FutureWarning):
        renamed_argument("f", "k", 7, "n", 2, default=1, reason="why")
    kwargs = {"lambda_": 0.3}
    assert pop_renamed_kwarg("R", kwargs, "lambda_") == 0.3 and kwargs == {}
    assert not pop_renamed_kwarg("R", {}, "lambda_")
    with pytest.raises(TypeError, match=r"R\(\) got unexpected keyword argument\(s\) \['lamda'\]"):
        pop_renamed_kwarg("R", {"lamda": 1}, "lambda_")
    # the three former helpers now go through it
    with pytest.warns(FutureWarning, match=r"MMRReranker\(lambda_=\.\.\.\) is deprecated"):
        assert ft.MMRReranker(lambda_=0.2).lam == 0.2
    with pytest.raises(ValueError, match="give only lam"), pytest.warns(FutureWarning):
        ft.MMRReranker(lam=0.9, lambda_=0.2)
    with pytest.warns(FutureWarning, match="use map_nrel_at_k"):
        ft.map_at_k([1], [1], k=1)


# --------------------------------------------------------------- row normalisation
def test_l2_normalize_dtype():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(l2_normalize(x), [[0.6, 0.8], [0, 0]])
    assert l2_normalize(x).dtype == np.float32
    assert l2_normalize(x, dtype=np.float64).dtype == np.float64


def test_no_private_name_imported_across_subpackages():
    root = pathlib.Path(ft.__file__).parent
    bad = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        pkg = list(parts[:-1])
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            target = pkg[: len(pkg) - (node.level - 1)] + (node.module.split(".") if node.module else [])
            same_subpackage = len(parts) > 2 and tuple(target[:2]) == tuple(parts[:2])
            bad += [f"{path.name}:{node.lineno} {a.name}" for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__") and not same_subpackage]
    assert not bad, bad


# ------------------------------------------------------------------ ParamsMixin
@pytest.mark.parametrize("est", [UserProfiler("mean", min_ratings=2), MultiInterestProfiler(max_interests=2),
                                 TfidfEncoder(max_features=64, min_df=1), GenreEncoder(column="g"),
                                 MetadataEncoder(year=False), EmbeddingPostprocessor("center")])
def test_params_mixin_and_clone(est):
    params = est.get_params()
    copy = clone(est)
    assert type(copy) is type(est) and copy is not est and copy.get_params() == params
    assert repr(est).startswith(type(est).__name__ + "(")
    first = next(iter(params))
    with pytest.raises(ValueError, match="is not a parameter"):
        est.set_params(nonsense=1)
    assert est.set_params(**{first: params[first]}) is est


def test_fitted_attributes_end_with_underscore_and_contracts_hold():
    enc = GenreEncoder().fit([["Drama"], "Comedy|Drama"])
    fitted = {k for k in vars(enc) if k not in enc.get_params()}
    assert fitted == {"genres_"}
    check_encoder(clone(TfidfEncoder(min_df=1)))
    check_profiler(clone(UserProfiler()))
    check_profiler(clone(MultiInterestProfiler(min_cluster_size=2)))
