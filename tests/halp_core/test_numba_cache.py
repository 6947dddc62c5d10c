"""halp_core.numba_cache: Numba's cache folder follows XDG_CACHE_HOME, empty variables count as
unset, and a folder that cannot be made leaves Numba's own choice in place."""

from pathlib import Path

import numba.core.config
import pytest

from halp_core import numba_cache


@pytest.mark.parametrize("variable", ["XDG_CACHE_HOME", "NUMBA_CACHE_DIR"])
def test_empty_cache_variables_are_ignored(monkeypatch, tmp_path, variable):
    monkeypatch.setattr(numba.core.config, "CACHE_DIR", numba.core.config.CACHE_DIR)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv(variable, "")
    monkeypatch.chdir(tmp_path)
    numba_cache.configure()
    assert Path(numba.core.config.CACHE_DIR).is_relative_to(tmp_path / ".cache" / "halp-bench")
    assert Path(numba.core.config.CACHE_DIR).is_absolute()


def test_unusable_numba_cache_folder_is_skipped(monkeypatch, not_a_folder):
    monkeypatch.setattr(numba.core.config, "CACHE_DIR", "untouched")
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(not_a_folder))
    numba_cache.configure()   # no exception
    assert numba.core.config.CACHE_DIR == "untouched"
