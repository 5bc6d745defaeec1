"""Synthetic data with a known answer, shared by the recommender and evaluation tests.

The data and its encoder live in :mod:`filmrec_toolkit.testing` (public, for people who
write their own models); these names keep the tests' imports short.
"""

from __future__ import annotations

from filmrec_toolkit.testing import BLOCK, N_ITEMS, N_RATED, N_USERS  # noqa: F401
from filmrec_toolkit.testing import BlockTextEncoder as FakeEncoder  # noqa: F401
from filmrec_toolkit.testing import make_block_dataset as block_dataset  # noqa: F401
from filmrec_toolkit.testing import make_block_embeddings as block_embeddings  # noqa: F401
from filmrec_toolkit.testing import make_block_frames as block_frames  # noqa: F401
