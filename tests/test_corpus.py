"""The benchmark corpus generator (benchmarks/corpus.py): its text sources are what it says."""

import pytest

from benchmarks.corpus import generate


def test_a_missing_wikinews_folder_is_an_error_not_a_different_corpus(tmp_path):
    # without the real articles every synthetic article would come from raw/ alone: a corpus on the
    # dataset's subject, whose timings are not the benchmark's
    with pytest.raises(FileNotFoundError, match="WIKINEWS_DIR"):
        generate(3, 1, tmp_path / "out", wikinews=tmp_path / "missing")
    assert not (tmp_path / "out").exists()


def test_an_empty_wikinews_folder_gives_a_corpus_from_the_seeds_alone(tmp_path):
    (tmp_path / "empty").mkdir()
    labels = generate(3, 1, tmp_path / "out", wikinews=tmp_path / "empty")
    files = sorted(p.name for p in (tmp_path / "out").glob("*.txt"))
    assert len(files) == 3 and all(name.endswith("_syn.txt") for name in files)
    assert not labels["real"].any()
