"""Files are matched by suffix; download copies (``-001``) are accepted; ambiguity is an error."""

import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.readers.session_files import find_session_file


def test_accepts_copy_suffix_and_rejects_other_names(tmp_path):
    (tmp_path / "c26_npx_raw-001.bin").touch()
    (tmp_path / "c26_npx_raw_old.bin").touch()
    assert find_session_file(tmp_path, r"c\d+_npx_raw", ".bin").name == "c26_npx_raw-001.bin"
    assert find_session_file(tmp_path, r"c\d+_patch_ch1", ".bin", required=False) is None


def test_missing_and_ambiguous_files_are_errors(tmp_path):
    with pytest.raises(SourceFormatError, match="no file named like"):
        find_session_file(tmp_path, r"c\d+_npx_raw", ".bin")
    (tmp_path / "c1_npx_raw.bin").touch()
    (tmp_path / "c1_npx_raw-002.bin").touch()
    with pytest.raises(SourceFormatError, match="several files match"):
        find_session_file(tmp_path, r"c\d+_npx_raw", ".bin")


def test_a_given_example_names_the_file_in_the_errors(tmp_path):
    pattern, example = r"amplifier\d{4}-\d{2}-\d{2}T\d{2}_\d{2}_\d{2}", "amplifierYYYY-MM-DDTHH_MM_SS.bin"
    with pytest.raises(SourceFormatError, match=r"no file named like amplifierYYYY-MM-DDTHH_MM_SS\.bin; expected a"):
        find_session_file(tmp_path, pattern, ".bin", example=example)
    (tmp_path / "amplifier2014-11-25T23_00_08.bin").touch()
    (tmp_path / "amplifier2014-11-25T23_00_08-002.bin").touch()
    with pytest.raises(SourceFormatError, match=r"several files match amplifierYYYY-MM-DDTHH_MM_SS\.bin \("):
        find_session_file(tmp_path, pattern, ".bin", example=example)


def test_a_folder_that_cannot_be_listed_is_one_error(tmp_path):
    loop = tmp_path / "cell"
    loop.symlink_to(loop)
    with pytest.raises(SourceFormatError, match=r"cell: cannot be read: Too many levels of symbolic links"):
        find_session_file(loop, r"c\d+_npx_raw", ".bin")
