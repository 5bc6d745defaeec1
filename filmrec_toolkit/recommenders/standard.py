"""The named model set the notebooks and the demo compare, defined once.

:func:`standard_models` returns the unfitted estimators under the names every table,
figure and finding of the package uses ("Popularity", "ItemKNN", "EASE", "ALS",
"Content (genres)", "Content (LM)", "Hybrid (EASE + LM)", "EASESide (LM)").
:func:`filmrec_toolkit.tune_lm_hybrids` (evaluation layer) chooses the weights of the two
language-model hybrids on a validation split (the language model is switched on only for a
significant paired gain over the hybrid with it switched off, which ranks as EASE).
"""

from __future__ import annotations

from typing import Iterable, Mapping

from ..features.embeddings import ItemEmbeddings
from .base import Recommender
from .content import ContentRecommender
from .ease import EASE
from .ease_side import EASESide
from .hybrid import ContentAwareHybrid
from .itemknn import ItemKNN
from .mf import ALS
from .popularity import Popularity

__all__ = ["STANDARD_MODEL_NAMES", "standard_models", "LM_HYBRID_GRIDS"]

#: Every name :func:`standard_models` can return, in its order.
STANDARD_MODEL_NAMES = ("Popularity", "ItemKNN", "EASE", "ALS", "Content (genres)", "Content (LM)",
                        "Hybrid (EASE + LM)", "EASESide (LM)")

_NEEDS_EMBEDDINGS = ("Content (LM)", "Hybrid (EASE + LM)", "EASESide (LM)")

#: Validation grids of the two LM hybrids and the setting that switches the language model off
#: (weight 0 is in each grid; with it the hybrid ranks exactly as EASE).
LM_HYBRID_GRIDS = {
    "Hybrid (EASE + LM)": ({"content_weight": [0.0, 0.1, 0.2], "tail_weight": [0.0, 1.0]},
                           {"content_weight": 0.0, "tail_weight": 0.0}),
    "EASESide (LM)": ({"side_weight": [0.0, 15.0, 50.0, 150.0]}, {"side_weight": 0.0}),
}


def _check_features(value, name: str) -> None:
    if value is not None and not isinstance(value, ItemEmbeddings):
        raise TypeError(f"{name} must be ItemEmbeddings (from embed_items) or None, got {type(value).__name__}; "
                        f"e.g. {name}=ft.embed_items(ds).")


def standard_models(embeddings: ItemEmbeddings | None = None, *, genre_features: ItemEmbeddings | None = None,
                    random_state=0, include: Iterable[str] | None = None,
                    hybrid_params: Mapping[str, Mapping] | None = None) -> dict[str, Recommender]:
    """The package's named model set, unfitted, with documented defaults.

    ========================  ==============================================================
    ``"Popularity"``          :class:`Popularity` (most-rated films first)
    ``"ItemKNN"``             :class:`ItemKNN` with its defaults
    ``"EASE"``                :class:`EASE` with its defaults (``l2=500``)
    ``"ALS"``                 :class:`ALS` (64 factors), seeded with ``random_state``
    ``"Content (genres)"``    :class:`ContentRecommender` on ``genre_features`` (only when given)
    ``"Content (LM)"``        :class:`ContentRecommender` on ``embeddings``
    ``"Hybrid (EASE + LM)"``  :class:`ContentAwareHybrid` of EASE and ``Content (LM)``
    ``"EASESide (LM)"``       :class:`EASESide` on ``embeddings``
    ========================  ==============================================================

    The three LM models are left out when ``embeddings`` is None. The hybrids carry their
    class defaults unless ``hybrid_params`` sets them; choose those on a validation split
    with :func:`filmrec_toolkit.tune_lm_hybrids` (``{name: r.best_params for name, r in tuned.items()}``).

    Parameters
    ----------
    embeddings : ItemEmbeddings, optional
        Language-model item vectors (``embed_items``).
    genre_features : ItemEmbeddings, optional
        Genre flags (``embed_items(ds, encoder=GenreEncoder())``), for ``"Content (genres)"``.
    random_state : int, Generator or None
        Seed of the stochastic models (ALS).
    include : iterable of str, optional
        Keep only these names (returned in the order of :data:`STANDARD_MODEL_NAMES`).
    hybrid_params : mapping name -> dict, optional
        Parameters set on the named hybrid, e.g. ``{"EASESide (LM)": {"side_weight": 15.0}}``.

    Returns
    -------
    dict of name -> unfitted Recommender (a new object on every call).

    Raises
    ------
    ValueError
        A name in ``include`` or ``hybrid_params`` that is not a standard model, or an LM
        model asked for without ``embeddings``.
    """
    _check_features(embeddings, "embeddings")
    _check_features(genre_features, "genre_features")
    wanted = None if include is None else list(include)
    if wanted is not None:
        unknown = [n for n in wanted if n not in STANDARD_MODEL_NAMES]
        if unknown:
            raise ValueError(f"include={wanted!r}: {unknown} are not standard models; valid: "
                             f"{list(STANDARD_MODEL_NAMES)}.")
        if embeddings is None and any(n in _NEEDS_EMBEDDINGS for n in wanted):
            raise ValueError(f"include={wanted!r} asks for language-model models but embeddings is None; "
                             "pass embeddings=ft.embed_items(ds).")
        if genre_features is None and "Content (genres)" in wanted:
            raise ValueError("include asks for 'Content (genres)' but genre_features is None; pass "
                             "genre_features=ft.embed_items(ds, encoder=ft.GenreEncoder(), cache=False).")
    params = dict(hybrid_params or {})
    bad = [n for n in params if n not in LM_HYBRID_GRIDS]
    if bad:
        raise ValueError(f"hybrid_params has {bad}, which are not LM hybrids; valid: {list(LM_HYBRID_GRIDS)}.")

    models: dict[str, Recommender] = {"Popularity": Popularity(), "ItemKNN": ItemKNN(), "EASE": EASE(),
                                      "ALS": ALS(random_state=random_state)}
    if genre_features is not None:
        models["Content (genres)"] = ContentRecommender(genre_features)
    if embeddings is not None:
        models["Content (LM)"] = ContentRecommender(embeddings)
        models["Hybrid (EASE + LM)"] = ContentAwareHybrid(EASE(), ContentRecommender(embeddings))
        models["EASESide (LM)"] = EASESide(embeddings)
    for name, values in params.items():
        if name not in models:
            raise ValueError(f"hybrid_params names {name!r} but embeddings is None, so it is not built.")
        models[name].set_params(**dict(values))
    if wanted is not None:
        models = {n: m for n, m in models.items() if n in wanted}
    return models
