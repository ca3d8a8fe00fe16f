"""Shared test settings: the hypothesis ``ci`` profile (no deadline: Numba compiles on first call)."""

import os

from hypothesis import settings

settings.register_profile("ci", deadline=None, derandomize=True, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
