"""Fuzzing the SPE-1 Arrow readers: 10 000 damaged Arrow shards and DatasetDict files, 10 000 damaged side files
(``templates.npz``, ``patch.npz``, ``conversion_metadata.json``); only one-line SourceFormatErrors escape, and what
is accepted is what the conversion relies on.

A shard is indexed (every record batch validated in full first) and then every sample the index points at is read,
so a damaged offset that survived the checks would show up as a wrong read rather than pass unnoticed. The ``.npz``
members are damaged inside a valid zip (byte mutations of the zip itself mostly stop at its CRC), and lazy members
are read to their end.
"""

from __future__ import annotations

import itertools
import json
import random
import zipfile
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError, printable
from nwb_conversions.layouts.spe1_arrow.recording import SegmentedRecording
from nwb_conversions.layouts.spe1_arrow.segments import Segment, index_shard
from nwb_conversions.layouts.spe1_arrow.side_files import read_conversion_metadata, read_patch, read_templates
from nwb_conversions.layouts.spe1_arrow.stated_twice import (
    check_metadata_stated_twice,
    check_templates_window,
    check_unit_locations,
    check_window,
)
from nwb_conversions.readers.dataset_dict import dataset_dict_splits
from nwb_conversions.readers.dataset_dict_features import check_shard_features, read_split_features
from nwb_conversions.samples.spe1_arrow import FEATURES, SCHEMA, write_spe1_arrow_cell

from .harness import fuzz_bytes, fuzz_generated, random_number_text, rezip, write_input

CHANNELS = 384


def shard_bytes() -> bytes:
    """Two rows of 384 × 6 samples in two record batches, a spike listed on channel 161 of each."""
    import pyarrow as pa

    from nwb_conversions.samples.spe1_arrow import segment_batch

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, SCHEMA) as writer:
        for index in range(2):
            traces = np.arange(CHANNELS * 6, dtype=np.float32).reshape(CHANNELS, 6) + index
            writer.write_batch(segment_batch(300_000 + 6 * index, traces, 161, np.array([0.05])))
    return sink.getvalue().to_pybytes()


SHARD = shard_bytes()


def read_shard(path: Path):
    """Index the shard against the sample's features, then read every sample the index points at."""
    segments = index_shard(path, "train", num_channels=CHANNELS, features=(FEATURES, path.parent / "dataset_info.json"))
    if segments:
        recording = SegmentedRecording(segments, num_channels=CHANNELS)
        return segments, recording.read(0, recording.num_samples)
    return segments, None


def accepted_shard(result):
    segments, samples = result
    for segment in segments:
        assert segment.num_samples > 0 and segment.values_offset >= 0
        assert np.all((segment.spike_channels >= 0) & (segment.spike_channels < CHANNELS))
        assert len(segment.spike_units) == len(segment.spike_times_ms) == len(segment.spike_channels)
    if samples is not None:
        assert samples.shape == (sum(segment.num_samples for segment in segments), CHANNELS)


def test_byte_mutations_of_a_shard(tmp_path):
    path = tmp_path / "data-00000-of-00001.arrow"
    assert fuzz_bytes(path, SHARD, read_shard, 5000, accepted=accepted_shard) >= 5000


def within(folder: Path, reader):
    """``reader()`` (which reads the whole folder), with an error on any file of ``folder`` reported as one on the
    input's ``path`` (the harness checks that the line names the input)."""

    def read(path: Path):
        try:
            return reader()
        except SourceFormatError as error:
            assert error.file == folder or folder in error.file.parents, str(error)
            where = printable(str(error.file.relative_to(folder)))  # a split named "tr\nain" stays on one line
            raise SourceFormatError(path, f"{where}: {error.problem}", error.expected) from None

    return read


@pytest.fixture
def dataset_dict(tmp_path) -> Path:
    """A DatasetDict folder whose files the structured inputs replace one at a time (shards are empty files:
    the layout is read, not the rows)."""
    folder = tmp_path / "c14"
    for split in ("train", "test"):
        (folder / split).mkdir(parents=True)
        (folder / split / "dataset_info.json").write_text(json.dumps({"features": FEATURES}))
        (folder / split / "data-00000-of-00001.arrow").write_bytes(b"")
    return folder


NAMES = ("train", "test", "data-00000-of-00001.arrow", "data-00001-of-00002.arrow", "data-00000-of-00002.arrow",
         "", ".", "..", "../c14", "train/..", "a\x00b", "tr\nain", "x" * 300, "data-99999-of-00001.arrow", "TRAIN")


def odd_value(rng: random.Random, depth: int = 0):
    """A JSON value of any kind, mostly near what the files hold."""
    choice = rng.randrange(8 if depth < 3 else 5)
    if choice == 0:
        return rng.choice(NAMES)
    if choice == 1:
        return rng.choice((None, True, False, 0, -1, 1.5, 2**70))
    if choice == 2:
        return random_number_text(rng)
    if choice == 3:
        return {"filename": rng.choice(NAMES)}
    if choice == 4:
        return []
    if choice == 5:
        return [odd_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if choice == 6:
        return {rng.choice(("filename", "splits", "_data_files", "name")): odd_value(rng, depth + 1)}
    return [rng.choice(NAMES) for _ in range(rng.randint(1, 4))]


def layout_file(rng: random.Random) -> tuple[str, bytes]:
    """dataset_dict.json or a state.json with odd splits or shard listings; sometimes a repeated key."""
    if rng.random() < 0.5:
        key, name = "splits", "dataset_dict.json"
        value = rng.choice((["train", "test"], ["train"], ["train", "test", "train"], odd_value(rng)))
    else:
        key, name = "_data_files", f"{rng.choice(('train', 'test'))}/state.json"
        value = rng.choice(([{"filename": "data-00000-of-00001.arrow"}], odd_value(rng),
                            [{"filename": rng.choice(NAMES)} for _ in range(rng.randint(1, 3))]))
    text = json.dumps({key: value})
    if rng.random() < 0.1:
        text = text[:-1] + f', "{key}": {json.dumps(odd_value(rng))}}}'
    return name, text.encode()


#: The valid content of each layout file, restored after each input.
VALID_LAYOUT = {"dataset_dict.json": b'{"splits": ["train", "test"]}',
                "state.json": b'{"_data_files": [{"filename": "data-00000-of-00001.arrow"}]}'}


def test_structured_but_wrong_dataset_dict_layouts(dataset_dict):
    write_input(dataset_dict / "dataset_dict.json", VALID_LAYOUT["dataset_dict.json"])
    for split in ("train", "test"):
        write_input(dataset_dict / split / "state.json", VALID_LAYOUT["state.json"])
    files = {}

    def generate(rng: random.Random) -> bytes:
        name, content = layout_file(rng)
        files["current"] = name
        return content

    def read(path: Path):
        target = dataset_dict / files["current"]
        write_input(target, path.read_bytes())
        try:
            return within(dataset_dict, lambda: dataset_dict_splits(dataset_dict))(path)
        finally:
            write_input(target, VALID_LAYOUT[target.name])

    def accepted(shards):
        for paths in shards.values():
            assert paths and all(path.parent.parent == dataset_dict and path.is_file() for path in paths)
            assert len(set(paths)) == len(paths)

    path = dataset_dict.parent / "input.json"
    assert fuzz_generated(path, generate, read, 3000, accepted=accepted) >= 3000


def odd_feature(rng: random.Random, depth: int = 0):
    """A ``datasets`` feature as JSON: right, slightly wrong or absurd."""
    kind = rng.choice(("Value", "Sequence", "List", "LargeList", "ClassLabel", None, 5))
    if kind == "Value" or depth > 2:
        return {"_type": "Value", "dtype": rng.choice(("string", "float32", "float64", "int32", "int64", "bool",
                                                        "decimal", "timestamp[s]", "", None, 7, "x" * 100))}
    feature = {"_type": kind, "feature": odd_feature(rng, depth + 1)}
    if rng.random() < 0.3:
        feature["length"] = rng.choice((-1, 0, 3, 2**40, "3", None, True))
    return feature if rng.random() < 0.9 else rng.choice(([], "List", None))


def features_file(rng: random.Random) -> bytes:
    features = json.loads(json.dumps(FEATURES))
    for name in rng.sample(sorted(features), rng.randint(1, 2)):
        features[name] = odd_feature(rng)
    if rng.random() < 0.2:
        features = rng.choice(({}, [], None, {"label": odd_feature(rng)}, dict(reversed(list(features.items())))))
    return json.dumps({"features": features}).encode()


def test_structured_but_wrong_features(dataset_dict):
    import pyarrow as pa

    schema = pa.ipc.open_stream(pa.py_buffer(SHARD)).schema
    shard = dataset_dict / "train" / "data-00000-of-00001.arrow"

    def check():
        declared = read_split_features(dataset_dict / "train")
        if declared is not None:
            check_shard_features(*declared, schema, shard)
        return declared

    path = dataset_dict / "train" / "dataset_info.json"
    assert fuzz_generated(path, features_file, within(dataset_dict, check), 2000) >= 2000


@pytest.fixture(scope="module")
def side_files(tmp_path_factory):
    """The sample cell's side files (2 × 5 ms segments), and its conversion metadata as read."""
    cell = write_spe1_arrow_cell(tmp_path_factory.mktemp("side") / "c14", num_segments=2, segment_duration_s=0.005)
    return {name: (cell / name).read_bytes() for name in ("templates.npz", "patch.npz", "conversion_metadata.json")}


def member_mutations(archive: bytes):
    """A transform for :func:`fuzz_bytes`: each input damages the next member of the archive, in turn."""
    members = itertools.cycle(zipfile.ZipFile(BytesIO(archive)).namelist())
    return lambda mutation: rezip(archive, next(members), mutation)


def test_damaged_templates_members(tmp_path, side_files):
    metadata_path = tmp_path / "conversion_metadata.json"
    metadata_path.write_bytes(side_files["conversion_metadata.json"])
    metadata = read_conversion_metadata(metadata_path)

    def accepted(templates):
        assert templates.templates.shape == (1, templates.nbefore + templates.nafter, CHANNELS)
        assert np.isfinite(templates.templates).all()

    archive = side_files["templates.npz"]
    path = tmp_path / "templates.npz"
    assert fuzz_bytes(path, archive, lambda p: read_templates(p, metadata), 2500, accepted=accepted,
                      transform=member_mutations(archive)) >= 2500


def read_whole_patch(path: Path):
    """``patch.npz`` opened, and both lazy members read to their end."""
    patch = read_patch(path)
    return patch, np.asarray(patch.trace), np.asarray(patch.timestamps)


def accepted_patch(result):
    patch, trace, timestamps = result
    assert trace.shape == timestamps.shape == (len(patch.trace),) and np.isfinite(patch.spike_times_s).all()


def test_damaged_patch_members(tmp_path, side_files):
    archive = side_files["patch.npz"]
    assert fuzz_bytes(tmp_path / "patch.npz", archive, read_whole_patch, 2500, accepted=accepted_patch,
                      transform=member_mutations(archive)) >= 2500


def test_byte_mutations_of_the_npz_archives(tmp_path, side_files):
    assert fuzz_bytes(tmp_path / "patch.npz", side_files["patch.npz"], read_whole_patch, 1000,
                      accepted=accepted_patch) >= 1000


def accepted_metadata(metadata):
    assert metadata.sampling_frequency > 0 and metadata.segment_duration_s > 0 and metadata.num_units > 0
    assert 0 <= metadata.gt_electrode < metadata.num_channels
    assert sorted(metadata.peak_channels) == list(range(metadata.num_units))


def test_byte_mutations_of_conversion_metadata(tmp_path, side_files):
    base = side_files["conversion_metadata.json"]
    assert fuzz_bytes(tmp_path / "conversion_metadata.json", base, read_conversion_metadata, 2000,
                      accepted=accepted_metadata) >= 2000


#: Keys of ``conversion_metadata.json`` the structured inputs change (dotted: nested objects).
METADATA_KEYS = ("sampling_frequency", "num_channels", "num_units", "segment_duration_s", "gt_electrode_chan_idx",
                 "bad_channel_ids", "unit_peak_channel", "unit_locations_um", "n_spikes_total",
                 "n_spikes_used_for_templates", "template_metadata.nbefore", "template_metadata.ms_after",
                 "template_metadata.n_spikes_total", "source_metadata.duration_s", "source_metadata.skip_seconds")


def odd_number(rng: random.Random):
    """A number as JSON may hold one: huge, tiny, negative, NaN, infinite, or text."""
    return rng.choice((10**rng.randint(0, 400), -(2**63), 1e308, 5e-324, float("nan"), float("inf"), 0, 3.0,
                       random_number_text(rng)))


def read_and_cross_check(side_files: dict, tmp_path: Path):
    """Read ``conversion_metadata.json`` and check it against a templates.npz and two segments of the sample (the
    files the cross-checks name are all the input, so the harness can require that the line names it)."""
    templates_path = tmp_path / "templates.npz"
    templates_path.write_bytes(side_files["templates.npz"])
    segments = [Segment("train", None, 0, index, 300_000 + 150 * index, 150, 0, np.array([161]), np.array([0]),
                        np.array([1.0])) for index in range(2)]

    def read(path: Path):
        metadata = read_conversion_metadata(path)
        templates = read_templates(templates_path, metadata)
        located = [replace(segment, shard=path) for segment in segments]
        check_metadata_stated_twice(metadata, path)
        check_templates_window(metadata, templates, path)
        check_unit_locations(metadata, templates, path)
        check_window(metadata, located, 2, path)
        return metadata

    return read


def test_odd_values_in_conversion_metadata(tmp_path, side_files):
    base = json.loads(side_files["conversion_metadata.json"])

    def generate(rng: random.Random) -> bytes:
        content = json.loads(json.dumps(base))
        for key in rng.sample(METADATA_KEYS, rng.randint(1, 3)):
            *parents, last = key.split(".")
            target = content
            for parent in parents:
                target = target[parent]
            target[last] = rng.choice((odd_value(rng), odd_number(rng), {"0": odd_value(rng)}, {"1": 3},
                                       [odd_value(rng)], {"0": [odd_number(rng), 1600.0]}))
        return json.dumps(content).encode()

    def read(path: Path):
        try:
            return cross_checked(path)
        except SourceFormatError as error:
            if error.file == templates_path:  # the archive itself is valid: its line names it, never the input
                assert "templates.npz" in str(error), str(error)
                return None
            raise

    templates_path = tmp_path / "templates.npz"
    cross_checked = read_and_cross_check(side_files, tmp_path)
    path = tmp_path / "conversion_metadata.json"
    assert fuzz_generated(path, generate, read, 2000, accepted=lambda m: m is None or accepted_metadata(m)) >= 2000
