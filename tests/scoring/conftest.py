import pytest
from scoring_helpers import shampoo_factors

from scoring.model import FactorSpec


@pytest.fixture
def factors() -> list[FactorSpec]:
    """The six shampoo factors, equal weights, no priors."""
    return shampoo_factors()
