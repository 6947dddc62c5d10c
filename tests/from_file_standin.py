"""A stand-in for ``halp_core.datasets.from_file`` (issue 28) while the reader's branch is not merged:
the contract's signature, svmlight files only, no checks beyond the Problem's own. Tests install it
only where the halp_core under test lacks ``from_file``; delete this module, and its `install`
calls, once from_file is in halp_core."""

from pathlib import Path


def from_file(path, *, loss, lam, data_bits=8, label=None, scale=None, name=None, file_format=None):
    """The problem `loss` ('least_squares', 'logistic', 'multinomial') on the svmlight file `path`
    (dense), L2 strength `lam`, data in `data_bits`, named `name` (default: the file's stem)."""
    from halp_core import problems
    from sklearn.datasets import load_svmlight_file

    if label is not None or scale is not None or file_format not in (None, "svmlight"):
        raise NotImplementedError("the stand-in reads plain svmlight files only")
    X, y = load_svmlight_file(str(path))
    kinds = {cls.kind: cls for cls in (problems.LeastSquares, problems.BinaryLogistic, problems.Multinomial)}
    return kinds[loss](X.toarray(), y, lam, data_bits=data_bits, name=name or Path(path).stem)


def install(monkeypatch=None):
    """Put `from_file` into halp_core.datasets where it is missing (through `monkeypatch` when
    given, so the test undoes it); True when the stand-in is in use."""
    from halp_core import datasets

    if hasattr(datasets, "from_file"):
        return False
    if monkeypatch is None:
        datasets.from_file = from_file
    else:
        monkeypatch.setattr(datasets, "from_file", from_file, raising=False)
    return True
