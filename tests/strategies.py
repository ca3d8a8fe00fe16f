"""Named hypothesis strategies shared by the tests."""

from hypothesis import strategies as st

from driftproof.activations import builtin_names

BUILTINS = builtin_names()
builtin_activation = st.sampled_from(BUILTINS)
positive_p = st.floats(min_value=1e-3, max_value=7.0, allow_nan=False)
real_p = st.floats(min_value=-8.0, max_value=8.0, allow_nan=False)
