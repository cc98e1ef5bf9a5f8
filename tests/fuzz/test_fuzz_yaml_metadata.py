"""Fuzzing the user's ``--metadata`` YAML: 10 000 damaged and generated documents (aliases, tags, escapes, nesting);
only one-line MetadataErrors escape, and what is accepted stays small enough to walk."""

from __future__ import annotations

import random

from nwb_conversions.metadata.assembly import check_user_metadata, load_yaml_mapping, normalize_for_schema
from nwb_conversions.readers.yaml_metadata import MAX_EXPANDED_NODES

from ..readers.bad_sources import METADATA_YAML
from .harness import fuzz_bytes, fuzz_generated, random_number_text


def read(path):
    metadata = load_yaml_mapping(path)
    check_user_metadata(metadata, path)
    return metadata


def tree_size(value) -> int:
    if isinstance(value, dict):
        return 1 + sum(1 + tree_size(item) for item in value.values())
    if isinstance(value, list):
        return 1 + sum(tree_size(item) for item in value)
    return 1


def accepted(metadata):
    assert isinstance(metadata, dict)
    assert tree_size(metadata) <= 2 * MAX_EXPANDED_NODES + 1
    normalize_for_schema(metadata)


def test_byte_mutations_of_a_metadata_file(tmp_path):
    assert fuzz_bytes(tmp_path / "metadata.yaml", METADATA_YAML.encode(), read, 6000, accepted=accepted) >= 6000


SCALARS = (
    lambda rng: random_number_text(rng),
    lambda rng: rng.choice(('"\\0"', '"\\ud800"', '"\\U0010ffff"', '"\\x00"', "'it''s'", "~", "null", "yes", "on")),
    lambda rng: rng.choice(("2017-02-30", "2017-11-28T14:30:00", "2017-11-28T14:30:00+00:00", "9999-12-31", "P60D")),
    lambda rng: rng.choice(("!!binary aGVsbG8=", "!!binary !!!", "!!python/name:os.system", "!!set {a, b}",
                            "!!omap [a: 1]", "!!float x", "!!int 0x1g", "!!timestamp 1", "!foo bar", "!!str 1")),
    lambda rng: "".join(rng.choice("ab :#-\t'\"\\&*!|>{}[],%@`") for _ in range(rng.randint(0, 12))),
)


def node(rng: random.Random, anchors: list[str], depth: int) -> str:
    """A flow-style YAML node with anchors and aliases sprinkled in."""
    if anchors and rng.random() < 0.2:
        return f"*{rng.choice(anchors)}"
    anchor = ""
    if rng.random() < 0.2:
        name = f"a{len(anchors)}"
        anchor = f"&{name} "
        anchors.append(name)  # an alias inside the node refers to the node itself
    if depth > 4 or rng.random() < 0.4:
        return anchor + rng.choice(SCALARS)(rng)
    items = [node(rng, anchors, depth + 1) for _ in range(rng.randint(0, 6))]
    if rng.random() < 0.5:
        return anchor + "[" + ", ".join(items) + "]"
    keys = [rng.choice(("Subject", "NWBFile", "description", "<<", "? [1]", "1", "session_start_time", "age"))
            for _ in items]
    return anchor + "{" + ", ".join(f"{key}: {item}" for key, item in zip(keys, items)) + "}"


def document(rng: random.Random) -> bytes:
    anchors: list[str] = []
    lines = []
    for _ in range(rng.randint(0, 6)):
        key = rng.choice(("Subject", "NWBFile", "Ecephys", "Subjet", "1", "- ", "? x", "<<", "%YAML 1.1", "---"))
        lines.append(f"{key}: {node(rng, anchors, 0)}")
    if rng.random() < 0.1:  # deep nesting, or a chain of aliases of aliases
        depth = rng.choice((10, 70, 1000))
        lines.append("Deep: " + "[" * depth + "]" * depth)
    if rng.random() < 0.1:
        fan = rng.randint(2, 12)
        lines.append("l0: &l0 [x, x]")
        lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * fan)}]" for i in range(1, rng.randint(2, 12))]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def test_generated_documents(tmp_path):
    assert fuzz_generated(tmp_path / "metadata.yaml", document, read, 4000, accepted=accepted) >= 4000
