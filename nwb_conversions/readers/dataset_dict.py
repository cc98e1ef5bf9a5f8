"""The on-disk layout of a Hugging Face ``DatasetDict`` (``save_to_disk``), read without the ``datasets`` package.

A DatasetDict folder holds ``dataset_dict.json`` (``{"splits": ["train", "test"]}``) and one folder per split with
``dataset_info.json`` (features), ``state.json`` (``_data_files``: the shard file names, in order) and the shards
``data-XXXXX-of-YYYYY.arrow`` (Arrow IPC *stream* format, one or more record batches each).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import SourceFormatError
from .json_object import read_json_object

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
        If the folder is not a DatasetDict: a missing or malformed ``dataset_dict.json``, a split folder without
        ``state.json`` / ``dataset_info.json``, or a shard that ``state.json`` lists but the folder lacks.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceFormatError(folder, "not a folder", DATASET_DICT_EXPECTED)
    index_path = folder / "dataset_dict.json"
    if not index_path.is_file():
        raise SourceFormatError(folder, "no dataset_dict.json: not a DatasetDict folder", DATASET_DICT_EXPECTED)
    splits = read_json_object(index_path, '{"splits": ["train", "test"]}').get("splits")
    if not isinstance(splits, list) or not splits or not all(isinstance(name, str) and name for name in splits):
        raise SourceFormatError(index_path, f"'splits' is {splits!r}", 'a list of split names, e.g. ["train", "test"]')
    shards = {}
    for split in splits:
        split_dir = folder / split
        if not split_dir.is_dir():
            raise SourceFormatError(split_dir, "missing split folder", f"a folder for each split in {index_path.name}")
        read_json_object(split_dir / "dataset_info.json", "the split's dataset_info.json (features)")
        state_path = split_dir / "state.json"
        files = read_json_object(state_path, "the split's state.json listing its _data_files").get("_data_files")
        names = [entry.get("filename") for entry in files] if isinstance(files, list) else None
        if not names or not all(isinstance(name, str) and name.endswith(".arrow") and "/" not in name for name in names):
            raise SourceFormatError(
                state_path, f"'_data_files' is {files!r}", '[{"filename": "data-00000-of-00001.arrow"}, ...]'
            )
        paths = [split_dir / name for name in names]
        missing = [path.name for path in paths if not path.is_file()]
        if missing:
            raise SourceFormatError(split_dir, f"shard(s) {', '.join(missing)} listed in state.json are missing",
                                    "every data-*.arrow file that state.json lists")
        shards[split] = paths
    return shards
