"""UserInspector / SegmentExplorer: drive them by setting ``.value``, assert on the rendered HTML."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ipywidgets")

import filmrec_toolkit as ft  # noqa: E402
from filmrec_toolkit.widgets import SegmentExplorer, UserInspector  # noqa: E402
from filmrec_toolkit.widgets.render import (  # noqa: E402
    render_error,
    render_history,
    render_recommendations,
    render_table,
)


@pytest.fixture
def emb(tiny):
    # 5 items in 2-D: Alpha/Gamma (comedies) point one way, Delta/Epsilon (action) another
    m = np.array([[1, 0], [0.6, 0.8], [0.9, 0.1], [0, 1], [0.1, 0.9]], dtype=np.float32)
    return ft.ItemEmbeddings(ft.l2_normalize(m), tiny.item_ids, "toy")


@pytest.fixture
def models(tiny, emb):
    return {"Popularity": ft.Popularity().fit(tiny), "Content": ft.ContentRecommender(emb).fit(tiny)}


@pytest.fixture
def inspector(tiny, emb, models):
    labels = np.array([0, 1, 0, 1])
    return UserInspector(tiny, models, embeddings=emb, labels=labels, k=2, n_candidates=4)


class Boom(ft.Recommender):
    """Scores fine for every user except user row 1, where it raises."""

    name = "boom"

    def _fit(self, train):
        pass

    def _score(self, user_rows):
        if 1 in np.asarray(user_rows):
            raise RuntimeError("scoring exploded for user row 1")
        return np.zeros((len(user_rows), self.n_items_), dtype=np.float32)


# ------------------------------------------------------------------ render functions
def test_render_functions_escape_and_format():
    frame = pd.DataFrame({"title": ["<b>Alien</b> (1979)"], "rating": [4.0], "genres": [["Horror", "Sci-Fi"]]})
    html = render_history(frame, user_id=7)
    assert "User 7: 1 ratings, mean 4.00" in html
    assert "&lt;b&gt;Alien&lt;/b&gt;" in html and "<b>Alien" not in html  # escaped
    assert "Horror, Sci-Fi" in html
    assert "(empty)" in render_table(pd.DataFrame())
    recs = render_recommendations(pd.DataFrame({"rank": [1], "title": ["X"], "score": [0.5]}), {"ILD": 0.25})
    assert "X" in recs and "ILD" in recs and "0.250" in recs


def test_render_error_shows_type_message_and_traceback():
    try:
        raise KeyError("no such user 99")
    except KeyError as exc:
        html = render_error(exc, "showing the user")
    assert "KeyError" in html and "no such user 99" in html and "showing the user" in html
    assert "traceback" in html


# ------------------------------------------------------------------ UserInspector
def test_user_inspector_renders_first_user(inspector):
    assert inspector.user.value == 1
    assert "User 1: 3 ratings" in inspector.history.value
    assert "Alpha (1990)" in inspector.history.value
    assert "Comedy" in inspector.profile.value  # user 1 rated two comedies
    assert "Segment 0" in inspector.segment.value
    assert "Top 2 from Popularity" in inspector.recommendations.value
    assert inspector.error.value == ""
    bundle = inspector._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("UserInspector('tiny', models=['Popularity', 'Content'], user=1")


def test_selecting_another_user_changes_the_list(inspector, models):
    first = inspector.recommendations.value
    inspector.user.value = 4
    assert "User 4: 1 ratings" in inspector.history.value
    assert inspector.recommendations.value != first
    # the rendered list is exactly the model's top-2 for user 4 (seen items removed)
    expected = models["Popularity"].recommend(users=[4], k=2)["item_id"].tolist()
    frame, _ = inspector.recommend(4)
    assert frame["item_id"].tolist() == expected
    titles = inspector.dataset.items.set_index("item_id").loc[expected, "title"]
    for t in titles:
        assert t in inspector.recommendations.value


def test_model_dropdown_and_explanations(inspector):
    inspector.model.value = "Content"
    assert "Top 2 from Content" in inspector.recommendations.value
    frame, numbers = inspector.recommend(1, "Content")
    assert "explanation" in frame.columns and frame["explanation"].str.len().min() > 0
    assert set(numbers) >= {"miscalibration (KL)", "intra-list diversity (genres)"}


def test_filters_restrict_users(inspector):
    inspector.gender_filter.value = "F"
    assert list(inspector.user.options) == [2, 4]
    assert inspector.user.value in (2, 4)
    inspector.segment_filter.value = 1
    assert list(inspector.user.options) == [2, 4]
    inspector.gender_filter.value = "M"  # segment 1 has no man
    assert list(inspector.user.options) == []
    assert "no user matches" in inspector.error.value


def test_search_by_id_and_unknown_id_shows_error(inspector):
    inspector.search.value = "3"
    assert inspector.user.value == 3
    assert "User 3" in inspector.history.value
    inspector.search.value = "999"
    assert "999" in inspector.error.value and "not in the dataset" in inspector.error.value
    assert isinstance(inspector.last_error_, KeyError)
    assert inspector.user.value == 3  # unchanged


def test_sliders_rerank_live(inspector):
    inspector.model.value = "Content"
    before = inspector.recommendations.value
    inspector.mmr.value = 0.0  # pure diversity after the first pick
    assert "MMR λ=0.0" in inspector.recommendations.value
    assert inspector.recommendations.value != before
    inspector.calibration.value = 1.0
    assert "calibration λ=1.0" in inspector.recommendations.value
    assert inspector.error.value == ""


def test_error_in_callback_is_shown_not_swallowed(tiny, emb):
    ins = UserInspector(tiny, {"boom": Boom().fit(tiny)}, embeddings=emb, k=2)
    assert ins.error.value == ""  # user 1 (row 0) scores fine
    ins.user.value = 2  # row 1 raises inside the observer
    assert "RuntimeError" in ins.error.value and "scoring exploded" in ins.error.value
    assert isinstance(ins.last_error_, RuntimeError)
    ins.user.value = 3  # a good user clears the error area
    assert ins.error.value == "" and ins.last_error_ is None


def test_wish_box_uses_cold_start(tiny, models):
    calls = []

    def cold_start(text, k):
        calls.append((text, k))
        return pd.DataFrame({"item_id": [40, 50], "score": [0.9, 0.8]})

    ins = UserInspector(tiny, models, cold_start=cold_start, k=2)
    ins.wish.value = "explosions in space"
    assert calls == [("explosions in space", 2)]
    assert "Delta (1993)" in ins.wish_results.value and "explosions in space" in ins.wish_results.value


def test_wish_box_accepts_the_frame_of_recommend_for_profile(tiny, models):
    """recommend_for_profile returns titles itself; the inspector must not add them a second time."""
    frame = pd.DataFrame({"item_id": [40], "title": ["Delta (1993)"], "score": [0.9], "rank": [1]})
    ins = UserInspector(tiny, models, cold_start=lambda text, k: frame, k=2)
    ins.wish.value = "explosions in space"
    assert "Delta (1993)" in ins.wish_results.value and "overlap" not in ins.wish_results.value


def test_wish_without_cold_start_model_is_disabled(tiny, models):
    ins = UserInspector(tiny, models)
    assert ins.wish.disabled
    ins.wish.value = "anything"
    assert "No cold-start model" in ins.wish_results.value


def test_bad_labels_length_is_a_clear_error(tiny, models):
    with pytest.raises(ValueError, match="labels has 2 entries but the dataset has 4 users"):
        UserInspector(tiny, models, labels=[0, 1])


# ------------------------------------------------------------------ SegmentExplorer
def _segments(tiny, labels):
    return ft.describe_segments(tiny, labels)


def test_segment_explorer_shows_description_and_guarded_export(tiny):
    labels = np.array([0, 1, 0, 1])
    segments = _segments(tiny, labels)
    ex = SegmentExplorer(tiny, labels, segments, min_size=2)
    assert ex.error.value == ""
    first = ex.description.value
    assert "Segment" in first
    assert "Audience export (2 users)" in ex.export.value
    assert ">0</td>" in ex.export.value  # the segment label stays an integer
    # composition: segment 0 = users 1 and 3, both men -> gender M share 1.0, lift 1 / 0.5 = 2
    comp = ex.composition_table(0)
    men = comp.loc[(comp["attribute"] == "gender") & (comp["value"] == "M")].iloc[0]
    assert men["share"] == pytest.approx(1.0) and men["lift"] == pytest.approx(2.0)
    assert "Demographic composition" in ex.composition.value and "gender" in ex.composition.value
    assert "most watched in the segment" in ex.films.value
    ex.include_ids.value = True  # the export lists the members' ids (segment 0: users 1 and 3)
    assert "user_id" in ex.export.value and "(2 users)" in ex.export.value
    ex.segment.value = ex.segment.options[1][1]
    assert ex.description.value != first
    # a guard larger than every segment: the export is refused, visibly
    strict = SegmentExplorer(tiny, labels, segments, min_size=3)
    assert "Export refused" in strict.export.value
    assert "application/vnd.jupyter.widget-view+json" in strict._repr_mimebundle_()


# ------------------------------------------------------------------ static views for HTML reports
def test_render_tabs_work_without_script():
    from filmrec_toolkit.widgets.render import render_tabs

    out = render_tabs({"user <1>": "<p>one</p>", "user 2": "<p>two</p>"}, "users")
    assert out.count("type='radio'") == 2 and out.count(" checked") == 1
    assert "user &lt;1&gt;" in out and "<p>two</p>" in out and "<script" not in out
    assert "#filmrec-users-1:checked ~ .filmrec-tab-panels .filmrec-users-1{display:block}" in out


def test_static_user_view_shows_the_same_user_before_and_after_mmr(inspector, tiny):
    from filmrec_toolkit.widgets.render import static_user_view

    out = static_user_view(inspector, 3, mmr=0.5, model="Content")
    assert "User 3" in out  # the history pane of that user
    assert "no re-ranking (MMR λ = 1)" in out and "after MMR re-ranking (λ = 0.5" in out
    assert inspector.user.value == 3 and inspector.error.value == ""


def test_static_wish_and_segment_views(tiny, models):
    from filmrec_toolkit.widgets.render import static_segment_view, static_wish_view

    ins = UserInspector(tiny, models, cold_start=lambda text, k: pd.DataFrame({"item_id": [40], "score": [1.0]}), k=2)
    out = static_wish_view(ins, ["space", "love"])
    assert out.count("Delta (1993)") == 2 and "space" in out and "love" in out
    labels = np.array([0, 1, 0, 1])
    desc = ft.describe_segments(tiny, labels)
    explorer = SegmentExplorer(tiny, labels, desc, min_size=1)
    seg = static_segment_view(explorer, 1)
    assert "Segment 1" in seg and "Audience export" in seg
