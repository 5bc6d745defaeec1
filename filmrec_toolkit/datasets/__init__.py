"""Data: MovieLens loaders, the shared Dataset and its vocabularies, splits."""

from . import synthetic
from .cells import GENRE_WEIGHTINGS, genres_to_matrix, is_missing, parse_genres
from .cold import cold_item_split, cold_user_split
from .dataset import Dataset, ensure_dataset
from .movielens import (
    NAMES,
    download_movielens,
    load_movielens,
    load_movielens_from_path,
    pack_folder,
)
from .splits import (
    global_time_split,
    leave_last_one_out,
    random_split,
    recbole_split_sizes,
    stratified_split,
    temporal_split,
    user_random_split,
)
from .synthetic import *  # noqa: F401,F403
from .titles import normalize_title, resolve_title, title_year
from .vocab import Vocabulary

__all__ = [
    "NAMES", "Dataset", "Vocabulary", "cold_item_split", "cold_user_split", "download_movielens", "ensure_dataset", "global_time_split",
    "leave_last_one_out", "load_movielens", "load_movielens_from_path", "pack_folder", "random_split",
    "recbole_split_sizes", "stratified_split", "temporal_split", "user_random_split",
    *synthetic.__all__,
    "GENRE_WEIGHTINGS", "genres_to_matrix", "is_missing", "normalize_title", "parse_genres", "resolve_title", "title_year",
]
