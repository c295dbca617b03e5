"""The one atomic-write helper: the target is replaced whole or not at all,
and no temporary file is left behind either way."""
import os

import pytest

from livetiming.atomic import atomic_file, is_temporary, write_atomically


def listing(directory):
    return sorted(os.listdir(directory))


def test_a_complete_write_replaces_the_target_with_the_mode_given(tmp_path):
    target = tmp_path / "index.json"
    target.write_text("old")
    write_atomically(target, "new ✓", mode=0o640, fsync=True)
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert target.stat().st_mode & 0o777 == 0o640
    assert listing(tmp_path) == ["index.json"]


def test_an_exception_in_the_block_leaves_the_target_and_no_temporary_file(tmp_path):
    target = tmp_path / "r.zip"
    target.write_bytes(b"old")
    with pytest.raises(KeyError):
        with atomic_file(target) as handle:
            handle.write(b"half")
            assert [n for n in listing(tmp_path) if is_temporary(n)]  # written beside it meanwhile
            raise KeyError("boom")
    assert target.read_bytes() == b"old" and listing(tmp_path) == ["r.zip"]


def test_a_failing_check_sees_the_whole_file_and_leaves_the_target(tmp_path):
    target = tmp_path / "r.zip"
    target.write_bytes(b"old")
    seen = []

    def check(temporary):
        seen.append(temporary.read_bytes())
        raise ValueError("does not match")

    with pytest.raises(ValueError, match="does not match"):
        with atomic_file(target, check=check) as handle:
            handle.write(b"new")
    assert seen == [b"new"] and target.read_bytes() == b"old" and listing(tmp_path) == ["r.zip"]


def test_temporary_names():
    assert is_temporary(".r.zip.abc123.tmp") and not is_temporary("r.zip") and not is_temporary(".lock")
