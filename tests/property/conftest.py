"""Hypothesis settings for the preprocessing properties.

Each example encodes and decodes real images, so the time per example varies
with its size: no deadline. The example counts are set per test, small enough
for the whole folder to run in about a minute on two cores. `make mutate` runs
these tests once per mutant with a fixed seed and a quarter of the examples
(tests/mutation/fast_first.py).
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "preprocessing",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
