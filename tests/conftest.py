from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"


def seed(prefix: str) -> Path:
    return next(CORPUS.glob(prefix + "_*.txt"))


@pytest.fixture
def seed_path():
    return seed
