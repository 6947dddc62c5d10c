"""datasets.from_file on files the tests write (a few dozen rows each): every format gives the
problem built in memory from the same arrays; every bad file is refused with a message naming the
file, the line (row) or column and what is wrong; sparse data are made dense with a warning, or
refused when too large; the memory check refuses before reading; the scale options; the reference
optimum is cached by the file's checksum."""

import hashlib
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import dump_svmlight_file
from sklearn.preprocessing import MaxAbsScaler, StandardScaler

from halp_core import data_files, datasets
from halp_core.problems import BinaryLogistic, LeastSquares, Multinomial

RNG = np.random.default_rng(0)
# Values on a grid of quarters: exact in every format's text.
X = RNG.integers(-8, 9, (40, 5)) / 4.0
X[:, 2] = 0.0
X[::3, 2] = 1.5  # a sparse column
LABELS = {
    "least_squares": RNG.integers(-12, 13, 40) / 4.0,
    "logistic": np.where(RNG.random(40) < 0.5, -1.0, 1.0),
    "multinomial": np.arange(40) % 3 * 1.0,
}
CLASSES = {"least_squares": LeastSquares, "logistic": BinaryLogistic, "multinomial": Multinomial}


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Reference optima are cached in a fresh folder (returned)."""
    monkeypatch.setenv("HALP_DATA_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "optima"


def write(path, X, y):
    """Write X, y to ``path`` in the format of its suffix; returns from_file's label= for it."""
    if path.suffix == ".svm":
        dump_svmlight_file(X, y, str(path))
        return None
    if path.suffix == ".npz":
        np.savez(path, X=X, y=y)
        return None
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])]).assign(target=y)
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)
    return "target"


def read(path, **kwargs):
    """from_file, the DensifiedWarning of sparse svmlight data expected."""
    if path.suffix == ".svm":
        with pytest.warns(datasets.DensifiedWarning, match=re.escape(f"{path}: sparse data "
                                                                     f"({len(X)} x 5")):
            return datasets.from_file(path, **kwargs)
    return datasets.from_file(path, **kwargs)


@pytest.mark.parametrize("suffix", [".svm", ".npz", ".csv", ".parquet"])
@pytest.mark.parametrize("loss", list(LABELS))
def test_each_format_gives_the_problem_built_in_memory(tmp_path, suffix, loss):
    path = tmp_path / f"my-data{suffix}"
    label = write(path, X, LABELS[loss])
    prob = read(path, loss=loss, lam=1e-2, label=label)
    same = CLASSES[loss](X, LABELS[loss], 1e-2)
    assert type(prob) is type(same) and prob.name == "my-data"
    for part in ("X", "y", "Xq"):
        np.testing.assert_array_equal(getattr(prob, part), getattr(same, part))
    assert prob.x_scale == same.x_scale and prob.data_bits == 8
    np.testing.assert_allclose(prob.f_star, same.f_star, rtol=1e-12)


def test_name_format_and_data_bits_are_passed_on(tmp_path):
    path = tmp_path / "points.data"  # a suffix of no format: file_format names it
    write(path.with_suffix(".csv"), X, LABELS["least_squares"])
    path.write_bytes(path.with_suffix(".csv").read_bytes())
    prob = datasets.from_file(path, loss="least_squares", lam=0.1, label="target", name="mine",
                              data_bits=None, file_format="csv")
    assert prob.name == "mine" and prob.Xq is None
    np.testing.assert_array_equal(prob.X, X)


def test_file_sha256(tmp_path):
    path = tmp_path / "bytes.bin"
    path.write_bytes(b"halp" * 1000)
    assert datasets.file_sha256(path) == hashlib.sha256(b"halp" * 1000).hexdigest()


# ---- the reference optimum, cached by the file's checksum ----------------------------------------


def test_reference_optimum_is_cached_by_the_files_checksum(tmp_path, cache):
    path = tmp_path / "data.npz"
    write(path, X, LABELS["logistic"])
    first = datasets.from_file(path, loss="logistic", lam=1e-2)
    w = first.w_star
    (stored,) = cache.glob("logistic-*.npy")  # cached although the problem is small
    np.testing.assert_array_equal(np.load(stored), w)
    # A second problem from the same file reads the cache (a planted value proves no recomputing).
    planted = w + 0.25
    np.save(stored, planted)
    np.testing.assert_array_equal(datasets.from_file(path, loss="logistic", lam=1e-2).w_star,
                                  planted)
    # Another scale, data_bits or lam is another key; so is a changed file.
    datasets.from_file(path, loss="logistic", lam=1e-2, scale="maxabs").w_star
    datasets.from_file(path, loss="logistic", lam=1e-2, data_bits=None).w_star
    datasets.from_file(path, loss="logistic", lam=2e-2).w_star
    assert len(list(cache.glob("*.npy"))) == 4
    changed = X.copy()
    changed[0, 0] += 1.0
    write(path, changed, LABELS["logistic"])
    again = datasets.from_file(path, loss="logistic", lam=1e-2)
    np.testing.assert_allclose(again.w_star,
                               BinaryLogistic(changed, LABELS["logistic"], 1e-2).w_star,
                               rtol=1e-8, atol=1e-10)
    assert len(list(cache.glob("*.npy"))) == 5


# ---- scaling and sparse data ---------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".svm", ".npz"])
@pytest.mark.parametrize("scale,scaler", [("maxabs", MaxAbsScaler), ("standard", StandardScaler)])
def test_scale_options(tmp_path, suffix, scale, scaler):
    path = tmp_path / f"data{suffix}"
    write(path, X, LABELS["least_squares"])
    prob = read(path, loss="least_squares", lam=0.1, scale=scale, data_bits=None)
    np.testing.assert_allclose(prob.X, scaler().fit_transform(X), rtol=1e-12, atol=1e-15)


def test_too_large_data_are_refused_before_reading(tmp_path, monkeypatch):
    """Memory available patched to 4 KiB: the 40 x 5 data (1.56 KiB dense) times 4 copies do not
    fit; the message names the sizes. Sparse data say they cannot be made dense."""
    monkeypatch.setattr(data_files, "memory_available", lambda: 4096)
    for suffix in (".npz", ".csv", ".parquet"):
        path = tmp_path / f"data{suffix}"
        label = write(path, X, LABELS["logistic"])
        with pytest.raises(datasets.DataFileError,
                           match=re.escape(f"{path}: 40 rows x 5 features")
                           + r" take 1\.56 KiB as dense float64.* 4 such copies \(6\.25 KiB\), "
                             r"more than the 4 KiB of memory available"):
            datasets.from_file(path, loss="logistic", lam=0.1, label=label)
    path = tmp_path / "data.svm"
    write(path, X, LABELS["logistic"])
    with pytest.raises(datasets.DataFileError, match=re.escape(path.name) + r": its sparse data "
                       r"\(\d+ stored values\) are too large to make dense.*40 rows x 5"):
        datasets.from_file(path, loss="logistic", lam=0.1)
    monkeypatch.setattr(data_files, "memory_available", lambda: 100)
    with pytest.raises(datasets.DataFileError, match=re.escape(path.name) + r": reading "
                       r"[\d.]+ KiB of svmlight text needs up to [\d.]+ KiB, more than the "
                       r"0\.0977 KiB of memory available"):
        datasets.from_file(path, loss="logistic", lam=0.1)


def test_memory_available_is_a_positive_number_of_bytes():
    assert data_files.memory_available() > 2**20


# ---- bad files: each refused with the file, the place and the problem ----------------------------

CSV_HEAD = "a,b,y\n1,2,1\n"
BAD_FILES = [
    # id, file name, content, from_file arguments, message (after the file name)
    ("csv-more-fields", "bad.csv", CSV_HEAD + "3,4,-1,5\n", {},
     r"bad\.csv, line 3: 4 fields where the header has 3 \(a ragged row\): '3,4,-1,5'"),
    ("csv-fewer-fields", "bad.csv", CSV_HEAD + "1,1,1\n3,4\n", {},
     r"bad\.csv, line 4: 2 fields where the header has 3"),
    ("csv-nan", "bad.csv", CSV_HEAD + "1,1,1\n3,nan,-1\n", {},
     r"bad\.csv, line 4, column 'b': nan .*must be a finite number"),
    ("csv-inf", "bad.csv", CSV_HEAD + "inf,1,1\n", {}, r"bad\.csv, line 3, column 'a': inf"),
    ("csv-empty-field", "bad.csv", CSV_HEAD + "1,,1\n", {}, r"bad\.csv, line 3, column 'b': nan"),
    ("csv-blank-line", "bad.csv", CSV_HEAD + "\n1,1,1\n", {}, r"bad\.csv, line 3, column 'a'"),
    ("csv-text", "bad.csv", CSV_HEAD + "1,1,1\n1,one,1\n", {},
     r"bad\.csv, line 4, column 'b': 'one' is not a number"),
    ("csv-label-nan", "bad.csv", CSV_HEAD + "1,1,\n", {},
     r"bad\.csv, line 3, label column 'y': nan .*labels must be finite"),
    ("csv-no-label-column", "bad.csv", CSV_HEAD, {"label": "target"},
     r"bad\.csv: no label column 'target'; its columns are 'a', 'b', 'y'"),
    ("csv-label-missing", "bad.csv", CSV_HEAD, {"label": None},
     r"bad\.csv: a csv file needs label= naming its label column"),
    ("csv-empty", "bad.csv", "", {}, r"bad\.csv: no CSV header line"),
    ("csv-header-only", "bad.csv", "a,b,y\n", {}, r"bad\.csv: no rows"),
    ("csv-no-features", "bad.csv", "y\n1\n-1\n", {}, r"bad\.csv: no feature columns"),
    ("svm-malformed", "bad.svm", "1 1:0.5\n# a comment\n-1 2:x\n", {},
     r"bad\.svm, line 3: not 'label index:value \.\.\.' \(could not convert .*\): '-1 2:x'"),
    ("svm-unsorted", "bad.svm", "1 1:0.5\n-1 3:1 2:1\n", {},
     r"bad\.svm, line 2: .*sorted and unique"),
    ("svm-nan", "bad.svm", "1 1:0.5\n\n-1 1:1 2:nan\n", {},
     r"bad\.svm, line 3, field '2:nan': nan"),
    ("svm-label-01", "bad.svm", "1 1:0.5\n0 2:1\n", {"loss": "logistic"},
     r"bad\.svm, line 2, the label \(first field\): 0; the labels are 0 and 1, but binary "
     r"logistic regression needs -1 and \+1: map 0 to -1 \(y = 2 y - 1\) or use "
     r"loss='multinomial'"),
    ("svm-label-2", "bad.svm", "1 1:0.5\n-1 1:1\n2 2:1\n", {"loss": "logistic"},
     r"bad\.svm, line 3, the label \(first field\): 2 is not a logistic label"),
    ("svm-label-half", "bad.svm", "1 1:0.5\n1.5 2:1\n", {"loss": "multinomial"},
     r"bad\.svm, line 2, the label \(first field\): 1\.5 is not a class"),
    ("svm-label-negative", "bad.svm", "1 1:0.5\n-1 2:1\n", {"loss": "multinomial"},
     r"bad\.svm, line 2, .*-1 is negative"),
    ("svm-labels-from-1", "bad.svm", "1 1:0.5\n2 2:1\n3 2:1\n", {"loss": "multinomial"},
     r"bad\.svm: multinomial labels are 0\.\.C-1 with every class present \(here C = 4\), but "
     r"no row has class 0; labels 1\.\.C: subtract 1"),
    ("svm-one-class", "bad.svm", "0 1:0.5\n0 2:1\n", {"loss": "multinomial"},
     r"bad\.svm: every label is 0"),
    ("svm-empty", "bad.svm", "# only a comment\n", {}, r"bad\.svm: no rows"),
    ("svm-no-features", "bad.svm", "1\n-1\n", {}, r"bad\.svm: no line holds a feature"),
    ("svm-label-given", "bad.svm", "1 1:0.5\n", {"label": "y"},
     r"bad\.svm: label= names the label column of a CSV or Parquet file"),
    ("unknown-suffix", "data.dat", "1,2\n", {},
     r"data\.dat: unknown format \(suffix '\.dat'\); the formats are svmlight \(\.svm, "
     r"\.svmlight, \.libsvm, \.txt\); npz \(\.npz\); csv \(\.csv\); parquet \(\.parquet, \.pq\)"),
    ("npz-not-a-zip", "bad.npz", "not an archive", {}, r"bad\.npz: not an \.npz archive"),
    ("parquet-not-parquet", "bad.parquet", "not parquet", {"label": "y"},
     r"bad\.parquet: not a Parquet file"),
]


@pytest.mark.parametrize("name,content,kwargs,match", [case[1:] for case in BAD_FILES],
                         ids=[case[0] for case in BAD_FILES])
def test_bad_text_files_are_refused_naming_the_place(tmp_path, name, content, kwargs, match):
    path = tmp_path / name
    path.write_text(content)
    arguments = {"loss": "least_squares", "lam": 0.1,
                 "label": "y" if path.suffix in (".csv", ".parquet") else None} | kwargs
    with pytest.raises(datasets.DataFileError, match=re.escape(str(tmp_path)) + "/" + match):
        datasets.from_file(path, **arguments)


def _npz(**arrays):
    return lambda path: np.savez(path, **arrays)


def _sparse_npz(path):
    import scipy.sparse
    scipy.sparse.save_npz(path, scipy.sparse.csr_matrix(X))


def _parquet(frame):
    return lambda path: frame.to_parquet(path)


_NAN_X = X.copy()
_NAN_X[3, 1] = np.nan
BAD_BINARY_FILES = [
    ("npz-nan", "bad.npz", _npz(X=_NAN_X, y=LABELS["logistic"]), {},
     r"bad\.npz, row index 3, column 1: nan"),
    ("npz-no-y", "bad.npz", _npz(X=X), {}, r"bad\.npz: no array 'y'.*it holds 'X'"),
    ("npz-1d", "bad.npz", _npz(X=X[:, 0], y=LABELS["logistic"]), {},
     r"bad\.npz: array X must be 2-D and numeric, got shape \(40,\)"),
    ("npz-text", "bad.npz", _npz(X=X.astype(str), y=LABELS["logistic"]), {},
     r"bad\.npz: array X must be 2-D and numeric, got shape \(40, 5\), dtype <U"),
    ("npz-rows", "bad.npz", _npz(X=X, y=LABELS["logistic"][:7]), {},
     r"bad\.npz: X has 40 rows but y has 7 entries"),
    ("npz-sparse", "bad.npz", _sparse_npz, {}, r"bad\.npz: holds a scipy\.sparse matrix"),
    ("npz-label-01", "bad.npz", _npz(X=X, y=(LABELS["logistic"] + 1) / 2), {},
     r"bad\.npz, row index \d+, y: 0; the labels are 0 and 1"),
    ("parquet-inf", "bad.parquet",
     _parquet(pd.DataFrame({"a": [1.0, 2.0, np.inf], "y": [1.0, -1.0, 1.0]})), {"label": "y"},
     r"bad\.parquet, row index 2, column 'a': inf"),
    ("parquet-text", "bad.parquet",
     _parquet(pd.DataFrame({"a": ["1", "2", "x"], "y": [1.0, -1.0, 1.0]})), {"label": "y"},
     r"bad\.parquet, row index 2, column 'a': 'x' is not a number"),
    ("parquet-dates", "bad.parquet",
     _parquet(pd.DataFrame({"a": pd.to_datetime(["2024-01-01"] * 2), "y": [1.0, -1.0]})),
     {"label": "y"}, r"bad\.parquet: column 'a' holds timestamp"),
]


@pytest.mark.parametrize("name,make,kwargs,match", [case[1:] for case in BAD_BINARY_FILES],
                         ids=[case[0] for case in BAD_BINARY_FILES])
def test_bad_binary_files_are_refused_naming_the_place(tmp_path, name, make, kwargs, match):
    path = tmp_path / name
    make(path)
    with pytest.raises(datasets.DataFileError, match=re.escape(str(tmp_path)) + "/" + match):
        datasets.from_file(path, loss="logistic", lam=0.1, **kwargs)


def test_bad_arguments_are_refused(tmp_path):
    path = tmp_path / "data.npz"
    write(path, X, LABELS["logistic"])
    with pytest.raises(datasets.DataFileError, match=re.escape(f"{tmp_path / 'nothing.svm'}: "
                                                               f"no such file")):
        datasets.from_file(tmp_path / "nothing.svm", loss="logistic", lam=0.1)
    with pytest.raises(ValueError, match="scale must be one of 'maxabs', 'standard'; got 'l2'"):
        datasets.from_file(path, loss="logistic", lam=0.1, scale="l2")
    with pytest.raises(ValueError, match="loss must be one of 'least_squares', 'logistic', "
                                         "'multinomial'; got 'hinge'"):
        datasets.from_file(path, loss="hinge", lam=0.1)
    with pytest.raises(ValueError, match="file_format must be one of 'svmlight', 'npz', 'csv', "
                                         "'parquet'"):
        datasets.from_file(path, loss="logistic", lam=0.1, file_format="xlsx")
    with pytest.raises(TypeError, match="path must be a str or path-like"):
        datasets.from_file(3, loss="logistic", lam=0.1)
    with pytest.raises(ValueError, match="lam must be a finite number >= 0"):
        datasets.from_file(path, loss="logistic", lam=-1.0)
