"""The on-disk layout of a Hugging Face ``DatasetDict`` (``save_to_disk``), read without the ``datasets`` package.

A DatasetDict folder holds ``dataset_dict.json`` (``{"splits": ["train", "test"]}``) and one folder per split with
``dataset_info.json`` (features), ``state.json`` (``_data_files``: the shard file names, in order) and the shards
``data-XXXXX-of-YYYYY.arrow`` (Arrow IPC *stream* format, one or more record batches each).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import SourceFormatError
from .json_object import read_json_object
from .source_access import one_line, printable, reading

#: What a DatasetDict folder is, for error messages.
DATASET_DICT_EXPECTED = (
    "a Hugging Face DatasetDict folder (save_to_disk) holding dataset_dict.json and one folder per split with "
    "dataset_info.json, state.json and data-*.arrow"
)


def dataset_dict_splits(folder: str | Path) -> dict[str, list[Path]]:
    """Return each split's shard files, in order, for a DatasetDict folder.

    Parameters
    ----------
    folder : str or Path
        The folder ``save_to_disk`` wrote (e.g. ``c14/``).

    Returns
    -------
    dict
        ``{split name: [shard paths in state.json order]}``, splits in ``dataset_dict.json`` order.

    Raises
    ------
    SourceFormatError
        If the folder is not a DatasetDict (a missing or malformed ``dataset_dict.json``, a split folder without
        ``state.json`` / ``dataset_info.json``), or its files contradict each other: a split listed twice or a split
        folder not listed; a shard that ``state.json`` lists twice, lists but the folder lacks, or does not list
        though the folder holds it; shard names whose count (``-of-N``) differs from the number listed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceFormatError(folder, "not a folder", DATASET_DICT_EXPECTED)
    index_path = folder / "dataset_dict.json"
    if not index_path.is_file():
        raise SourceFormatError(folder, "no dataset_dict.json: not a DatasetDict folder", DATASET_DICT_EXPECTED)
    splits = read_json_object(index_path, '{"splits": ["train", "test"]}').get("splits")
    if not isinstance(splits, list) or not splits or not all(_plain_name(name) for name in splits):
        raise SourceFormatError(index_path, f"'splits' is {_short(splits)}",
                                'a list of split folder names, e.g. ["train", "test"]')
    _refuse_repeated(splits, index_path, "'splits'", "each split once")
    with reading(folder, DATASET_DICT_EXPECTED):
        unlisted = sorted(child.name for child in folder.iterdir() if child.name not in splits and child.is_dir()
                          and any((child / name).exists() for name in ("state.json", "dataset_info.json")))
    if unlisted:
        raise SourceFormatError(folder / unlisted[0], f"a split folder that {index_path.name} does not list "
                                f"(it lists {_listing(splits)})", f"every split folder listed in {index_path.name}")
    shards = {}
    for split in splits:
        split_dir = folder / split
        if not split_dir.is_dir():
            raise SourceFormatError(split_dir, "missing split folder", f"a folder for each split in {index_path.name}")
        read_json_object(split_dir / "dataset_info.json", "the split's dataset_info.json (features)")
        shards[split] = _split_shards(split_dir)
    return shards


def _split_shards(split_dir: Path) -> list[Path]:
    """The shards ``state.json`` lists, checked against each other and against the ``data-*.arrow`` files present."""
    state_path = split_dir / "state.json"
    files = read_json_object(state_path, "the split's state.json listing its _data_files").get("_data_files")
    names = [entry.get("filename") if isinstance(entry, dict) else None for entry in files] \
        if isinstance(files, list) else None
    if not names or not all(_plain_name(name) and name.endswith(".arrow") for name in names):
        raise SourceFormatError(
            state_path, f"'_data_files' is {_short(files)}", '[{"filename": "data-00000-of-00001.arrow"}, ...]'
        )
    _refuse_repeated(names, state_path, "'_data_files'", "each shard once")
    paths = [split_dir / name for name in names]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise SourceFormatError(split_dir, f"shard(s) {_listing(missing)} listed in state.json are missing",
                                "every data-*.arrow file that state.json lists")
    with reading(split_dir, "a readable split folder"):
        unlisted = sorted(path.name for path in split_dir.glob("data-*.arrow") if path.name not in names)
    if unlisted:
        raise SourceFormatError(split_dir / unlisted[0], "a shard that state.json does not list "
                                f"(it lists {_listing(names)})", "every data-*.arrow file listed in state.json")
    numbered = [SHARD_NAME.fullmatch(name) for name in names]
    if all(numbered) and sorted((int(match[1]), int(match[2])) for match in numbered) != [
            (index, len(names)) for index in range(len(names))]:
        counts = sorted({match[2] for match in numbered})
        raise SourceFormatError(
            state_path, f"'_data_files' lists {len(names)} shard(s), but their names ({_listing(names)}) count "
            f"{' or '.join(str(int(count)) for count in counts)} (-of-{'/'.join(counts)})",
            f"one name per listed shard, data-00000-of-{len(names):05d}.arrow to "
            f"data-{len(names) - 1:05d}-of-{len(names):05d}.arrow",
        )
    return paths


#: The shard names ``save_to_disk`` writes: ``data-<index>-of-<count>.arrow``.
SHARD_NAME = re.compile(r"data-(\d{5})-of-(\d{5})\.arrow")


def _plain_name(name) -> bool:
    """A file or folder name within the DatasetDict folder (no path separator, not ``.`` or ``..``)."""
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\\" not in name \
        and "\x00" not in name


def _refuse_repeated(names: list[str], path: Path, key: str, expected: str) -> None:
    """Refuse a list that names one split or shard twice (its rows would be read twice)."""
    seen = set()
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise SourceFormatError(path, f"{key} lists {printable(name)} twice (entries {names.index(name) + 1} and "
                                    f"{position})", expected)
        seen.add(name)


def _listing(names: list[str]) -> str:
    """Names for a message: all of a few, else the first three and how many more."""
    shown = ", ".join(printable(name) for name in names[:3])
    return shown if len(names) <= 3 else f"{shown} and {len(names) - 3} more"


def _short(value) -> str:
    """``repr`` of a value read from a file, on one line and at most 120 characters."""
    return one_line(repr(value))[:120]
