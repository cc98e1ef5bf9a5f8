"""``convert-to-nwb template-dataset``: the sample's exact round trip, the gate, refused input, NeuroConv's contract.

Made from the dataset template; extend it with your format's cases (every documented variation accepted, every
contradiction refused with one line naming the file).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from pynwb import NWBHDF5IO, read_nwb

from nwb_conversions.datasets.template_dataset.interface import TemplateDatasetRecordingInterface
from nwb_conversions.datasets.template_dataset.sample import write_sample, write_session
from tests.interfaces import test_contract


def test_command_round_trip_is_exact(tmp_path, run_cli):
    source, metadata_path = write_sample(tmp_path / "source")
    output = tmp_path / "session.nwb"
    code, stdout, stderr = run_cli("template-dataset", source, output, "--metadata", metadata_path)
    assert code == 0, stderr
    assert "0 CRITICAL" in stdout
    facts = json.loads((source / "session.json").read_text())
    stored = np.fromfile(source / "recording.bin", dtype="<i2").reshape(-1, facts["num_channels"])
    with NWBHDF5IO(str(output), "r") as io:
        nwbfile = io.read()
        series = nwbfile.acquisition["Recording"]
        assert series.data.dtype == np.int16
        np.testing.assert_array_equal(series.data[:], stored)
        assert series.rate == facts["sampling_rate_hz"] and series.conversion == facts["volts_per_count"]
        assert nwbfile.session_id == facts["session_id"]
        assert nwbfile.session_start_time.isoformat() == facts["start_time"]
        assert nwbfile.subject.subject_id == "sample-subject-01"


def test_a_session_id_that_contradicts_the_folder_is_refused(tmp_path, run_cli):
    session = write_session(tmp_path, "session01")
    facts = json.loads((session / "session.json").read_text())
    (session / "session.json").write_text(json.dumps({**facts, "session_id": "session02"}))
    output = tmp_path / "out.nwb"
    code, stdout, stderr = run_cli("template-dataset", session, output, "--no-inspect")
    assert code == 1 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith(f"error: {session / 'session.json'}: session_id")
    assert not output.exists()


class TestTemplateDatasetInterfaceContract(test_contract.TestInterfaceContract):
    """NeuroConv's interface contract, and the same data through NeuroConv's writer as through ours."""

    @pytest.fixture
    def setup_interface(self, tmp_path_factory):
        folder = write_session(tmp_path_factory.mktemp("template_dataset"), duration_s=0.5)
        self.data_interface_cls, self.interface_kwargs = TemplateDatasetRecordingInterface, dict(folder_path=folder)
        self.interface = TemplateDatasetRecordingInterface(folder_path=folder)
        self.test_name = "template_dataset"
        return self.interface, self.test_name

    def check_read_nwb(self, nwbfile_path: str):
        assert read_nwb(nwbfile_path).session_start_time == self.interface.session.start_time
