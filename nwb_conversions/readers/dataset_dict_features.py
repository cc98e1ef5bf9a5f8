"""A DatasetDict split's declared features against its shards: ``dataset_info.json`` states the columns and their
types once, each shard's Arrow schema states them again (and ``datasets`` also copies the features into the schema's
``huggingface`` metadata). The three must agree; a shard whose columns or types differ from ``dataset_info.json`` is
refused with one line naming both files.

Features are compared as ``datasets`` writes them (``Value``; ``Sequence``, ``List`` and ``LargeList`` of one
feature). A feature of another kind (a struct of lists, an image, a class label) is compared by name only: its Arrow
type is not derived here, so nothing is claimed about it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from ..errors import SourceFormatError
from .json_object import read_json_object
from .source_access import one_line, printable

#: Largest ``huggingface`` schema metadata parsed (real ones are a few hundred bytes).
MAX_SCHEMA_METADATA_BYTES = 1024 * 1024


def read_split_features(split_dir: Path) -> tuple[dict, Path] | None:
    """A split's ``dataset_info.json`` ``features`` and that file's path; None if it declares none.

    Raises
    ------
    SourceFormatError
        If ``dataset_info.json`` is missing or malformed, or its ``features`` is not an object.
    """
    info_path = Path(split_dir) / "dataset_info.json"
    features = read_json_object(info_path, "the split's dataset_info.json (features)").get("features")
    if features is None:
        return None
    if not isinstance(features, dict) or not features:
        raise SourceFormatError(info_path, f"'features' is {one_line(repr(features))[:80]}",
                                "an object of column name → feature, as datasets writes it")
    return features, info_path


def feature_arrow_type(feature) -> pa.DataType | None:
    """The Arrow type a ``datasets`` feature (as JSON) is stored as; None for a kind not derived here."""
    if not isinstance(feature, dict):
        return None
    kind = feature.get("_type")
    if kind == "Value":
        dtype = feature.get("dtype")
        try:
            return pa.type_for_alias(dtype) if isinstance(dtype, str) else None
        except (ValueError, KeyError, TypeError):
            return None
    if kind in ("Sequence", "List", "LargeList"):
        inner = feature_arrow_type(feature.get("feature"))
        length = feature.get("length", -1)
        if inner is None or not isinstance(length, int) or isinstance(length, bool) or not -1 <= length < 2**31:
            return None
        if kind == "LargeList":
            return pa.large_list(inner)
        return pa.list_(inner) if length == -1 else pa.list_(inner, length)
    return None


def same_type(declared: pa.DataType, stored: pa.DataType) -> bool:
    """Arrow types equal up to the names of list items (``item`` / ``element``)."""
    if pa.types.is_list(declared) or pa.types.is_large_list(declared) or pa.types.is_fixed_size_list(declared):
        return declared.id == stored.id and getattr(declared, "list_size", None) == getattr(
            stored, "list_size", None) and same_type(declared.value_type, stored.value_type)
    return declared == stored


def schema_features(schema: pa.Schema) -> dict | None:
    """The features ``datasets`` copied into a shard's ``huggingface`` schema metadata, or None if it has none."""
    metadata = schema.metadata or {}
    raw = metadata.get(b"huggingface")
    if raw is None or len(raw) > MAX_SCHEMA_METADATA_BYTES:
        return None
    try:
        info = json.loads(raw.decode("utf-8")).get("info", {})
    except (ValueError, AttributeError, RecursionError):
        return None
    features = info.get("features") if isinstance(info, dict) else None
    return features if isinstance(features, dict) else None


def check_shard_features(features: dict, info_path: Path, schema: pa.Schema, shard: Path) -> None:
    """A shard's columns, their Arrow types and its ``huggingface`` features are those ``dataset_info.json`` declares.

    Parameters
    ----------
    features : dict
        ``dataset_info.json`` ``features``.
    info_path : Path
        That ``dataset_info.json`` (named in the error).
    schema : pyarrow.Schema
        The shard's schema.
    shard : Path

    Raises
    ------
    SourceFormatError
        Naming the shard and ``dataset_info.json``: a column missing from either, a column whose type differs, or
        ``huggingface`` metadata whose features differ.
    """
    where = f"{info_path.parent.name}/{info_path.name}"
    expected = f"the columns and types {where} declares (the two state the same features)"
    declared, stored = list(features), list(schema.names)
    if declared != stored:
        problem = (f"holds the columns {', '.join(printable(name) for name in stored)} but {where} declares "
                   f"{', '.join(printable(name) for name in declared)}")
        raise SourceFormatError(shard, one_line(problem)[:400], expected)
    for name in declared:
        arrow_type = feature_arrow_type(features[name])
        if arrow_type is not None and not same_type(arrow_type, schema.field(name).type):
            problem = f"'{printable(name)}' is {schema.field(name).type} but {where} declares {arrow_type}"
            raise SourceFormatError(shard, one_line(problem)[:400], expected)
    copied = schema_features(schema)
    if copied is not None and copied != features:
        differing = sorted(set(copied) ^ set(features)) or [name for name in features if copied[name] != features[name]]
        raise SourceFormatError(
            shard,
            f"its huggingface schema metadata declares other features than {where} (first difference: "
            f"'{printable(differing[0])}')",
            expected,
        )
