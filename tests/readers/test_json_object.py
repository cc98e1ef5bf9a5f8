"""JSON objects: returned verbatim, refused when not an object, and a key stated twice must agree."""

from __future__ import annotations

import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.readers.json_object import MAX_JSON_BYTES, read_json_object, read_json_object_text


def test_json_must_be_an_object_and_is_returned_verbatim(tmp_path):
    path = tmp_path / "session.json"
    path.write_text('{"session_id": "x",\n "n": 1}')
    content, text = read_json_object_text(path, "an object")
    assert content == {"session_id": "x", "n": 1} and text == path.read_text()
    path.write_text("[1, 2]")
    with pytest.raises(SourceFormatError, match="holds a JSON list, not an object"):
        read_json_object(path, "an object")
    path.write_text('{"a": }')
    with pytest.raises(SourceFormatError, match="not valid JSON .* at line 1"):
        read_json_object(path, "an object")


def test_a_key_stated_twice_with_two_values_is_refused_naming_both_lines(tmp_path):
    path = tmp_path / "session.json"
    path.write_text('{\n  "sampling_rate": 30000,\n  "probe": 0,\n  "sampling_rate": 25000\n}\n')
    with pytest.raises(SourceFormatError) as error:
        read_json_object(path, "a session.json")
    assert str(error.value) == (
        f"{path}: 'sampling_rate' is given twice in one object with different values: 30000 and 25000 "
        "(lines 2 and 4); expected a session.json, each key once"
    )


def test_a_nested_contradiction_and_a_type_change_are_refused(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('{"outer": {"n": 1, "n": 1.0}}')
    with pytest.raises(SourceFormatError, match="'n' is given twice in one object with different values: 1 and 1.0"):
        read_json_object(path, "an object")
    path.write_text('{"flag": true, "flag": 1}')
    with pytest.raises(SourceFormatError, match="'flag' is given twice"):
        read_json_object(path, "an object")


def test_a_key_stated_twice_with_the_same_value_is_accepted(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('{"rate": 30000, "ids": [1, 2], "rate": 30000, "ids": [1, 2], "inner": {"a": {"b": 1}, "a": {"b": 1}}}')
    assert read_json_object(path, "an object") == {"rate": 30000, "ids": [1, 2], "inner": {"a": {"b": 1}}}


def test_the_same_key_in_two_objects_is_no_contradiction(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('[{"rate": 1}, {"rate": 2}]'.replace("[", '{"list": [').replace("]", "]}"))
    assert read_json_object(path, "an object") == {"list": [{"rate": 1}, {"rate": 2}]}


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "not valid JSON"),
        (b'{"a": "caf\xe9"}', "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a": 1}\x00', "NUL character"),
    ],
)
def test_damaged_json_is_one_error(tmp_path, content, fragment):
    path = tmp_path / "a.json"
    path.write_bytes(content)
    with pytest.raises(SourceFormatError, match=fragment):
        read_json_object(path, "an object")


def test_a_missing_folder_or_huge_file_is_one_error(tmp_path):
    with pytest.raises(SourceFormatError, match="no such file"):
        read_json_object(tmp_path / "none.json", "an object")
    (tmp_path / "folder.json").mkdir()
    with pytest.raises(SourceFormatError, match="folder.json"):
        read_json_object(tmp_path / "folder.json", "an object")
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as stream:
        stream.truncate(MAX_JSON_BYTES + 1)
    with pytest.raises(SourceFormatError, match="larger than such a file can be"):
        read_json_object(huge, "an object")
