import pytest

from tests.unit.tax.helpers import IMPLS


@pytest.fixture(params=IMPLS)
def impl(request) -> str:
    """Every hand-derived case runs through the fast engine and the reference implementation."""
    return request.param
