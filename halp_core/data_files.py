"""A problem's data read from a user's file, and every check the file needs before it becomes a
problem (``datasets.from_file`` builds the problem; docs/design.md section 1).

Formats, each read by its library: svmlight/LIBSVM text (scikit-learn's ``load_svmlight_file``),
``.npz`` (NumPy: a dense 2-D array ``X`` and a 1-D array ``y``, as ``np.savez(path, X=X, y=y)``
writes them; sparse data go through svmlight), CSV (pyarrow's reader: a header line naming the
columns, one of them the label) and Parquet (pyarrow; a named label column).

A :class:`DataFileError` (a ValueError) names the file, then where: "line L" (1-based, as a text
editor counts lines) in the text formats, "row index i" (0-based, as NumPy and pandas index) in
``.npz`` and Parquet, and the column: its name in CSV and Parquet, its index in ``.npz``, the
``index:value`` field as written on the line in svmlight.

pyarrow and scikit-learn are imported when a file is read, so ``import halp_core`` stays fast.
"""

import io
import itertools
import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import scipy.sparse

from . import validate
from .problems import BinaryLogistic, LeastSquares, Multinomial

# Format name -> file suffixes that select it (``file_format=None``).
FORMATS = {
    "svmlight": (".svm", ".svmlight", ".libsvm", ".txt"),
    "npz": (".npz",),
    "csv": (".csv",),
    "parquet": (".parquet", ".pq"),
}
LABELED_BY_COLUMN = ("csv", "parquet")  # formats whose label is a named column (label= required)
SCALES = ("maxabs", "standard")  # scale= choices besides None (scikit-learn's column scalers)
# loss= names (the problems' kinds) -> the problem class a file's data become.
PROBLEMS = {cls.kind: cls for cls in (LeastSquares, BinaryLogistic, Multinomial)}

# The float64 copies of the n x d data that reading and building a problem hold at once: the data
# read, the problem's float64 X, the quantization report's float64 difference, and the float32 and
# b-bit copies solvers read (together under one more).
DENSE_COPIES = 4
# Memory per byte of svmlight text while scikit-learn reads it: a stored value, at least 4
# characters ("j:v "), takes 12 bytes (float64 value, int32 index).
SVMLIGHT_BYTES_PER_CHAR = 3
SVMLIGHT_CHUNK_LINES = 1000  # lines per library call while looking for a malformed line
QUOTE = 80  # characters of a bad line quoted in a message


class DataFileError(ValueError):
    """A data file that cannot become a problem; the message names the file and the line, row
    or column, and what is wrong there."""


class DensifiedWarning(UserWarning):
    """Sparse data (svmlight) were made dense: the solvers read dense rows, so memory and time
    grow with n x d, not with the stored values."""


def memory_available():
    """Bytes of memory a new allocation can have now: ``MemAvailable`` of /proc/meminfo (Linux),
    else the free physical pages (``os.sysconf``), else None (unknown: nothing is refused)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def file_path(path):
    """``path`` (str or path-like) as a Path to an existing file; TypeError for another kind of
    value, DataFileError when nothing (or a folder) is there."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or path-like, got {path!r} ({type(path).__name__})")
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataFileError(f"{path}: no such file" + (" (a folder)" if path.is_dir() else ""))
    return path


def format_of(path, file_format=None):
    """The format name (a key of FORMATS) of ``path``: ``file_format`` when given, else from the
    file's suffix (case-insensitive); DataFileError naming the formats when it is unknown."""
    if file_format is not None:
        return validate.choice(file_format, "file_format", tuple(FORMATS))
    suffix = path.suffix.lower()
    for name, suffixes in FORMATS.items():
        if suffix in suffixes:
            return name
    known = "; ".join(f"{name} ({', '.join(s)})" for name, s in FORMATS.items())
    raise DataFileError(f"{path}: unknown format (suffix {suffix!r}); the formats are {known}; "
                        f"name one with file_format=")


@dataclass
class _Data:
    """What a reader found: X (n, d) dense float64 or scipy CSR, y (n,) float64, and where an
    entry is in the file: ``row(i)`` -> "line L" / "row index i", ``column(i, j)`` -> the column
    (entry i, j) as the file names it, ``label`` the label's name."""

    X: object
    y: np.ndarray
    row: Callable
    column: Callable
    label: str


def load(path, *, kind, label=None, scale=None, file_format=None):
    """Read and check the data file ``path`` for a problem of kind ``kind`` (a Problem.kind:
    "least_squares", "logistic" or "multinomial").

    Returns (X, y, file_format): X (n, d) dense, C-contiguous float64, scaled as asked, every
    entry finite; y (n,) float64 labels that fit the loss; the format read.

    path: an existing file (see :func:`file_path`); label: the label column's name, required for
    CSV and Parquet and refused for svmlight and .npz; scale: None, "maxabs" (each column divided
    by its largest |value|; on sparse data before densifying) or "standard" (zero mean, unit
    variance per column; after densifying), through scikit-learn's MaxAbsScaler / StandardScaler;
    file_format: None (from the suffix, see FORMATS) or a FORMATS key.
    svmlight: zero_based="auto" (indices start at 1 unless an index 0 appears), comments after
    '#' and qid fields ignored, as scikit-learn reads it; d is the largest index present, so
    all-zero trailing features are not columns, and a file written zero-based whose index 0 never
    appears (all-zero first feature) reads one column to the left (the same objective and optimum;
    ``dump_svmlight_file(..., zero_based=False)`` writes the LIBSVM convention).

    Labels: least_squares any finite number; logistic exactly -1 and +1 (0/1 labels are refused
    with a hint); multinomial the integers 0..C-1, every class present (C >= 2; labels 1..C are
    refused with the hint to subtract 1).
    Memory: refused before allocating when DENSE_COPIES x the dense float64 size (n x d x 8 bytes)
    exceeds :func:`memory_available`; sparse data small enough are made dense with a
    :class:`DensifiedWarning`. Every failure is a DataFileError naming the file and the line, row
    or column.
    """
    path = file_path(path)
    kind = validate.choice(kind, "loss", tuple(PROBLEMS))
    fmt = format_of(path, file_format)
    if scale is not None:
        validate.choice(scale, "scale", SCALES)
    if fmt in LABELED_BY_COLUMN:
        if not isinstance(label, str):
            raise DataFileError(f"{path}: a {fmt} file needs label= naming its label column, "
                                f"got {label!r}")
    elif label is not None:
        raise DataFileError(f"{path}: label= names the label column of a CSV or Parquet file; "
                            f"a {fmt} file holds its labels itself ("
                            + ("the first field of each line)" if fmt == "svmlight" else "y)"))
    reader = {"svmlight": _read_svmlight, "npz": _read_npz, "csv": _read_csv,
              "parquet": _read_parquet}[fmt]
    data = reader(path, label) if fmt in LABELED_BY_COLUMN else reader(path)
    n, d = data.X.shape
    if n == 0:
        raise DataFileError(f"{path}: no rows (an empty file or a header only)")
    if d == 0:
        raise DataFileError(f"{path}: no feature columns")
    _check_finite(path, data)
    _check_labels(path, data, kind)
    return _dense_scaled(path, data.X, scale), data.y, fmt


# ---- memory -------------------------------------------------------------------------------------


def _size(nbytes):
    """``nbytes`` in GiB, MiB or KiB (3 significant digits)."""
    for unit, power in (("GiB", 30), ("MiB", 20)):
        if nbytes >= 2**power:
            return f"{nbytes / 2**power:.3g} {unit}"
    return f"{nbytes / 2**10:.3g} KiB"


def _check_dense_fits(path, n, d, what=""):
    """Refuse, before anything of that size is allocated, data of n x d whose DENSE_COPIES
    float64 copies exceed the memory available."""
    dense = 8 * n * d
    available = memory_available()
    if available is not None and DENSE_COPIES * dense > available:
        raise DataFileError(
            f"{path}: {what}{n} rows x {d} features take {_size(dense)} as dense float64, and "
            f"reading and building the problem hold about {DENSE_COPIES} such copies "
            f"({_size(DENSE_COPIES * dense)}), more than the {_size(available)} of memory "
            f"available; use fewer rows or features, or a machine with more memory")


# ---- checks -------------------------------------------------------------------------------------


def _check_finite(path, data):
    X = data.X
    if scipy.sparse.issparse(X):
        bad = np.flatnonzero(~np.isfinite(X.data))
        if not bad.size:
            return
        i = int(np.searchsorted(X.indptr, bad[0], side="right") - 1)
        j, value = int(X.indices[bad[0]]), X.data[bad[0]]
    else:
        bad_rows = np.flatnonzero(~np.isfinite(X).all(axis=1))
        if not bad_rows.size:
            return
        i = int(bad_rows[0])
        j = int(np.flatnonzero(~np.isfinite(X[i]))[0])
        value = X[i, j]
    raise DataFileError(f"{path}, {data.row(i)}, {data.column(i, j)}: {value} (or a missing "
                        f"value): every feature must be a finite number")


def _first(mask):
    return int(np.flatnonzero(mask)[0])


def _check_labels(path, data, kind):
    y, where = data.y, (lambda i: f"{path}, {data.row(i)}, {data.label}")
    if not np.isfinite(y).all():
        i = _first(~np.isfinite(y))
        raise DataFileError(f"{where(i)}: {y[i]} (or a missing value): labels must be finite")
    if kind == BinaryLogistic.kind:
        if (y == 0).any() and np.isin(y, (0.0, 1.0)).all():
            raise DataFileError(
                f"{where(_first(y == 0))}: 0; the labels are 0 and 1, but binary logistic "
                f"regression needs -1 and +1: map 0 to -1 (y = 2 y - 1) or use "
                f"loss='multinomial'")
        if not np.isin(y, (-1.0, 1.0)).all():
            i = _first(~np.isin(y, (-1.0, 1.0)))
            raise DataFileError(f"{where(i)}: {y[i]:g} is not a logistic label; binary logistic "
                                f"regression needs -1 and +1 (or use loss='multinomial' for "
                                f"classes 0..C-1)")
    elif kind == Multinomial.kind:
        if not (y == np.round(y)).all():
            i = _first(y != np.round(y))
            raise DataFileError(f"{where(i)}: {y[i]:g} is not a class; multinomial labels are the "
                                f"integers 0..C-1")
        if (y < 0).any():
            i = _first(y < 0)
            raise DataFileError(f"{where(i)}: {y[i]:g} is negative; multinomial labels are the "
                                f"integers 0..C-1 (for labels -1/+1 use loss='logistic')")
        top = int(y.max())
        if top == 0:
            raise DataFileError(f"{path}: every label is 0; multinomial regression needs at "
                                f"least 2 classes")
        empty = np.setdiff1d(np.arange(top + 1), y.astype(np.int64))
        if empty.size:
            shown = ", ".join(map(str, empty[:10])) + (", ..." if empty.size > 10 else "")
            hint = ("; labels 1..C: subtract 1 (y - 1)" if empty.size == 1 and empty[0] == 0
                    else "")
            raise DataFileError(f"{path}: multinomial labels are 0..C-1 with every class present "
                                f"(here C = {top + 1}), but no row has class {shown}{hint}")


def _dense_scaled(path, X, scale):
    """X as dense C-contiguous float64, scaled (maxabs before densifying sparse data)."""
    from sklearn.preprocessing import MaxAbsScaler, StandardScaler

    if scale == "maxabs":
        X = MaxAbsScaler(copy=False).fit_transform(X)
    if scipy.sparse.issparse(X):
        n, d = X.shape
        _check_dense_fits(path, n, d, f"its sparse data ({X.nnz} stored values) are too large "
                                      f"to make dense, which the solvers need: ")
        warnings.warn(f"{path}: sparse data ({n} x {d}, {X.nnz / (n * d):.1%} stored) made dense "
                      f"({_size(8 * n * d)} of float64); the solvers read dense rows",
                      DensifiedWarning, stacklevel=4)
        X = X.toarray()
    if scale == "standard":
        X = StandardScaler(copy=False).fit_transform(X)
    return np.ascontiguousarray(X, dtype=np.float64)


# ---- svmlight -----------------------------------------------------------------------------------


def _svmlight_fields(line):
    """The fields of one svmlight line as scikit-learn reads it (text after '#' is a comment)."""
    return line.split(b"#", 1)[0].split()


def _svmlight_line(path, i):
    """(line number, line) of data row i (scikit-learn skips blank and comment lines)."""
    with open(path, "rb") as f:
        rows = ((number, line) for number, line in enumerate(f, 1) if _svmlight_fields(line))
        return next(itertools.islice(rows, i, None))


def _svmlight_bad_line(path):
    """(line number, line, library message) of the first line scikit-learn refuses, or None:
    blocks of lines go through the reader, then the lines of the first block it refuses."""
    from sklearn.datasets import load_svmlight_file

    def refusal(lines):
        try:
            load_svmlight_file(io.BytesIO(b"".join(lines)), zero_based="auto")
        except ValueError as exc:
            return str(exc)
        return None

    with open(path, "rb") as f:
        for start in itertools.count(0, SVMLIGHT_CHUNK_LINES):
            block = list(itertools.islice(f, SVMLIGHT_CHUNK_LINES))
            if not block:
                return None
            if refusal(block) is not None:
                for number, line in enumerate(block, start + 1):
                    message = refusal([line])
                    if message is not None:
                        return number, line, message


def _read_svmlight(path):
    from sklearn.datasets import load_svmlight_file

    size = path.stat().st_size
    available = memory_available()
    if available is not None and SVMLIGHT_BYTES_PER_CHAR * size > available:
        raise DataFileError(f"{path}: reading {_size(size)} of svmlight text needs up to "
                            f"{_size(SVMLIGHT_BYTES_PER_CHAR * size)}, more than the "
                            f"{_size(available)} of memory available")
    try:
        X, y = load_svmlight_file(str(path), zero_based="auto", dtype=np.float64)
    except ValueError as exc:
        bad = _svmlight_bad_line(path)
        if bad is None:
            raise DataFileError(f"{path}: not svmlight/LIBSVM text ({exc})") from None
        number, line, message = bad
        text = line.decode("utf-8", "replace").rstrip()[:QUOTE]
        raise DataFileError(f"{path}, line {number}: not 'label index:value ...' ({message}): "
                            f"{text!r}") from None
    X = scipy.sparse.csr_matrix(X)
    if X.shape[0] and X.nnz == 0:
        raise DataFileError(f"{path}: no line holds a feature (index:value); no feature columns")

    def column(i, j):
        for field in _svmlight_fields(_svmlight_line(path, i)[1])[1:]:
            index, _, value = field.partition(b":")
            if index != b"qid" and not np.isfinite(float(value)):
                return f"field {field.decode()!r}"
        return f"feature column {j}"

    return _Data(X, np.asarray(y, dtype=np.float64),
                 lambda i: f"line {_svmlight_line(path, i)[0]}", column,
                 "the label (first field)")


# ---- npz ----------------------------------------------------------------------------------------


def _npz_header(path, archive, key):
    """(shape, dtype) of array ``key`` of an .npz archive, read from its header alone."""
    try:
        with archive.open(f"{key}.npy") as f:
            version = np.lib.format.read_magic(f)
            read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                    else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read(f)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataFileError(f"{path}: array {key} is not a NumPy array ({exc})") from None
    return shape, dtype


def _read_npz(path):
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataFileError(f"{path}: not an .npz archive ({exc})") from None
    with archive:
        keys = [name.removesuffix(".npy") for name in archive.namelist()]
        if {"indptr", "indices", "format", "shape"} <= set(keys):
            raise DataFileError(
                f"{path}: holds a scipy.sparse matrix (scipy.sparse.save_npz) and no labels; "
                f"write sparse data with sklearn.datasets.dump_svmlight_file (svmlight), or "
                f"dense data with np.savez(path, X=X, y=y)")
        missing = [k for k in ("X", "y") if k not in keys]
        if missing:
            raise DataFileError(f"{path}: no array {' or '.join(map(repr, missing))}; an .npz "
                                f"needs X (n, d) and y (n,) (np.savez(path, X=X, y=y)); it "
                                f"holds {', '.join(map(repr, keys)) or 'nothing'}")
        (x_shape, x_dtype), (y_shape, y_dtype) = (_npz_header(path, archive, k)
                                                  for k in ("X", "y"))
    for key, shape, dtype, ndim in (("X", x_shape, x_dtype, 2), ("y", y_shape, y_dtype, 1)):
        if len(shape) != ndim or dtype.kind not in "biuf":
            raise DataFileError(f"{path}: array {key} must be {ndim}-D and numeric, got shape "
                                f"{shape}, dtype {dtype}")
    if y_shape[0] != x_shape[0]:
        raise DataFileError(f"{path}: X has {x_shape[0]} rows but y has {y_shape[0]} entries")
    _check_dense_fits(path, *x_shape)
    with np.load(path, allow_pickle=False) as arrays:
        X = np.ascontiguousarray(arrays["X"], dtype=np.float64)
        y = np.asarray(arrays["y"], dtype=np.float64)
    return _Data(X, y, lambda i: f"row index {i}", lambda i, j: f"column {j}", "y")


# ---- tables: CSV and Parquet --------------------------------------------------------------------


def _table_data(path, table, label, row):
    """_Data of a pyarrow table whose column ``label`` holds the labels, the others the features
    (every one numeric: a text column is refused at its first value that is not a number)."""
    import pyarrow as pa

    names = table.column_names
    if label not in names:
        shown = ", ".join(map(repr, names[:20])) + (", ..." if len(names) > 20 else "")
        raise DataFileError(f"{path}: no label column {label!r}; its columns are {shown}")
    features = [name for name in names if name != label]

    def numbers(name):
        column = table.column(name)
        t = column.type
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) \
                or pa.types.is_null(t):
            return column.to_numpy(zero_copy_only=False).astype(np.float64)
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            import pandas as pd

            text = column.to_pandas()
            parsed = pd.to_numeric(text, errors="coerce")
            bad = np.flatnonzero(parsed.isna() & text.notna())
            if bad.size:
                i = int(bad[0])
                raise DataFileError(f"{path}, {row(i)}, column {name!r}: {text[i]!r} is not a "
                                    f"number")
            return parsed.to_numpy(dtype=np.float64)
        raise DataFileError(f"{path}: column {name!r} holds {t}, not numbers")

    X = np.empty((table.num_rows, len(features)))
    for j, name in enumerate(features):
        X[:, j] = numbers(name)
    return _Data(X, numbers(label), row, lambda i, j: f"column {features[j]!r}",
                 f"label column {label!r}")


def _count_lines(path):
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def _read_csv(path, label):
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    try:  # the header's names (ragged rows are found below, with their line)
        with pa_csv.open_csv(path, parse_options=pa_csv.ParseOptions(
                invalid_row_handler=lambda row: "skip")) as stream:
            names = stream.schema.names
    except pa.ArrowInvalid as exc:
        raise DataFileError(f"{path}: no CSV header line to read ({exc})") from None
    _check_dense_fits(path, max(_count_lines(path) - 1, 0), max(len(names) - 1, 0))

    def read(column_type, threads):
        """(table, None), or (None, the first ragged row) when a row has another number of fields
        than the header, or (None, None) when a value is not of ``column_type``."""
        ragged = []

        def on_ragged(row):
            ragged.append(row)
            return "error"

        try:
            table = pa_csv.read_csv(
                path, read_options=pa_csv.ReadOptions(use_threads=threads),
                parse_options=pa_csv.ParseOptions(invalid_row_handler=on_ragged,
                                                  ignore_empty_lines=False),
                convert_options=pa_csv.ConvertOptions(
                    column_types={name: column_type for name in names}))
        except pa.ArrowInvalid as exc:
            if ragged:
                return None, ragged[0]
            if column_type == pa.string():
                raise DataFileError(f"{path}: not CSV that pyarrow can read ({exc})") from None
            return None, None
        return table, None

    table, ragged = read(pa.float64(), threads=True)
    if ragged is not None and ragged.number is None:  # numbered only when read on one thread
        _, ragged = read(pa.float64(), threads=False)
    if ragged is not None:
        raise DataFileError(f"{path}, line {ragged.number}: {ragged.actual_columns} fields where "
                            f"the header has {ragged.expected_columns} (a ragged row): "
                            f"{ragged.text[:QUOTE]!r}")
    # No row was skipped (a blank line is a row of missing values), so row i is on line i + 2.
    line = lambda i: f"line {i + 2}"  # noqa: E731
    if table is None:  # a value that is not a number: read as text to say which
        table, _ = read(pa.string(), threads=True)
    return _table_data(path, table, label, line)


def _read_parquet(path, label):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        n, width = parquet.metadata.num_rows, len(parquet.schema_arrow.names)
        _check_dense_fits(path, n, max(width - 1, 0))
        table = parquet.read()
    except (pa.ArrowException, OSError) as exc:
        raise DataFileError(f"{path}: not a Parquet file pyarrow can read ({exc})") from None
    return _table_data(path, table, label, lambda i: f"row index {i}")
