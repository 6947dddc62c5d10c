"""Fixtures shared by the halp_core tests."""

import pytest


@pytest.fixture
def not_a_folder(tmp_path):
    """A file where a cache folder should be (its path): caches there cannot be written."""
    path = tmp_path / "not-a-folder"
    path.write_text("a file where a cache folder should be")
    return path
