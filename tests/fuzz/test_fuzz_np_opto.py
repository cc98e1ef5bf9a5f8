"""Fuzzing a Neuropixels Opto session folder's readers, 10 000 damaged or generated inputs for each of
``session.json``, the ALF ``.npy`` arrays (headers included), ``clusters.KSLabel.csv`` and the ``stim.*`` files
against ``session.json``; 4000 for ``clusters.waveformType.txt`` and 3000 for the whole folder (every agreement
``session.json``'s counts and ranges must keep). Only one-line SourceFormatErrors escape."""

from __future__ import annotations

import io
import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.layouts.np_opto.consistency import check_sorting_agrees, check_stimulation_agrees
from nwb_conversions.layouts.np_opto.session import read_session_json
from nwb_conversions.layouts.np_opto.sorting import (
    check_cluster_ids,
    read_clusters,
    read_ks_labels,
    read_spikes,
    read_waveform_types,
)
from nwb_conversions.layouts.np_opto.stimulation import emission_site_base, read_stimulation
from nwb_conversions.readers.alf import load_npy
from nwb_conversions.samples.np_opto import DEFAULT_SESSION_ID, write_np_opto_session
from nwb_conversions.samples.np_opto_spikes import SampleSize

from ..cli.hostile.np_opto import npy_header
from .harness import (
    INPUTS_PER_EXAMPLE,
    check_read,
    fuzz,
    fuzz_bytes,
    fuzz_generated,
    mutate,
    mutation_examples,
    random_number_text,
    write_input,
)
from .test_fuzz_npy import header_file

#: Channels of the tiny session fuzzed: 12 clusters, templates of 4 samples on 8 channels, 28 pulses.
NUM_CHANNELS = 8


@pytest.fixture(scope="module")
def tiny_session(tmp_path_factory) -> Path:
    """A sample session shrunk to 8 channels (so a damaged copy of any file is small), its session.json agreeing."""
    session = write_np_opto_session(tmp_path_factory.mktemp("fuzz") / DEFAULT_SESSION_ID,
                                    size=SampleSize(num_clusters=12, repeats=1))
    peaks = np.load(session / "clusters.peakChannel.npy")
    np.save(session / "clusters.peakChannel.npy", np.where(peaks < 0, peaks, peaks % NUM_CHANNELS).astype(np.int32))
    np.save(session / "clusters.templates.npy", np.load(session / "clusters.templates.npy")[:, 28:32, :NUM_CHANNELS])
    positions = np.load(session / "clusters.channelPositions.npy")
    np.save(session / "clusters.channelPositions.npy", positions[:NUM_CHANNELS])
    record = json.loads((session / "session.json").read_text())
    (session / "session.json").write_text(json.dumps({**record, "n_channels": NUM_CHANNELS, "top_chan": 5}, indent=2))
    read_session_folder(session)  # the shrunk session is valid
    return session


def read_session_folder(folder: Path):
    """Everything the converter reads from a session folder, and every agreement it checks."""
    info = read_session_json(folder / "session.json")
    times, clusters_of_spikes = read_spikes(folder)
    clusters = read_clusters(folder)
    check_cluster_ids(folder, clusters_of_spikes, clusters.num_clusters)
    check_sorting_agrees(info, times, clusters)
    stimulation = read_stimulation(folder)
    check_stimulation_agrees(info, stimulation)
    emission_site_base(stimulation.emission_sites, folder / "stim.emissionSites.npy")
    return info


def copy_of(session: Path, tmp_path: Path) -> Path:
    return shutil.copytree(session, tmp_path / DEFAULT_SESSION_ID)


def session_accepted(info):
    assert isinstance(info.session_id, str) and info.session_id.strip()
    assert info.sampling_rate is None or 1e3 <= info.sampling_rate <= 1e6


def test_byte_mutations_of_session_json(tiny_session, tmp_path):
    session = copy_of(tiny_session, tmp_path)
    path = session / "session.json"
    base = path.read_bytes()
    assert fuzz_bytes(path, base, read_session_json, 6000, accepted=session_accepted) >= 6000


#: Values a session.json key might hold: numbers and near-numbers, strings, lists, objects, null, booleans.
JSON_VALUES = (
    lambda rng: random_number_text(rng),
    lambda rng: json.dumps(rng.choice((DEFAULT_SESSION_ID, "AL_0034", "2024-12-05", "", "\u2028", "AL0035_x"))),
    lambda rng: rng.choice(("null", "true", "false", "NaN", "-Infinity", "[]", "{}", "[0.0, 35.0]", '"30000"')),
    lambda rng: "[" + ", ".join(random_number_text(rng) for _ in range(rng.randint(0, 3))) + "]",
    lambda rng: '{"presence_ratio_min": ' + random_number_text(rng) + "}",
    lambda rng: "[" * rng.randint(1, 3000) + "]" * rng.randint(0, 3000),
)

SESSION_KEYS = ("session_id", "subject", "date", "en", "probe_index", "sampling_rate", "qc_thresholds", "n_spikes",
                "n_clusters", "spike_time_range_s", "top_chan", "session_id")


def session_json_file(rng: random.Random) -> bytes:
    """A session.json with well-formed keys but odd values, some keys stated twice."""
    pairs = [f'"session_id": "{DEFAULT_SESSION_ID}"'] if rng.random() < 0.8 else []
    for _ in range(rng.randint(0, 8)):
        pairs.append(f'"{rng.choice(SESSION_KEYS)}": {rng.choice(JSON_VALUES)(rng)}')
    rng.shuffle(pairs)
    return ("{" + ", ".join(pairs) + "}").encode("utf-8", "surrogatepass")


def test_generated_session_json(tiny_session, tmp_path):
    session = copy_of(tiny_session, tmp_path)
    path = session / "session.json"
    assert fuzz_generated(path, session_json_file, read_session_json, 4000, accepted=session_accepted) >= 4000


#: ALF arrays fuzzed, with the reader's arguments for each.
ALF_ARRAYS = {
    "spikes.times.npy": dict(kinds="f"),
    "spikes.clusters.npy": dict(kinds="iu"),
    "clusters.qcPass.npy": dict(kinds="biu"),
    "clusters.templates.npy": dict(kinds="fiu", ndim=3),
    "clusters.channelPositions.npy": dict(kinds="fiu", ndim=2),
}


def array_accepted(arguments: dict):
    def accepted(array):
        assert isinstance(array, np.ndarray) and array.dtype.kind in arguments["kinds"]
        assert array.ndim == arguments.get("ndim", 1)
    return accepted


def first_rows_npy(path: Path, max_bytes: int = 2048) -> bytes:
    """The ``.npy`` at ``path`` cut to its first rows (at most about ``max_bytes`` of data), as a valid file's bytes."""
    array = np.load(path)
    buffer = io.BytesIO()
    np.save(buffer, array[: max(1, max_bytes // max(1, array[:1].nbytes))])
    return buffer.getvalue()


@pytest.mark.parametrize("name", list(ALF_ARRAYS))
def test_byte_mutations_of_alf_arrays(tiny_session, tmp_path, name):
    arguments = ALF_ARRAYS[name]
    base = first_rows_npy(tiny_session / name)
    read = lambda path: load_npy(path, **arguments)  # noqa: E731
    assert fuzz_bytes(tmp_path / name, base, read, 1200, accepted=array_accepted(arguments)) >= 1200


def test_structured_but_wrong_alf_headers(tmp_path):
    path = tmp_path / "spikes.times.npy"
    arguments = dict(kinds="f")
    assert fuzz_generated(path, header_file, lambda p: load_npy(p, **arguments), 4000,
                          accepted=array_accepted(arguments)) >= 4000


def template_header_file(rng: random.Random) -> bytes:
    """A (K, T, C) ``.npy`` whose header's lengths are odd (zero, negative, huge) over a payload of a few sizes."""
    lengths = (0, 1, 2, 3, -1, -2, 61, 384, 2**31, 2**40, 2**62)
    shape = tuple(rng.choice(lengths) for _ in range(rng.choice((3, 3, 3, 2, 4))))
    descr = rng.choice(("<f8", ">f4", "<i2", "|b1", "<c16", "<f2"))
    return npy_header(descr, shape, payload=bytes(rng.choice((0, 8, 48, 96, 4096))))


def test_structured_but_wrong_template_headers(tmp_path):
    path = tmp_path / "clusters.templates.npy"
    arguments = ALF_ARRAYS["clusters.templates.npy"]
    assert fuzz_generated(path, template_header_file, lambda p: load_npy(p, **arguments), 2000,
                          accepted=array_accepted(arguments)) >= 2000


def test_byte_mutations_of_kilosort_labels(tiny_session, tmp_path):
    path = tmp_path / "clusters.KSLabel.csv"
    base = (tiny_session / "clusters.KSLabel.csv").read_bytes()

    def accepted(labels):
        assert len(labels) == 12 and all(isinstance(label, str) for label in labels)

    assert fuzz_bytes(path, base, lambda p: read_ks_labels(p, 12), 10_000, accepted=accepted) >= 10_000


def test_byte_mutations_of_waveform_types(tiny_session, tmp_path):
    path = tmp_path / "clusters.waveformType.txt"
    base = (tiny_session / "clusters.waveformType.txt").read_bytes()

    def accepted(values):
        assert len(values) == 12 and all("\n" not in value for value in values)

    assert fuzz_bytes(path, base, lambda p: read_waveform_types(p, 12), 4000, accepted=accepted) >= 4000


STIM_FILES = ("stim.times.npy", "stim.emissionSites.npy", "stim.powerMW.npy", "stim.durations.npy")

#: Files of the whole-folder fuzz: session.json and arrays whose facts it restates.
FOLDER_FILES = ("session.json", "spikes.times.npy", "spikes.clusters.npy", "clusters.qcPass.npy",
                "clusters.presenceRatio.npy", "clusters.channelPositions.npy")


def fuzz_folder(folder: Path, names: tuple[str, ...], read, num_inputs: int, accepted=None) -> int:
    """Damage one of ``names`` at a time (restored after each read) and ``read`` the folder; the error may name
    another of the folder's files (a contradiction), but always in one line."""
    originals = {name: (folder / name).read_bytes() for name in names}

    def feed(example) -> int:
        kind, seed = example
        rng = random.Random(seed)
        for _ in range(INPUTS_PER_EXAMPLE):
            name = rng.choice(names)
            write_input(folder / name, mutate(rng, originals[name], kind))
            check_read(folder_reader(folder, read), folder / name, accepted)
            write_input(folder / name, originals[name])
        return INPUTS_PER_EXAMPLE

    return fuzz(num_inputs, mutation_examples(), feed)


def folder_reader(folder: Path, read):
    """``read(folder)``; an error naming any of the folder's files is re-raised as if it named the damaged one."""
    def read_damaged(damaged: Path):
        try:
            return read(folder)
        except SourceFormatError as error:
            message = str(error)
            assert "\n" not in message and message.startswith(f"{folder}/"), message
            raise SourceFormatError(damaged, "refused", "(the folder's error above)") from None
    return read_damaged


def test_byte_mutations_of_the_stimulation(tiny_session, tmp_path):
    folder = copy_of(tiny_session, tmp_path)
    info = read_session_json(folder / "session.json")

    def read(folder: Path):
        stimulation = read_stimulation(folder)
        check_stimulation_agrees(info, stimulation)
        return emission_site_base(stimulation.emission_sites, folder / "stim.emissionSites.npy")

    def accepted(result):
        assert result[0] in (0, 1)

    assert fuzz_folder(folder, STIM_FILES, read, 10_000, accepted) >= 10_000


def test_byte_mutations_across_the_session_folder(tiny_session, tmp_path):
    folder = copy_of(tiny_session, tmp_path)
    assert fuzz_folder(folder, FOLDER_FILES, read_session_folder, 3000, session_accepted) >= 3000
