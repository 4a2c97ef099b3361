"""Fixtures of the hostile suite (helpers in hostile_helpers.py)."""

import pytest

from hostile_helpers import make_files


@pytest.fixture
def files(tmp_path):
    """A small valid table, a results folder and output paths, all inside tmp_path."""
    return make_files(tmp_path)
