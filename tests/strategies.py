"""Named hypothesis strategies shared by the tests."""

from hypothesis import strategies as st

from driftproof.activations import core_names

BUILTINS = core_names()  # the thirteen the properties were written for; the catalogue has its own tests
builtin_activation = st.sampled_from(BUILTINS)
positive_p = st.floats(min_value=1e-3, max_value=7.0, allow_nan=False)
real_p = st.floats(min_value=-8.0, max_value=8.0, allow_nan=False)
seeds = st.integers(0, 2**32 - 1)  # numpy seeds
pvalue_lists = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40)
row_blocks = st.lists(st.integers(1, 30), min_size=1, max_size=6)  # batch sizes of running moments
family_error_rates = st.floats(1e-9, 0.5)
split_archs = st.sampled_from(["mlp", "resmlp"])  # networks with a hand-written backward(dz)
split_losses = st.sampled_from(["ce", "mse", "mse_mean"])


# Philox keys and counters: any 64-bit words, with the edges (0, all ones) that carry and wrap.
def philox_words():
    from hypothesis import strategies as st

    return st.lists(st.one_of(st.sampled_from([0, 1, 2**32 - 1, 2**63, 2**64 - 1]),
                              st.integers(0, 2**64 - 1)), min_size=6, max_size=6)
