"""User profiles, multi-interest profiles, audience segments and 2-D maps."""

from .user import UserProfiler, profile_weights

__all__ = ["UserProfiler", "profile_weights"]
