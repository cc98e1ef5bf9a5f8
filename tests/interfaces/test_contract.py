"""NeuroConv's interface contract for every interface in ``nwb_conversions.interfaces.__all__``.

NeuroConv's own ``DataInterfaceTestMixin`` runs over each interface (schemas valid, ``get_metadata()`` validates,
``add_to_nwbfile`` works from the interface's own metadata without mutating it, ``run_conversion`` writes HDF5 and
Zarr). On top, the file NeuroConv's ``run_conversion`` writes must hold the same data, bit for bit, as the one our
fast writer writes: an interface is correct under any writer.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from jsonschema import Draft7Validator
from neuroconv.tools.testing.data_interface_mixins import DataInterfaceTestMixin
from pynwb import read_nwb

from nwb_conversions import interfaces
from nwb_conversions.metadata.assembly import normalize_for_schema
from nwb_conversions.writing.hdf5 import write_nwbfile

from .contract_cases import CASES

START = "2020-01-01T00:00:00+00:00"


def test_every_interface_has_a_contract_case():
    assert sorted(CASES) == sorted(interfaces.__all__)


def datasets_of(path) -> dict[str, np.ndarray]:
    """Every numeric dataset of an HDF5 file by its path (object references and strings left out)."""
    found = {}

    def visit(name, item):
        if isinstance(item, h5py.Dataset) and item.dtype.kind in "iufb":
            found[name] = item[()]

    with h5py.File(path, "r") as h5:
        h5.visititems(visit)
    return found


class TestInterfaceContract(DataInterfaceTestMixin):
    """The mixin's checks, once per interface (the class attributes are set per case by the fixture)."""

    @pytest.fixture(params=sorted(CASES))
    def setup_interface(self, request, tmp_path_factory):
        cls, kwargs = CASES[request.param](tmp_path_factory.mktemp(request.param))
        self.data_interface_cls, self.interface_kwargs = cls, kwargs
        self.interface = cls(**kwargs)
        self.test_name = request.param
        return self.interface, self.test_name

    def test_source_schema_valid(self, setup_interface):
        Draft7Validator.check_schema(schema=self.data_interface_cls.get_source_schema())

    def edit_metadata(self, metadata: dict) -> dict:
        metadata = normalize_for_schema(metadata)
        metadata["NWBFile"].setdefault("session_start_time", START)
        return metadata

    def check_read_nwb(self, nwbfile_path: str):
        nwbfile = read_nwb(nwbfile_path)
        assert nwbfile.session_start_time.isoformat() == START

    def test_neuroconv_writes_the_same_data_as_our_writer(self, setup_interface, tmp_path):
        metadata = self.edit_metadata(self.interface.get_metadata())
        neuroconv_path = tmp_path / "neuroconv.nwb"
        self.interface.run_conversion(nwbfile_path=str(neuroconv_path), metadata=metadata, overwrite=True)

        fresh = self.data_interface_cls(**self.interface_kwargs)
        nwbfile = fresh.create_nwbfile(metadata=metadata)
        ours = write_nwbfile(nwbfile, tmp_path / "ours.nwb", progress=False)

        theirs, mine = datasets_of(neuroconv_path), datasets_of(ours)
        assert sorted(theirs) == sorted(mine)
        for name, values in mine.items():
            if name.startswith("general") or name.endswith("file_create_date"):
                continue
            assert values.dtype == theirs[name].dtype, name
            np.testing.assert_array_equal(values, theirs[name], err_msg=name)
        large = [name for name, values in mine.items() if values.size >= 1_000]
        assert all(np.any(mine[name]) for name in large), "a large array is all zeros"
