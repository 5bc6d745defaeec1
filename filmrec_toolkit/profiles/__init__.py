"""User profiles, multi-interest profiles, audience segments and 2-D maps."""

from .multi_interest import MultiInterestProfiler
from .projection import project_2d
from .segments import (
    SegmentResult,
    composition_chi2,
    composition_lift,
    demographic_composition,
    describe_segments,
    export_audience,
    genre_lift,
    genre_share_tests,
    segment_label,
    segment_structure_note,
    segment_users,
)
from .user import UserProfiler, profile_weights

__all__ = ["UserProfiler", "profile_weights", "MultiInterestProfiler", "SegmentResult", "segment_users",
           "describe_segments", "demographic_composition", "genre_lift", "composition_lift", "composition_chi2",
           "export_audience", "project_2d", "segment_label", "genre_share_tests", "segment_structure_note"]
