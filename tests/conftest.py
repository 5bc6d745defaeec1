"""Shared fixtures: fixed seed, tiny hand-made datasets, real data behind markers."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

SEED = 42

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Data home shared by realdata/slow tests and session-scoped fixtures: embeddings of the real
#: catalogues are computed once and reused across runs (override with FILMREC_TEST_DATA_HOME).
SHARED_HOME = os.environ.get("FILMREC_TEST_DATA_HOME") or os.path.join(ROOT, ".filmrec_cache", "test-home")


def pytest_configure(config):
    # session-scoped fixtures run before the autouse fixture below: never let them write to ~/.cache
    os.environ["FILMREC_DATA_HOME"] = SHARED_HOME


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(SEED)


@pytest.fixture(autouse=True)
def _isolated_data_home(tmp_path_factory, monkeypatch, request):
    """Unit tests write caches in a temporary data home; realdata tests share one per session."""
    if request.node.get_closest_marker("realdata") or request.node.get_closest_marker("slow"):
        home = SHARED_HOME
    else:
        home = str(tmp_path_factory.mktemp("data_home"))
    monkeypatch.setenv("FILMREC_DATA_HOME", home)


@pytest.fixture
def tiny_frames():
    """4 users x 5 items with timestamps, titles, genres and demographics."""
    ratings = pd.DataFrame({
        "user_id": [1, 1, 1, 2, 2, 3, 3, 3, 4],
        "item_id": [10, 20, 30, 10, 40, 20, 30, 50, 50],
        "rating": [5.0, 3.0, 1.0, 4.0, 2.0, 5.0, 4.0, 3.0, 1.0],
        "timestamp": [100, 200, 300, 150, 250, 120, 220, 320, 400],
    })
    items = pd.DataFrame({
        "item_id": [10, 20, 30, 40, 50],
        "title": ["Alpha (1990)", "Beta (1991)", "Gamma (1992)", "Delta (1993)", "Epsilon (1994)"],
        "year": [1990, 1991, 1992, 1993, 1994],
        "genres": [["Comedy"], ["Drama"], ["Comedy", "Drama"], ["Action"], ["Action", "Sci-Fi"]],
    })
    users = pd.DataFrame({
        "user_id": [1, 2, 3, 4],
        "gender": ["M", "F", "M", "F"],
        "age": [20, 30, 40, 50],
        "occupation": ["student", "artist", "writer", "other"],
    })
    return ratings, items, users


@pytest.fixture
def tiny(tiny_frames):
    from filmrec_toolkit import Dataset

    return Dataset.from_frames(*tiny_frames, name="tiny")


@pytest.fixture(scope="session")
def ml100k():
    from filmrec_toolkit import load_movielens

    return load_movielens("ml-100k")


@pytest.fixture(scope="session")
def ml1m():
    from filmrec_toolkit import load_movielens

    return load_movielens("ml-1m")
