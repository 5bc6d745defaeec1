"""Issue 5 closing-note numbers on ml-1m with MiniLM embeddings (run from the repository root; figures go to reports/bench_segments/)."""

import sys
import time
import warnings
from pathlib import Path

import pandas as pd

warnings.filterwarnings("ignore")
pd.set_option("display.width", 250)
pd.set_option("display.max_columns", 30)
pd.set_option("display.max_colwidth", 60)
T = {}


def tick(name, t0):
    T[name] = round(time.time() - t0, 2)
    print(f"[{name}] {T[name]} s", flush=True)


t = time.time()
from filmrec_toolkit import load_movielens
from filmrec_toolkit.features import embed_items
from filmrec_toolkit.profiles import MultiInterestProfiler, UserProfiler, describe_segments, project_2d, segment_users

ds = load_movielens("ml-1m")
tick("load ml-1m", t)
t = time.time()
emb = embed_items(ds)
tick("embed_items (cache)", t)
t = time.time()
prof = UserProfiler("rating_weighted").fit(ds, emb)
P = prof.transform()
tick("UserProfiler.fit", t)
t = time.time()
res = segment_users(P, n_segments="auto", n_segments_range=range(2, 13), random_state=42, sample_size=3000)
tick("segment_users auto k=2..12", t)
print("silhouette per k:\n", res.silhouette.round(4).to_string(), "\nchosen k =", res.k, "sizes", res.sizes.tolist())
t = time.time()
table = describe_segments(ds, res, emb, profiles=P, min_cell=10)
tick("describe_segments", t)
print(
    table[
        [
            "label",
            "size",
            "share",
            "gender",
            "gender_p",
            "age_group",
            "age_group_p",
            "occupation_p",
            "mean_rating",
            "ratings_per_user",
        ]
    ].to_string()
)
print(table[["top_genres", "closest_films", "most_watched"]].to_string())
t = time.time()
res8 = segment_users(P, n_segments=8, random_state=42)
tick("segment_users k=8", t)
t8 = describe_segments(ds, res8, emb, profiles=P, min_cell=10)
print("k=8 for comparison:\n", t8[["label", "size", "gender", "gender_p", "age_group", "age_group_p"]].to_string())
t = time.time()
mip = MultiInterestProfiler(max_interests=4, random_state=42).fit(ds, emb)
tick("MultiInterestProfiler.fit (6040 users)", t)
print(mip.info_["n_interests"].value_counts().sort_index().to_string())
if "--umap" in sys.argv:
    t = time.time()
    cu = project_2d(P, "umap", random_state=42)
    tick("project_2d users umap (first)", t)
    t = time.time()
    cu = project_2d(P, "umap", random_state=42)
    tick("project_2d users umap (cached)", t)
    t = time.time()
    ci = project_2d(emb.matrix, "umap", random_state=42)
    tick("project_2d items umap", t)
print(T)
if "--plots" in sys.argv:
    import matplotlib

    matplotlib.use("Agg")
    from filmrec_toolkit.plots.maps import (
        plot_demographics,
        plot_genre_lift,
        plot_item_map,
        plot_silhouette,
        plot_user_map,
    )

    OUT = Path("reports") / "bench_segments"
    OUT.mkdir(parents=True, exist_ok=True)
    plot_item_map(ci, ds, label=10).savefig(OUT / "item_map.png", dpi=80)
    plot_user_map(cu, res8, names=t8["label"].to_dict()).savefig(OUT / "user_map.png", dpi=80)
    plot_silhouette(res).savefig(OUT / "silhouette.png", dpi=80)
    plot_genre_lift(t8.attrs["genre_lift"], 6).savefig(OUT / "genre_lift.png", dpi=80)
    plot_demographics(t8.attrs["compositions"]["age_group"], 6).savefig(OUT / "demo.png", dpi=80)
