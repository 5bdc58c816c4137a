"""Hypothesis profiles: "dev" (default) and "ci" (chosen when the CI environment variable is set).

Both keep example counts modest so the whole suite stays within a few minutes on 2 cores; set
HYPOTHESIS_PROFILE=thorough for a long local run.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

import tinyreg

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=25, **_common)
settings.register_profile("ci", max_examples=30, derandomize=True, print_blob=True, **_common)
settings.register_profile("thorough", max_examples=500, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True)
def _seed_tinyreg():
    """Every test starts from the same tinyreg generator state, whatever ran before it."""
    tinyreg.manual_seed(0)
