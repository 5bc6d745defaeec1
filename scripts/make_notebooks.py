"""Generate notebooks/0*.ipynb from one template, so the five stay consistent.

Every notebook has: an H1 title and one paragraph on what the reader learns; one imports
cell; ONE cell tagged ``parameters`` (papermill) with the dataset, the text model, k, the
seed, sample sizes, ``results_path`` and ``report_dir``; short prose sections in which
every computation is a ``filmrec_toolkit`` call; and a last cell that writes the key
results to ``results_path`` as JSON (what tests/test_notebooks.py asserts on).

The list length is the parameter ``k`` everywhere (no cell hard-codes a cut-off); the model
set comes from ``ft.standard_models``; findings are sentences computed by package
functions, never written in a markdown cell; fitted models, profiles and segments go
through ``ft.fit_or_load`` / ``ft.load_or_fit``, so a later notebook (or a second run)
loads them from the data home instead of fitting again, keyed by data and parameters.

Run ``python scripts/make_notebooks.py`` after editing; ``--check`` exits 1 if the
committed notebooks differ from what this script generates. Notebooks are written
without outputs (as nbstripout would leave them).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"

IMPORTS = """\
import json
import logging
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, display

import filmrec_toolkit as ft

pd.set_option("display.max_colwidth", 90)
pd.set_option("display.width", 160)
logging.basicConfig(format="%(name)s: %(message)s", force=True)
logging.getLogger("filmrec_toolkit.persistence").setLevel(logging.INFO)  # says which saved artefacts are reused
%matplotlib inline"""

COMMON_PARAMETERS = """\
dataset = "ml-100k"        # "ml-100k" (default, minutes on 2 cores) or "ml-1m"
model = None               # text encoder: None means the offline all-MiniLM-L6-v2; or smollm2-135m (a causal LM)
k = 10                     # list length
seed = 42                  # every stochastic step
show_progress = True       # tqdm bars
results_path = "../reports/results/{name}.json"   # key results (read by tests/test_notebooks.py)
report_dir = "../reports"  # where HTML artefacts go"""

SETUP = """\
started = time.perf_counter()
results = {"dataset": dataset, "k": k, "seed": seed}
ds = ft.load_movielens(dataset)
ds"""

# every notebook embeds the catalogue through the same cache: the first notebook pays, the others reuse
EMBED = """\
items_ds = ft.attach_overviews(ds)
encoder = ft.TextEncoder(model=model)
embeddings = ft.embed_items(items_ds, encoder=encoder, cache=ft.EmbeddingCache(), show_progress=show_progress)
embeddings"""

# notebooks 02 and 05 build the profiles and segments with the same calls, so 05 loads what 02 saved
PROFILES_AND_SEGMENTS = """
profiler = ft.fit_or_load(ft.UserProfiler("rating_weighted"), ds, embeddings)
profiles = profiler.transform()
seg = ft.load_or_fit("segments", lambda: ft.segment_users(profiles, n_segments="auto", n_segments_range=k_range,
                                                          sample_size=silhouette_sample, random_state=seed),
                     dataset=ds, params={"profiles": profiles, "n_segments_range": k_range,
                                         "sample_size": silhouette_sample, "random_state": seed})"""

FINAL = """\
results["runtime_s"] = round(time.perf_counter() - started, 1)
Path(results_path).parent.mkdir(parents=True, exist_ok=True)
Path(results_path).write_text(json.dumps(results, indent=2, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
print(f"wrote {results_path}")
pd.Series({key: value for key, value in results.items() if np.ndim(value) == 0 and not isinstance(value, dict)}, dtype=object)"""


def md(text: str):
    return new_markdown_cell(textwrap.dedent(text).strip())


def code(text: str, tags: tuple[str, ...] = ()):
    cell = new_code_cell(textwrap.dedent(text).strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def notebook(name: str, title: str, intro: str, parameters: str, body: list) -> nbformat.NotebookNode:
    params = COMMON_PARAMETERS.replace("{name}", name)
    if parameters.strip():
        params += "\n" + textwrap.dedent(parameters).strip()
    cells = [
        md(f"# {title}\n\n{textwrap.dedent(intro).strip()}"),
        code(IMPORTS),
        md("## Parameters\n\nChange these, or pass them with papermill: `-p dataset ml-1m`; lists as YAML, "
           "`-y 'k_range: [3, 4, 5]'`."),
        code(params, tags=("parameters",)),
        code(SETUP),
        *body,
        md("## Results for the tests\n\nThe key numbers of this notebook, written to `results_path`."),
        code(FINAL),
    ]
    for i, cell in enumerate(cells):  # stable ids, numbered as nbstripout numbers them
        cell["id"] = str(i)
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


# --------------------------------------------------------------------------- 01
NB01 = dict(
    name="01_feature_extraction",
    title="01 · From film text to language-model features",
    intro="""
    Each film becomes a short document (genres, title and, where the offline TMDB pack has
    it, the plot overview; the release year is left out, and a measurement below shows why),
    and a pretrained language model turns that document into a vector. You will see how much plot text could be attached, how the MiniLM embeddings
    compare with two classic baselines (TF-IDF on the same documents, and plain genre flags)
    through nearest-neighbour tables, and a 2-D map of the catalogue. Embeddings and map
    coordinates are cached on disk, so the later notebooks reuse them instead of recomputing.
    """,
    parameters="""
    probe_titles = ["Toy Story (1995)", "Raiders of the Lost Ark (1981)", "Fargo (1996)"]   # in ml-100k and ml-1m
    n_neighbours = 5
    document_templates = ["genres_title", "title_genres", "title_year_genres"]   # names of ft.DOCUMENT_TEMPLATES
    map_method = "umap"        # "umap" (cached after the first run) or "pca" (instant)
    n_map_labels = 10          # most-rated titles labelled on the map
    """,
    body=[
        md("""
        ## 1. Item documents and plot coverage

        `attach_overviews` joins the TMDB overviews shipped in the offline `movienight` pack by
        normalised title and year (±1). Coverage is reported as a share of films and as a share
        of ratings; a rating share above the film share means the matched films are the more
        rated ones.
        """),
        code("""
        items_ds = ft.attach_overviews(ds)
        coverage = items_ds.items.attrs["overview_coverage"]
        results["overview_coverage"] = {key: coverage[key] for key in ("n_items", "item_share", "rating_share")}
        pd.Series(coverage, name="overview coverage").to_frame()
        """),
        code("""
        documents = ft.build_item_documents(items_ds)
        for doc in documents[:3]:
            print(doc[:300], "\\n")
        """),
        md("""
        ## 2. Three representations of the same films

        `TextEncoder` runs the language model (mean pooling over the attention mask, no
        gradients, length-sorted batches). `EmbeddingCache` keys each vector by the model's
        fingerprint and a hash of the exact text, so a second run encodes nothing. TF-IDF and
        genre flags come back as the same `ItemEmbeddings` type, so every later step can swap
        one representation for another in one argument.
        """),
        code("""
        encoder = ft.TextEncoder(model=model)
        cache = ft.EmbeddingCache()
        t0 = time.perf_counter()
        embeddings = ft.embed_items(items_ds, encoder=encoder, cache=cache, show_progress=show_progress)
        results["embed_s"] = round(time.perf_counter() - t0, 1)
        results["texts_encoded"] = int(cache.last_stats_["n_encoded"])
        representations = {
            "language model": embeddings,
            "tf-idf": ft.embed_items(items_ds, encoder=ft.TfidfEncoder(), cache=False),
            "genres": ft.embed_items(items_ds, encoder=ft.GenreEncoder(), cache=False),
        }
        results["embedding_dim"] = embeddings.dim
        results["n_items"] = len(embeddings)
        pd.DataFrame({name: {"model": e.model_id, "items": len(e), "dim": e.dim}
                      for name, e in representations.items()}).T
        """),
        md("""
        ## 3. Nearest neighbours

        `similar_items` finds a film by title (fuzzy, with a clear error listing close matches
        when a title is ambiguous) and returns its closest films by cosine similarity. Look at
        whether the neighbours share more than the genres: genre flags give every film with
        the same genres the same vector, while the language model also reads the title and plot.
        """),
        code("""
        neighbours = {}
        for title in probe_titles:
            tables = {name: ft.similar_items(e, title, k=n_neighbours, dataset=items_ds)
                      for name, e in representations.items()}
            neighbours[title] = {name: table["title"].tolist() for name, table in tables.items()}
            display(HTML(f"<h4>Closest to {title}</h4>"))
            display(pd.DataFrame({name: table["title"].to_numpy() for name, table in tables.items()}))
        results["neighbours"] = neighbours
        """),
        md("""
        ## 4. Which document? Neighbours should follow content, not the release year

        The text given to the model decides what its neighbours have in common: with the year
        in the text ("Title (Year). Genres: …") neighbours may be chosen by the year rather
        than the content. `compare_documents` embeds the catalogue once per template and
        `document_diagnostics` measures, for each: the share of the `n_neighbours` nearest neighbours
        released the same year beside the rate of genre flags (which know nothing about the
        year), genre agreement (share of neighbours sharing at least one genre), and the overlap
        with co-rating neighbours (films rated by the same users). `choose_document` keeps the
        templates whose same-year rate is at most twice that of genre flags and whose genre
        agreement is at least 0.80, then takes the one closest to the co-rating neighbours.
        The release year can still enter a model as a separate numeric feature.
        `benchmarks/bench_documents.py` runs every template on ml-1m.
        """),
        code("""
        comparison = ft.compare_documents(items_ds, templates=document_templates, encoder=encoder, k=n_neighbours,
                                          show_progress=show_progress)
        default_template = next(name for name, fields in ft.DOCUMENT_TEMPLATES.items()
                                if tuple(fields) == tuple(ft.DEFAULT_FIELDS))
        results["document_choice"] = ft.choose_document(comparison)
        results["document_templates"] = comparison.drop(columns="example").to_dict("records")
        for sentence in ft.document_sentences(comparison, default=default_template):
            print("-", sentence)
        comparison[["representation", "same_year", "same_year_genre_base", "year_ratio", "genre_agreement",
                    "co_rating_overlap", "example"]].round(3)
        """),
        md("""
        ## 5. A map of the catalogue

        `project_2d` reduces the embeddings to two dimensions (UMAP; the coordinates are cached
        on disk, so notebook 02 and later runs skip the computation); `plot_item_map` colours
        each film by its main genre and labels the most-rated titles.
        """),
        code("""
        coords = ft.project_2d(embeddings.matrix, method=map_method, random_state=seed)
        fig = ft.plot_item_map(coords, items_ds, label=n_map_labels)
        results["map_points"] = int(len(coords))
        plt.show()
        """),
    ],
)

# --------------------------------------------------------------------------- 02
NB02 = dict(
    name="02_user_profiles_and_segments",
    title="02 · User profiles and audience segments",
    intro="""
    A user's taste becomes one vector built from the films they rated, weighted by how much
    more (or less) than usual they liked each. You will compare profile strategies by the
    recommendations they give, see users with several distinct interests, group users into
    audience segments (the number chosen by silhouette), read each segment's description (top
    genres by lift, demographic composition with chi-square tests, representative films), look
    at the user map, and export an audience with the privacy guard on. Last, the question a
    content or marketing team asks first: given only the description of a new film, who is
    its audience and which segments does it come from? Checked on real films held out of
    training: how many of their real viewers the predicted audience found.
    """,
    parameters="""
    strategies = ["mean", "rating_weighted", "time_decay"]
    k_range = [3, 4, 5, 6, 7, 8, 9, 10]      # candidate numbers of segments
    silhouette_sample = 2000                 # users sampled for the silhouette score
    n_eval_users = 300                       # users in the strategy comparison (None: all)
    min_audience = 50                        # privacy guard of the export
    min_cell = 5                             # demographic cells below this are suppressed
    map_method = "umap"
    audience_films = 3                       # held-out films whose audience is predicted from their overview
    audience_share = 0.05                    # the predicted audience: top 5 % of users
    """,
    body=[
        md("## 1. Item embeddings (read from the cache notebook 01 filled)"),
        code(EMBED),
        md("""
        ## 2. Profile strategies

        `UserProfiler` builds one unit vector per user. `mean` treats every rated film alike;
        `rating_weighted` centres ratings on the user's mean, so disliked films push the profile
        away; `time_decay` halves a film's weight every `half_life_days`. `MultiInterestProfiler`
        keeps several interest vectors per user and scores a film by its best match. Each is
        plugged into the same `ContentRecommender` and evaluated on a stratified split
        (NDCG and recall at `k`, and intra-list diversity on the embeddings). The sentences
        under the table come from paired Wilcoxon tests on the same users (Holm-corrected),
        each strategy against `rating_weighted`, the default.
        """),
        code("""
        train, test = ft.stratified_split(ds, 0.75, random_state=seed)
        rng = np.random.default_rng(seed)
        eval_users = None if not n_eval_users else np.sort(rng.choice(test.user_ids, min(n_eval_users, test.n_users), replace=False))
        profilers = {s: ft.UserProfiler(strategy=s) for s in strategies}
        profilers["multi-interest (max)"] = ft.MultiInterestProfiler(random_state=seed)
        rows, per_user = {}, {}
        for name, profiler in profilers.items():
            ev = ft.evaluate(ft.ContentRecommender(embeddings, profiler=profiler), train, test, k=(k,), users=eval_users)
            per_user[name] = ev.per_user
            rows[name] = {f"ndcg@{k}": ev.means[f"ndcg@{k}"], f"recall@{k}": ev.means[f"recall@{k}"],
                          "ild (embeddings)": ft.intra_list_diversity(ev.recommendations, train, embeddings, k=k)}
        strategy_table = pd.DataFrame(rows).T
        results["strategies"] = strategy_table.round(4).to_dict(orient="index")
        strategy_sentences = ft.describe_comparison(ft.compare_models(per_user, metric=f"ndcg@{k}",
                                                                      baseline="rating_weighted", random_state=seed))
        results["strategy_sentences"] = strategy_sentences
        for sentence in strategy_sentences:
            print("-", sentence)
        strategy_table.round(4)
        """),
        md("""
        ## 3. Multi-interest users

        How many interests each user's liked films split into (K chosen per user by silhouette,
        see the `MultiInterestProfiler` docstring).
        """),
        code("""
        multi = ft.fit_or_load(ft.MultiInterestProfiler(random_state=seed), ds, embeddings)  # saved for later runs
        n_interests = multi.info_["n_interests"]
        results["multi_interest_share"] = float((n_interests > 1).mean())
        n_interests.value_counts().sort_index().rename("users").to_frame()
        """),
        md("""
        ## 4. Segments: how many?

        `segment_users(n_segments="auto")` fits K-Means for each number of segments in `k_range` and
        keeps the one with the best silhouette (cosine, on a sample of users); the scores come back
        for this plot. The profiles and segments are saved in the data home (`fit_or_load`,
        `load_or_fit`, keyed by the data and every parameter), and notebook 05 loads them.
        """),
        code(PROFILES_AND_SEGMENTS + textwrap.dedent("""
        results["n_profiles"] = int(profiles.shape[0])
        results["fallback_users"] = int(profiler.info_["fallback"].sum())
        results["n_segments"] = int(seg.k)
        results["silhouette"] = {str(kk): float(v) for kk, v in seg.silhouette.items()}
        fig = ft.plot_silhouette(seg)
        plt.show()
        """)),
        md("""
        ## 5. Who is in each segment

        One row per segment: an automatic label from the top-lift genres, size and share, the
        most over-represented demographic values ("share ×lift") with a chi-square p-value per
        attribute, films closest to the segment's taste and most watched inside it. Cells with
        fewer than `min_cell` users are suppressed.
        """),
        code("""
        description = ft.describe_segments(ds, seg, embeddings, profiles=profiles, min_cell=min_cell)
        results["segment_labels"] = description["label"].tolist()
        results["segment_sizes"] = [int(x) for x in seg.sizes]
        results["min_demographic_p"] = float(description[[c for c in description.columns if c.endswith("_p")]].min().min())
        description
        """),
        md("""
        ## 6. Genre lift of every segment, and the demographics of the largest

        Lift ×1 means "as in the whole population". The heat map uses a diverging scale centred
        on ×1 (blue over-, red under-represented); lifts whose per-user test is not significant
        are greyed.
        """),
        code("""
        fig = ft.plot_segment_lifts(description.attrs["genre_lift"], names=description["label"].to_dict(),
                                    p_values=description.attrs.get("genre_p"))
        plt.show()
        largest = int(np.argmax(seg.sizes))
        ft.plot_demographics(description.attrs["compositions"]["age_group"], largest)
        plt.show()
        """),
        md("## 7. The user map, coloured by segment"),
        code("""
        user_coords = ft.project_2d(profiles, method=map_method, random_state=seed)
        fig = ft.plot_user_map(user_coords, seg, names=description["label"].to_dict())
        plt.show()
        """),
        md("""
        ## 8. A privacy-guarded audience export

        `export_audience` refuses segments smaller than `min_size` (no tiny, re-identifiable
        group leaves the toolkit) and by default exports counts, not user ids.
        """),
        code("""
        display(ft.export_audience(seg, largest, min_size=min_audience))
        try:
            ft.export_audience(seg, largest, min_size=int(seg.sizes.max()) + 1)
            results["privacy_guard_refused"] = False
        except ValueError as exc:
            print("Refused, as it should be:", exc)
            results["privacy_guard_refused"] = True
        """),
        md("""
        ## 9. Audience for a new title

        A film that nobody has rated yet has only its description. To test this honestly, 20 %
        of the films are held out with all their ratings (`cold_item_split`), a `ContentToCF`
        model learns on the other films how film text maps to the taste space of a
        collaborative-filtering model, and the most-watched held-out films with a TMDB overview
        among those seen by 2-10 % of users play the new titles: the model sees only their overview, genres and year (what
        a studio knows before release), never a rating of them.
        """),
        code("""
        train_c, test_c = ft.cold_item_split(ds, item_share=0.2, random_state=seed)
        audience_model = ft.fit_or_load(ft.ContentToCF(embeddings, random_state=seed), train_c, name="ContentToCF")
        catalogue = items_ds.items.set_index("item_id")
        viewers = pd.Series(test_c.item_counts(), index=ds.item_ids, name="viewers (held out)")
        has_overview = catalogue["overview"].astype(str).str.len().gt(40) & catalogue["overview"].notna()
        # films seen by 2-10 % of users: a blockbuster seen by more users than the audience holds cannot be
        # found in full by any top-5 % audience, which would make the check below say little
        mid = viewers.between(0.02 * ds.n_users, 0.10 * ds.n_users) & has_overview.reindex(viewers.index).to_numpy()
        new_ids = viewers[mid].sort_values(ascending=False, kind="mergesort").head(audience_films).index
        new_films = catalogue.loc[new_ids, ["title", "genres", "year", "overview"]] \
            .assign(**{"viewers (held out)": viewers[new_ids]})
        new_films.assign(overview=new_films["overview"].str.slice(0, 150) + "...")
        """),
        md("""
        `audience_for` ranks every user by the model's score of the overview and keeps the top
        `audience_share`; the table gives each segment's size in that audience, its share, its
        share of all users and the lift (with a one-sided hypergeometric test, Holm-adjusted),
        and `typical_lift`: the share relative to the segment's share of all ratings, i.e.
        compared with the audience of a typical film (which accounts for how much each segment rates).
        The last line is what the held-out ratings say: how many of the film's real viewers the
        audience holds, as a lift over a random audience of the same size.
        """),
        code("""
        results["audience"] = {}
        for item_id, film in new_films.iterrows():
            aud = ft.audience_for(audience_model, text=film["overview"], metadata=film[["genres", "year"]].to_dict(),
                                  name=film["title"], labels=seg, descriptions=description,
                                  top_share=audience_share, encoder=encoder)
            truth = aud.recall(test_c.ratings.loc[test_c.ratings["item_id"] == item_id, "user_id"])
            display(HTML(f"<h3>{film['title']}</h3>"), aud)
            print(f"Real viewers in the predicted audience: {int(truth['hits'])} of {int(truth['n_raters'])} "
                  f"(recall {truth['recall']:.0%}, lift ×{truth['lift']:.1f} over a random audience); "
                  f"{truth['precision']:.0%} of the audience watched it (a random audience: {truth['base_rate']:.0%})")
            top = aud.segments.iloc[0]
            results["audience"][film["title"]] = {
                "top_segment": str(top["description"]), "top_segment_lift": float(top["lift"]),
                "n_audience": aud.n_top, "recall_lift": float(truth["lift"]), "precision": float(truth["precision"]),
                "base_rate": float(truth["base_rate"]), "sentence": aud.sentence}
        """),
        md("""
        ### How good are such audiences? Every held-out film

        `audience_recall_lift` repeats the check for every held-out film: the share of its real
        viewers inside its predicted top `audience_share` of users, over `audience_share`
        (1 = random, 20 = every viewer found for the top 5 %). Beside it: ranking users by how
        much they rate (a baseline that knows nothing about the film) and the original
        design's cosine between user profile and film vector. The sentences come from paired
        Wilcoxon tests over the same films.
        """),
        code("""
        audience_models = {"ContentToCF (LM)": audience_model, "User activity": ft.UserActivity().fit(train_c),
                           "Content cosine (LM)": ft.ContentRecommender(embeddings).fit(train_c)}
        recall = {name: ft.audience_recall_lift(m, train_c, test_c, top_share=audience_share)
                  for name, m in audience_models.items()}
        recall_table = pd.DataFrame({name: r.summary() for name, r in recall.items()}).T.drop(columns="model")
        results["audience_recall_lift"] = {name: round(r.mean_lift, 3) for name, r in recall.items()}
        verdicts = ft.compare_audience_recall(recall, baseline="ContentToCF (LM)")
        for sentence in verdicts["verdict"]:
            print(sentence)
        recall_table
        """),
        md("""
        The same panel lives in the `SegmentExplorer`: pass `model=`, pick the film's genres and
        year, and type its description into "new film" (or name a catalogue film).
        """),
        code("""
        explorer = ft.SegmentExplorer(ds, seg.labels, description, min_size=min_audience, model=audience_model,
                                      encoder=encoder, top_share=audience_share)
        explorer.new_genres.value = tuple(new_films["genres"].iloc[0])
        explorer.new_year.value = int(new_films["year"].iloc[0])
        explorer.new_film.value = new_films["overview"].iloc[0]
        results["explorer_audience_error"] = explorer.error.value
        explorer
        """),
    ],
)

# --------------------------------------------------------------------------- 03
NB03 = dict(
    name="03_recommendation",
    title="03 · Recommendations: content, baselines, hybrid, cold start",
    intro="""
    The content model scores a film for a user by the cosine between the user's profile and the
    film's language-model vector. You will fit it next to the collaborative baselines the field
    measures everything against (popularity, item-kNN, EASE, matrix factorisation), blend them
    into a hybrid, recommend for a brand-new user from a free-text wish and from a few liked
    titles, read why a film was recommended, and evaluate every model under two published
    protocols, with the published numbers printed beside ours.
    """,
    parameters="""
    n_eval_users = None        # evaluate a sample of users (None: all)
    wish = "a heartwarming animated film about friendship"
    liked_titles = ["Toy Story (1995)", "Aladdin (1992)"]
    compare_encoders = []      # other text models for the content model, e.g. ["smollm2-135m"] (slow on CPU)
    """,
    body=[
        md("## 1. Item embeddings (cached by notebook 01)"),
        code(EMBED),
        md("""
        ## 2. The models

        Per-user stratified 75/25 split with seed 42: the protocol of their benchmark table.
        `Content (genres)` uses genre flags instead of the language model, to show what the
        language model adds. Two hybrids add the language model to EASE: `Hybrid (EASE + LM)`
        blends EASE's scores with the LM content model's (more content for films with few
        ratings), `EASESide (LM)` is EASE whose closed form also reconstructs the films' LM
        vectors. Their weights are chosen on a validation split carved out of train (never on
        test) with `tune_blend`: weight 0 is in the grid, and the language model is switched on
        only when the best weight beats weight 0 in a paired test on the validation users. With
        weight 0 a hybrid ranks exactly as EASE. The named model set is `ft.standard_models`
        (one definition for every notebook); `ft.tune_lm_hybrids` holds the hybrids' grids.
        The tuning results (`cache=True`) and every fitted model (`fit_or_load`) are saved in
        the data home, keyed by the split and every parameter: notebook 04 and later runs load
        them instead of fitting again.
        """),
        code("""
        train, test = ft.stratified_split(ds, 0.75, random_state=seed)
        genre_features = ft.embed_items(items_ds, encoder=ft.GenreEncoder(), cache=False)
        # validation carved out of train the same way; the test split is never looked at
        tune_train, valid = ft.stratified_split(train, 0.75, random_state=seed + 1)
        tuned = ft.tune_lm_hybrids(embeddings, tune_train, valid, metric=f"ndcg@{k}", cache=True)
        results["hybrid_params"] = {name: result.best_params for name, result in tuned.items()}
        models = ft.standard_models(embeddings, genre_features=genre_features, random_state=seed,
                                    hybrid_params=results["hybrid_params"])
        fitted = {name: ft.fit_or_load(m, train, name=name) for name, m in models.items()}
        pd.concat({name: result.results for name, result in tuned.items()}).round(4)
        """),
        md("""
        ## 3. Evaluation under the Microsoft Recommenders protocol (ml-100k)

        Full ranking over every film the user did not rate in training; every test rating is
        relevant; top `k`. `evaluate` ranks with the fitted models (`refit=False`) and returns
        per-user metrics (the audit uses them) and their means; `fit_seconds` is the time the
        fit took when it was done (a loaded model is not fitted again). "MAP" is their `map`
        (÷ number of relevant items), as in their table.
        """),
        code("""
        rng = np.random.default_rng(seed)
        eval_users = None if not n_eval_users else np.sort(rng.choice(test.user_ids, min(n_eval_users, test.n_users), replace=False))
        msr = {name: ft.evaluate(m, train, test, k=(k,), users=eval_users, refit=False) for name, m in fitted.items()}
        msr_table = pd.DataFrame({name: ev.summary(k) for name, ev in msr.items()}).T
        msr_table["fit_seconds"] = pd.Series({name: m.fit_seconds_ for name, m in fitted.items()})
        cols = [f"precision@{k}", f"recall@{k}", f"ndcg@{k}", f"map@{k}", "fit_seconds", "score_seconds", "n_users"]
        results["msr_table"] = msr_table[cols].astype(float).round(4).to_dict(orient="index")
        msr_table[cols].round(4)
        """),
        md("""
        Is each hybrid better than EASE, its collaborative part? A paired Wilcoxon test on the
        same users (Holm-corrected), with a bootstrap CI of the mean difference.
        """),
        code("""
        hybrid_vs_ease = ft.compare_models({name: msr[name].per_user for name in ("Hybrid (EASE + LM)", "EASESide (LM)", "EASE")},
                                           metric=f"ndcg@{k}", baseline="EASE", random_state=seed)
        hybrid_vs_ease["verdict"] = ft.paired_verdicts(hybrid_vs_ease)
        results["hybrid_vs_ease"] = hybrid_vs_ease[["model_a", "diff", "ci_low", "ci_high", "p_holm", "verdict"]].round(4).to_dict(orient="records")
        for sentence in ft.describe_comparison(hybrid_vs_ease):
            print("-", sentence)
        hybrid_vs_ease.round(4)
        """),
        md("""
        Published numbers for the same protocol on ml-100k (Microsoft Recommenders README table,
        recommenders 1.2.x; see `docs/protocols.md`). They are comparable with the table above only
        when `dataset == "ml-100k"`, every user is evaluated and `k` is their cut-off (the number
        after `@` in their columns).
        """),
        code("""
        published_msr = ft.published_accuracy("msr-ml-100k")  # package data, with its source
        pd.concat([msr_table[cols[:4]].assign(source="ours"), published_msr]).round(4)
        """),
        md("""
        ### Which language model?

        The same content model on other encoders' embeddings (set `compare_encoders`, e.g. to
        `["smollm2-135m"]`, the causal LM preset: mean-pooled hidden states, mean-centred over
        the catalogue). Each is embedded once through the cache.
        """),
        code("""
        encoder_table = {f"{embeddings.model_id} (this run)": msr["Content (LM)"].summary(k)}
        for other_model in compare_encoders:
            other = ft.embed_items(items_ds, encoder=ft.TextEncoder(model=other_model), cache=ft.EmbeddingCache(),
                                   show_progress=show_progress)
            ev = ft.evaluate(ft.fit_or_load(ft.ContentRecommender(other), train), train, test, k=(k,), users=eval_users,
                             refit=False)
            encoder_table[f"{other.model_id} ({other_model})"] = ev.summary(k)
        encoder_table = pd.DataFrame(encoder_table).T[[f"precision@{k}", f"recall@{k}", f"ndcg@{k}"]].astype(float)
        results["encoder_table"] = encoder_table.round(4).to_dict(orient="index")
        encoder_table.round(4)
        """),
        md("## 4. One user's list, and why"),
        code("""
        user = train.user_ids[0]
        recs = fitted["Content (LM)"].recommend(users=[user], k=k)
        display(recs.merge(ds.items[["item_id", "title", "genres"]], on="item_id"))
        explanation = fitted["Content (LM)"].explain(user, recs["item_id"].iloc[0])
        print(explanation.sentence)
        explanation.frame
        """),
        code("""
        knn_explanation = fitted["ItemKNN"].explain(user, fitted["ItemKNN"].recommend(users=[user], k=1)["item_id"].iloc[0])
        print(knn_explanation.sentence)
        """),
        md("""
        ## 5. Cold start: a new user with only a wish, or a few liked titles

        The wish is embedded with the same encoder as the films; liked titles are looked up by
        title and left out of the list.
        """),
        code("""
        from_text = ft.recommend_for_profile(fitted["Content (LM)"], text=wish, k=k, encoder=encoder)
        from_titles = ft.recommend_for_profile(fitted["Content (LM)"], liked_items=liked_titles, k=k)
        results["cold_start_text"] = from_text["title"].tolist()
        results["cold_start_titles"] = from_titles["title"].tolist()
        pd.DataFrame({f"wish: {wish}": from_text["title"].to_numpy(),
                      "liked: " + ", ".join(liked_titles): from_titles["title"].to_numpy()})
        """),
        md("""
        ## 6. Evaluation under the RecBole protocol

        Ratings ≥ 3 are the positives; each user's interactions are split 8:1:1 at random
        (RecBole's size rule); the test ranking excludes train and validation items. The
        published numbers are for ml-1m; on ml-100k they are a reference only.
        """),
        code("""
        positives = ds.filter(min_rating=3)
        rb_train, rb_valid, rb_test = ft.user_random_split(positives, (0.8, 0.1, 0.1), random_state=seed)
        seen = ft.Dataset.concat([rb_train, rb_valid])
        rb_eval_users = None if not n_eval_users else np.sort(rng.choice(rb_test.user_ids, min(n_eval_users, rb_test.n_users), replace=False))
        # the hybrids' weights, chosen on this protocol's validation split
        rb_tuned = ft.tune_lm_hybrids(embeddings, rb_train, rb_valid, metric=f"ndcg@{k}", cache=True)
        results["recbole_hybrid_params"] = {name: result.best_params for name, result in rb_tuned.items()}
        recbole_models = ft.standard_models(embeddings, random_state=seed, hybrid_params=results["recbole_hybrid_params"])
        recbole = {name: ft.evaluate(ft.fit_or_load(m, seen, name=name), seen, rb_test, k=(k,), users=rb_eval_users,
                                     refit=False)
                   for name, m in recbole_models.items()}
        rb_cols = [f"recall@{k}", f"ndcg@{k}", f"mrr@{k}", f"hit@{k}"]
        recbole_table = pd.DataFrame({name: ev.summary(k) for name, ev in recbole.items()}).T[rb_cols].astype(float)
        results["recbole_table"] = recbole_table.round(4).to_dict(orient="index")
        published_recbole = ft.published_accuracy("recbole-ml-1m").assign(source="published (ml-1m)")
        pd.concat([recbole_table.assign(source=f"ours ({dataset})"), published_recbole]).round(4)
        """),
        md("""
        Note: models are fitted here on train + validation (the RecBole test phase ranks with
        that history). The hybrids' weights are chosen on the validation split (models fitted on
        train); the other hyper-parameters are the library defaults.
        `benchmarks/reproduce_published.py` and `benchmarks/bench_lm_warm.py` tune every model on
        validation.
        """),
        md("""
        ## 7. Item cold start: films nobody has rated yet

        A fifth of the films is held out
        with *all* of their ratings (the DropoutNet / CLCRec item cold-start protocol), a
        tenth more for validation; each user ranks only the held-out films. Three models:
        the original design (cosine of the user profile and the film's LM vector),
        `ContentToCF` on genres + release year, and `ContentToCF` with its defaults on the LM
        vectors (text + genres + year mapped to collaborative-filtering factors learned on the
        rated films). The CF rank of both `ContentToCF` models is chosen on the validation
        films with `ft.tune`; then each model is refitted on train + validation.
        """),
        code("""
        cold_train, cold_valid, cold_test = ft.cold_item_split(ds, 0.2, valid_share=0.1, random_state=seed)
        cold_fit = ft.Dataset.concat([cold_train, cold_valid])
        cold_grid = {"factors": [32, 64]}
        cold_models = {
            "Content cosine (LM)": ft.ContentRecommender(embeddings),
            "ContentToCF (genres+year)": ft.tune(ft.ContentToCF(None, random_state=seed), cold_grid, cold_train,
                                                 cold_valid, metric=f"ndcg@{k}", refit=cold_fit,
                                                 candidates="test").best_estimator,
            "ContentToCF (LM+genres+year)": ft.tune(ft.ContentToCF(embeddings, random_state=seed), cold_grid, cold_train,
                                                 cold_valid, metric=f"ndcg@{k}", refit=cold_fit,
                                                 candidates="test").best_estimator,
        }
        cold_eval = {name: ft.evaluate(m, cold_fit, cold_test, k=(k,), candidates="test", refit="auto")
                     for name, m in cold_models.items()}
        cold_per_user = {name: ev.per_user for name, ev in cold_eval.items()}
        cold_table = pd.DataFrame({name: ev.summary(k) for name, ev in cold_eval.items()}).T
        results["cold_items"] = cold_table[[f"ndcg@{k}", f"recall@{k}"]].astype(float).round(4).to_dict(orient="index")
        ft.plot_model_means(cold_per_user, metric=f"ndcg@{k}")
        plt.title(f"Cold items ({dataset}): NDCG@{k} over {cold_eval['Content cosine (LM)'].n_users} users")
        plt.show()
        cold_table[[f"ndcg@{k}", f"recall@{k}", "n_users"]].round(4)
        """),
        md("The sentences below are produced from paired tests on the same users (Wilcoxon, Holm-corrected)."),
        code("""
        cold_cmp = ft.compare_models(cold_per_user, metric=f"ndcg@{k}", baseline="ContentToCF (LM+genres+year)")
        cold_sentences = ft.describe_comparison(cold_cmp)
        results["cold_items_sentences"] = cold_sentences
        results["lm_findings"] = [f"Item cold start ({dataset}, 20 % of films held out): {s}" for s in cold_sentences]
        for sentence in cold_sentences:
            print(sentence)
        """),
    ],
)

# --------------------------------------------------------------------------- 04
NB04 = dict(
    name="04_bias_diversity_fairness_audit",
    title="04 · Bias, diversity and fairness audit",
    intro="""
    Accuracy is not the whole story. This notebook audits the recommenders of notebook 03: how
    much of the catalogue they use and how unequally (coverage, Gini, Lorenz curves), how novel
    and diverse their lists are, whether they keep each user's genre mix (calibration), what MMR
    and calibrated re-ranking trade for diversity and calibration, whom the models serve worse
    (user groups, with bootstrap CIs and p-values), which films they bury (exposure by
    popularity tier), and whether the published fairness finding reproduces. It ends with what an
    auditor should conclude, and writes the whole audit as one static HTML page.
    """,
    parameters="""
    n_eval_users = None        # audit a sample of users (None: all)
    n_candidates = 50          # candidate pool of the re-rankers
    tradeoff_lambdas = [0.0, 0.25, 0.5, 0.75, 1.0]
    n_bootstrap = 1000
    audited_models = ["Popularity", "ItemKNN", "EASE", "Content (LM)", "Hybrid (EASE + LM)"]   # names of ft.standard_models
    fairness_models = ["Popularity", "ItemKNN", "EASE", "Content (LM)"]   # refitted on the temporal split
    """,
    body=[
        md("""
        ## 1. Models and their top-k lists (same split and models as notebook 03)

        The same calls as notebook 03 (`standard_models`, `tune_lm_hybrids` on the same
        validation split, `fit_or_load`), so when notebook 03 ran first with the same
        parameters, the tuning and the fitted models are loaded from the data home (the log
        says which); otherwise they are fitted here and saved.
        """),
        code(EMBED),
        code("""
        train, test = ft.stratified_split(ds, 0.75, random_state=seed)
        rng = np.random.default_rng(seed)
        users = test.user_ids if not n_eval_users else np.sort(rng.choice(test.user_ids, min(n_eval_users, test.n_users), replace=False))
        # the hybrid's weights are chosen on a validation split carved out of train (weight 0 = EASE alone;
        # the LM is switched on only for a significant paired gain on the validation users)
        tune_train, valid = ft.stratified_split(train, 0.75, random_state=seed + 1)
        tuned = ft.tune_lm_hybrids(embeddings, tune_train, valid, metric=f"ndcg@{k}", cache=True)
        results["hybrid_params"] = tuned["Hybrid (EASE + LM)"].best_params
        models = ft.standard_models(embeddings, random_state=seed, include=audited_models,
                                    hybrid_params={name: result.best_params for name, result in tuned.items()})
        fitted = {name: ft.fit_or_load(m, train, name=name) for name, m in models.items()}
        audited = test.subset(test.ratings["user_id"].isin(users).to_numpy())  # the audited users' test ratings
        recommendations = {name: m.recommend(users=users, k=k) for name, m in fitted.items()}
        """),
        md("""
        ## 2. Re-ranking trade-offs

        Both re-rankers choose k films from the EASE top-`n_candidates`. MMR (λ = 1 keeps the
        model's order) trades relevance for intra-list diversity on the embeddings; calibrated
        re-ranking (λ = 0 keeps the order) trades it for lists whose genre mix matches the
        user's history (Steck 2018).
        """),
        code("""
        candidates = fitted["EASE"].recommend(users=users, k=n_candidates)
        tradeoff = pd.concat([
            ft.tradeoff_curve(ft.MMRReranker(features=embeddings), candidates, train, audited,
                              values=tradeoff_lambdas, k=k, features=embeddings),
            ft.tradeoff_curve(ft.CalibratedReranker(), candidates, train, audited, values=tradeoff_lambdas,
                              k=k, features=embeddings, include_baseline=False),
        ], ignore_index=True)
        baseline_ild = tradeoff.loc[tradeoff["reranker"] == "none", "ild"].iloc[0]
        mmr_half = tradeoff.loc[(tradeoff["reranker"] == "MMRReranker") & (tradeoff["value"] == 0.5)]
        if len(mmr_half):
            results["mmr_ild_gain"] = float(mmr_half["ild"].iloc[0] - baseline_ild)
        tradeoff.round(4)
        """),
        md("""
        ## 3. The audit

        `audit` computes, per model, the per-user accuracy and beyond-accuracy metrics, the
        catalogue-level coverage, entropy and Gini, user-group gaps with bootstrap CIs and tests,
        item exposure by popularity tier and genre, and paired model comparisons.
        """),
        code("""
        report = ft.audit(recommendations, train, audited, k=k, features=embeddings, tradeoff=tradeoff,
                          n_resamples=n_bootstrap, random_state=seed)
        summary = report.summary
        results["beyond_accuracy"] = summary.astype(float).round(4).to_dict(orient="index")
        summary.round(4)
        """),
        md("""
        ## 4. Popularity bias: Lorenz curves and what gets recommended

        The further a curve bows below the diagonal, the more a few films take all the exposure.
        """),
        code("""
        fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
        ft.plots.plot_audit(report, "lorenz", ax=axes[0])
        ft.plots.plot_audit(report, "popularity", ax=axes[1])
        plt.show()
        """),
        md("## 5. Diversity and calibration trade-off curves"),
        code("""
        fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
        ft.plots.plot_audit(report, "tradeoff", x="ild", ax=axes[0])
        ft.plots.plot_audit(report, "tradeoff", x="miscalibration", ax=axes[1])
        plt.show()
        """),
        md("""
        ## 6. Whom do the models serve worse?

        Group means of NDCG@k with bootstrap 95% CIs, and one test per attribute
        (Mann-Whitney U for two groups, Kruskal-Wallis for more, Holm-corrected).
        """),
        code("""
        tests = report.tests.loc[report.tests["metric"] == f"ndcg@{k}"]
        display(tests.round(4))
        fig = ft.plots.plot_audit(report, "group_gaps", metric=f"ndcg@{k}", attribute="gender")
        plt.show()
        """),
        md("## 7. Item exposure by popularity tier"),
        code("""
        exposure = report.exposure.loc[report.exposure["by"] == "popularity"]
        results["exposure_popularity"] = exposure.drop(columns=["by"]).round(4).to_dict(orient="records")
        exposure.round(4)
        """),
        md("""
        ## 8. The published fairness finding: does it reproduce here?

        Boratto et al. (ECIR 2022), ml-1m: per-user temporal 70/10/20 split, models refitted on
        train + validation, NDCG on the newest 20 %. Their gaps ship with the package
        (`ft.load_published()`, with the cut-off they used); the table below puts ours, on the
        same protocol, beside them. Our models are scored at `k` and at the published cut-off.
        """),
        code("""
        published = ft.load_published()
        published_metric = published["metric"].iloc[0]   # the published cut-off, from the package data
        fairness_metrics = list(dict.fromkeys([f"ndcg@{k}", published_metric]))
        b_train, b_valid, b_test = ft.temporal_split(ds, (0.7, 0.1, 0.2))
        b_seen = ft.Dataset.concat([b_train, b_valid])
        attributes = ft.user_attributes(b_seen)
        rows = []
        for name, m in ft.standard_models(embeddings, random_state=seed, include=fairness_models).items():
            ev = ft.evaluate(ft.fit_or_load(m, b_seen, name=name), b_seen, b_test, refit=False,
                             k=sorted({int(metric.split("@")[1]) for metric in fairness_metrics}))
            gf = ft.group_fairness(ev.per_user, attributes, metrics=fairness_metrics, by=["gender", "age_35"],
                                   n_resamples=n_bootstrap, random_state=seed)
            rows.append(gf.tests.assign(model=name, ndcg=gf.tests["metric"].map(ev.means)))
        fairness = pd.concat(rows, ignore_index=True)
        results["fairness"] = fairness.round(4).to_dict(orient="records")
        at_published = fairness.loc[fairness["metric"] == published_metric]
        ours = at_published.pivot(index="model", columns="attribute", values="gap").assign(
            ndcg=at_published.groupby("model")["ndcg"].first())
        ours["better served"] = at_published.groupby("model").apply(
            lambda t: ", ".join(f"{a}: {h}" for a, h in zip(t["attribute"], t["high_group"])), include_groups=False)
        published_fairness = (ft.published_gap_table(published["dataset"].iloc[0], published_metric)
                              .rename(columns={published_metric: "ndcg"}).drop(columns="source"))
        display(HTML(f"<p>Gaps and NDCG at the published cut-off ({published_metric}).</p>"))
        pd.concat({f"ours ({dataset})": ours, f"published ({published['dataset'].iloc[0]})": published_fairness}).round(4)
        """),
        md("""
        Gaps are the largest minus the smallest group mean; `better served` names the group
        with the higher mean. The full tests (statistic, p-value, Holm-adjusted p) follow.
        """),
        code("""
        fairness.round(4)
        """),
        md("""
        Does a language model narrow or widen these gaps where it is combined with EASE? The two
        LM hybrids are tuned on the validation split (fitted on train), the one with the higher
        validation NDCG@k is refitted on train + validation, and its gaps are compared with
        EASE's on the same test users: `gap_change` bootstraps |gap(LM)| - |gap(EASE)| over
        users, and `gap_change_sentences` says what the numbers show.
        """),
        code("""
        lm_tuning = ft.tune_lm_hybrids(embeddings, b_train, b_valid, metric=f"ndcg@{k}", cache=True)
        lm_name = max(lm_tuning, key=lambda name: lm_tuning[name].best_score)
        lm_model = ft.standard_models(embeddings, include=[lm_name], hybrid_params={lm_name: lm_tuning[lm_name].best_params})[lm_name]
        lm_eval = ft.evaluate(ft.fit_or_load(lm_model, b_seen, name=lm_name), b_seen, b_test, k=(k,), refit=False)
        ease_eval = ft.evaluate(ft.fit_or_load(ft.EASE(), b_seen, name="EASE"), b_seen, b_test, k=(k,), refit=False)
        gap_changes = pd.DataFrame([
            ft.gap_change(lm_eval.per_user, ease_eval.per_user, attributes, attribute, high, low, metric=f"ndcg@{k}",
                          n_resamples=n_bootstrap, random_state=seed)
            for attribute, high, low in (("gender", "M", "F"), ("age_35", "<35", "35+"))
        ]).assign(model_a=f"{lm_name} {lm_tuning[lm_name].best_params}", model_b="EASE")
        results["lm_gap_change"] = gap_changes.round(4).to_dict(orient="records")
        for sentence in ft.gap_change_sentences(gap_changes):
            print("-", sentence)
        gap_changes.round(4)
        """),
        md("## 9. What an auditor should conclude"),
        code("""
        # every sentence is computed from the tables by AuditReport.findings (no hand-written claim)
        import html

        report.add_split("temporal 70/10/20", fairness)
        findings = report.findings_by_kind(dataset=dataset)
        results["findings"] = findings
        results["significant_gaps"] = int(((report.tests["metric"] == f"ndcg@{k}") & (report.tests["p_holm"] < 0.05)).sum())
        if report.comparisons is not None:
            results["comparisons"] = report.comparisons.to_dict(orient="records")
        sections = {"accuracy": "Accuracy", "groups": "Who is served worse", "activity": "At equal activity",
                    "splits": "Random vs temporal split", "replication": "The published finding",
                    "tradeoff": "Re-ranking", "exposure": "Popularity bias"}
        display(HTML("".join(f"<h4>{title}</h4><ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in findings[key]) + "</ul>"
                             for key, title in sections.items() if findings[key])))
        """),
        md("## 10. The static report"),
        code("""
        Path(report_dir).mkdir(parents=True, exist_ok=True)
        audit_path = report.to_html(Path(report_dir) / "audit.html", title=f"filmrec_toolkit audit ({dataset})",
                                    figures=ft.plots.audit_figures(report))
        results["audit_html"] = str(audit_path)
        print("audit report written to", audit_path)
        """),
    ],
)

# --------------------------------------------------------------------------- 05
NB05 = dict(
    name="05_interactive_inspection",
    title="05 · Interactive inspection of users and segments",
    intro="""
    Two inspectors for people who would rather click than code. `UserInspector`: pick a user
    (search by id, or filter by segment, gender or age band) to see their history, their
    profile's top genres against the population, their segment, and a chosen model's
    recommendations with an explanation per film; the MMR and calibration sliders re-rank the
    list live and update its diversity and calibration numbers; a free-text wish gives
    cold-start recommendations. `SegmentExplorer`: pick a segment to see its description,
    demographic composition, representative films and the privacy-guarded export. Both only
    read what earlier steps produced (cached embeddings, fitted models, segment labels).
    """,
    parameters="""
    min_audience = 50          # privacy guard of the export
    n_candidates = 50          # candidate pool the re-rankers choose from
    n_static_users = 4         # users pre-rendered for the static HTML report
    static_model = "Content (LM)"   # the model shown there (it explains every film)
    static_mmr = 0.5           # MMR lambda of the "after" list
    wishes = ["a heartwarming animated film about friendship", "a tense thriller set in space"]
    k_range = [3, 4, 5, 6, 7, 8, 9, 10]   # as in notebook 02, so the segments are the same (and loaded)
    silhouette_sample = 2000
    min_cell = 5                          # demographic cells below this are suppressed
    inspected_models = ["Hybrid (EASE + LM)", "Content (LM)", "EASE", "ItemKNN"]   # names of ft.standard_models
    """,
    body=[
        md("""
        ## 1. The artefacts the inspectors read

        The models (from `ft.standard_models`, fitted on every rating), the user profiles and
        the segments come through `fit_or_load` / `load_or_fit`: they are loaded from the data
        home when notebook 02 or an earlier run saved them with the same data and parameters
        (the log says which), and fitted and saved otherwise.
        """),
        code(EMBED),
        code(PROFILES_AND_SEGMENTS + textwrap.dedent("""
        standard = ft.standard_models(embeddings, random_state=seed, include=inspected_models)
        models = {name: ft.fit_or_load(standard[name], ds, name=name) for name in inspected_models}
        content = models["Content (LM)"]
        description = ft.describe_segments(ds, seg, embeddings, profiles=profiles, min_cell=min_cell)
        cold_start = lambda text, n: ft.recommend_for_profile(content, text=text, k=n, encoder=encoder)[["item_id", "score"]]
        """)),
        md("## 2. UserInspector"),
        code("""
        inspector = ft.UserInspector(ds, models, embeddings=embeddings, labels=seg.labels, segments=description,
                                     cold_start=cold_start, k=k, n_candidates=n_candidates)
        inspector
        """),
        md("""
        The widget needs a live kernel. For the static HTML report the same panes are rendered
        below as tabs that work without one: several users (each with the same model's list
        before and after MMR re-ranking, side by side, with the explanation of every film), and
        the wish pane for a few free-text wishes.
        """),
        code("""
        from filmrec_toolkit.widgets.render import render_notice, render_tabs, static_segment_view, static_user_view, static_wish_view

        first_user = inspector.user.value
        results["first_user"] = first_user
        results["first_user_items"] = inspector.recommend(first_user)[0]["item_id"].tolist()
        second_user = inspector.user.options[1]
        results["second_user"] = second_user
        results["second_user_items"] = inspector.recommend(second_user)[0]["item_id"].tolist()
        user_tabs = {f"user {u}": static_user_view(inspector, u, mmr=static_mmr, model=static_model)
                     for u in list(inspector.user.options)[:n_static_users]}
        user_tabs["wishes (cold start)"] = static_wish_view(inspector, wishes)
        results["widget_error"] = inspector.error.value
        inspector.user.value = first_user  # back to the first user for live use
        display(HTML(render_tabs(user_tabs, "users")))
        """),
        md("## 3. SegmentExplorer"),
        code("""
        explorer = ft.SegmentExplorer(ds, seg.labels, description, min_size=min_audience)
        results["n_segments"] = len(explorer.segment.options)
        note = ft.segment_structure_note(seg)
        results["structure_note"] = note
        if note:
            display(HTML(render_notice(note, "warning")))
        explorer
        """),
        md("""
        Every segment, pre-rendered for the static report: its description (the label names a
        genre only when its lift is at least ×1.2 and significant), composition, representative
        films and the privacy-guarded export. The heat map shows every segment's genre lift on a
        scale centred on ×1.
        """),
        code("""
        segment_values = [value for _, value in explorer.segment.options]
        display(HTML(render_tabs({f"segment {s}: {description.loc[s, 'label']}": static_segment_view(explorer, s)
                                  for s in segment_values}, "segments")))
        explorer.segment.value = segment_values[0]
        fig = ft.plot_segment_lifts(description.attrs["genre_lift"], names=description["label"].to_dict(),
                                    p_values=description.attrs.get("genre_p"))
        plt.show()
        """),
    ],
)

NOTEBOOKS = [NB01, NB02, NB03, NB04, NB05]


def build_all() -> dict[str, nbformat.NotebookNode]:
    return {spec["name"]: notebook(**spec) for spec in NOTEBOOKS}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if notebooks/ differ from the template")
    args = parser.parse_args(argv)
    NOTEBOOK_DIR.mkdir(exist_ok=True)
    stale = []
    for name, nb in build_all().items():
        path = NOTEBOOK_DIR / f"{name}.ipynb"
        text = nbformat.writes(nb) + "\n"
        if args.check:
            if not path.exists() or _strip_ids(path.read_text()) != _strip_ids(text):
                stale.append(path.name)
            continue
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("out of date (run scripts/make_notebooks.py):", ", ".join(stale))
        return 1
    return 0


def _strip_ids(text: str) -> str:
    import json

    nb = json.loads(text)
    for cell in nb["cells"]:
        cell.pop("id", None)
    return json.dumps(nb, sort_keys=True)


if __name__ == "__main__":
    sys.exit(main())
