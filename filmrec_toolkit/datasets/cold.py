"""Cold-start splits: held-out items (no training rating at all) and few-shot users.

Both return parts that share the input's vocabularies, so a model fitted on ``train``
can score the held-out items and users, and :func:`filmrec_toolkit.evaluate` can rank
them (for items: ``evaluate(..., candidates="test")``).
"""

from __future__ import annotations

import numbers

import numpy as np

from .dataset import Dataset, ensure_dataset
from .splits import _names, _parts_from_labels

__all__ = ["cold_item_split", "cold_user_split"]


def _check_share(value, name: str, example: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < float(value) < 1:
        raise ValueError(f"{name}={value!r} must be a number strictly between 0 and 1, e.g. {name}={example}.")
    return float(value)


def _n_held(share: float, n: int, name: str) -> int:
    held = int(round(share * n))
    if held < 1:
        raise ValueError(f"{name}={share} of {n} selects no element; raise {name} (at least {1 / n:.3g}).")
    return held


def cold_item_split(ds: Dataset, item_share: float = 0.2, valid_share: float | None = None,
                    random_state=0) -> tuple[Dataset, ...]:
    """Hold out a random share of the items with *all* of their ratings (item cold start).

    This is the held-out-item setting used to evaluate DropoutNet (Volkovs et al.,
    NeurIPS 2017) and CLCRec (Wei et al., ACM MM 2021): the test items have no
    interaction in training, so only their content can place them. Evaluate by ranking,
    for every user with a held-out rating, only the held-out items
    (``evaluate(model, train, test, candidates="test")``), every rating relevant.

    Parameters
    ----------
    ds : Dataset
    item_share : float in (0, 1)
        Share of the rated items held out as test: ``round(item_share * n)`` items, ``n``
        the number of items with at least one rating.
    valid_share : float in (0, 1), optional
        Also hold out ``round(valid_share * n)`` other items as a validation part, disjoint
        from the test items, for tuning; then ``train, valid, test`` is returned. Refit on
        ``Dataset.concat([train, valid])`` before scoring test, as the protocol does.
    random_state : int, Generator or None
        Seed of the item permutation (report it with the results).

    Returns
    -------
    (train, test) or (train, valid, test) : tuple of Dataset
        Every rating of an item lands in exactly one part; vocabularies are shared.

    Examples
    --------
    >>> train, valid, test = cold_item_split(ds, 0.2, valid_share=0.1, random_state=0)  # doctest: +SKIP
    """
    ds = ensure_dataset(ds)
    item_share = _check_share(item_share, "item_share", "0.2")
    if valid_share is not None:
        valid_share = _check_share(valid_share, "valid_share", "0.1")
        if item_share + valid_share >= 1:
            raise ValueError(f"item_share + valid_share = {item_share + valid_share:.3g} must be < 1 so that some "
                             "items stay in train, e.g. item_share=0.2, valid_share=0.1.")
    rated = np.flatnonzero(ds.item_counts() > 0)
    if len(rated) < (3 if valid_share is not None else 2):
        raise ValueError(f"ds has {len(rated)} rated item(s); a cold-item split needs at least "
                         f"{3 if valid_share is not None else 2}.")
    rng = np.random.default_rng(random_state)
    order = rng.permutation(rated)
    n_test = _n_held(item_share, len(rated), "item_share")
    n_valid = 0 if valid_share is None else _n_held(valid_share, len(rated), "valid_share")
    if n_test + n_valid >= len(rated):
        raise ValueError(f"item_share={item_share} and valid_share={valid_share} hold out all {len(rated)} rated "
                         "items; lower them so that train keeps some.")
    n_parts = 2 if valid_share is None else 3
    part_of_item = np.zeros(ds.n_items, dtype=np.int64)
    part_of_item[order[:n_test]] = n_parts - 1
    if n_valid:
        part_of_item[order[n_test:n_test + n_valid]] = 1
    labels = part_of_item[ds.item_rows]
    return _parts_from_labels(ds, labels, n_parts, _names(n_parts))


def cold_user_split(ds: Dataset, user_share: float = 0.2, n_given: int = 3,
                    random_state=0) -> tuple[Dataset, Dataset]:
    """Few-shot users: a random share of users keeps only ``n_given`` training ratings.

    The user-side counterpart of the cold-start protocols above (as in DropoutNet's
    user cold start, with a few interactions given): a random ``user_share`` of the
    users with more than ``n_given`` ratings is held out; each of them keeps
    ``n_given`` randomly chosen ratings in ``train`` and the rest of their ratings
    are ``test``. Every other user is entirely in ``train``. Evaluate with
    ``evaluate(model, train, test)`` (full ranking of the items they have not rated).

    Parameters
    ----------
    ds : Dataset
    user_share : float in (0, 1)
        Share of the eligible users (more than ``n_given`` ratings) held out.
    n_given : int >= 0
        Ratings each held-out user keeps in training (0: a pure cold user).
    random_state : int, Generator or None
        Seed of the user draw and of the given ratings.

    Returns
    -------
    (train, test) : tuple of Dataset
        ``test`` holds only the held-out users' other ratings; vocabularies are shared.
    """
    ds = ensure_dataset(ds)
    user_share = _check_share(user_share, "user_share", "0.2")
    if isinstance(n_given, bool) or not isinstance(n_given, numbers.Integral) or n_given < 0:
        raise ValueError(f"n_given={n_given!r} must be an integer >= 0 (ratings each held-out user keeps), "
                         "e.g. n_given=3.")
    n_given = int(n_given)
    counts = ds.user_counts()
    eligible = np.flatnonzero(counts > n_given)
    if len(eligible) == 0:
        raise ValueError(f"no user has more than n_given={n_given} ratings (max {int(counts.max())}); "
                         "lower n_given.")
    rng = np.random.default_rng(random_state)
    held = rng.choice(eligible, _n_held(user_share, len(eligible), "user_share"), replace=False)
    is_held = np.zeros(ds.n_users, dtype=bool)
    is_held[held] = True
    # a random rank per rating within each user; held-out users keep their n_given lowest ranks
    key = rng.random(ds.n_ratings)
    order = np.lexsort((key, ds.user_rows))
    sorted_users = ds.user_rows[order]
    start = np.searchsorted(sorted_users, sorted_users, side="left")
    rank = np.empty(ds.n_ratings, dtype=np.int64)
    rank[order] = np.arange(ds.n_ratings) - start
    labels = (is_held[ds.user_rows] & (rank >= n_given)).astype(np.int64)
    return _parts_from_labels(ds, labels, 2, _names(2))
