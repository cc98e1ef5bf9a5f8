"""The gate's one-read inspection of a file this process wrote gives nwbinspector's own messages."""

from __future__ import annotations

import h5py
import pytest

from nwb_conversions.publishing.fresh_inspection import inspect_fresh_file, namespaces_to_validate
from nwb_conversions.publishing.gate import inspect_file


def message_keys(messages) -> list:
    return sorted((m.importance.name, m.check_function_name, m.location, str(m.message)) for m in messages)


@pytest.mark.parametrize("dataset", ["spe1", "np-opto", "allen-oephys"])
def test_the_same_messages_as_inspect_nwbfile(tmp_path, run_cli, dataset):
    from nwbinspector import inspect_nwbfile, load_config

    assert run_cli("example", dataset, "--output-dir", tmp_path, "--overwrite")[0] == 0
    (output,) = tmp_path.glob("*.nwb")
    fresh = inspect_fresh_file(output)
    assert fresh is not None
    assert message_keys(fresh) == message_keys(inspect_nwbfile(nwbfile_path=str(output), config=load_config("dandi")))


def test_schema_errors_are_found_as_pynwb_validate_finds_them(tmp_path, run_cli):
    from pynwb import validate

    assert run_cli("example", "allen-oephys", "--output-dir", tmp_path)[0] == 0
    (output,) = tmp_path.glob("*.nwb")
    with h5py.File(output, "a") as file:
        del file["acquisition"][next(iter(file["acquisition"]))]["data"].attrs["unit"]
    fresh = [m for m in inspect_fresh_file(output) if m.importance.name == "PYNWB_VALIDATION"]
    expected = validate(path=str(output))
    assert fresh and sorted(m.message for m in fresh) == sorted(error.reason for error in expected)


def test_a_file_caching_another_version_is_inspected_the_usual_way(tmp_path, run_cli):
    assert run_cli("example", "allen-oephys", "--output-dir", tmp_path)[0] == 0
    (output,) = tmp_path.glob("*.nwb")
    with h5py.File(output, "a") as file:
        core = file["specifications/core"]
        file.move(f"specifications/core/{next(iter(core))}", "specifications/core/1.0.0")
    assert inspect_fresh_file(output) is None
    assert inspect_file(output, written_here=True).messages  # inspected with nwbinspector's own reading


def test_the_most_specific_namespaces_are_validated():
    import ndx_optogenetics  # noqa: F401  (registers the extension)
    from pynwb import get_type_map

    catalog = get_type_map().namespace_catalog
    version = {name: {catalog.get_namespace(name)["version"]} for name in catalog.namespaces}
    names = ("core", "hdmf-common", "hdmf-experimental", "ndx-optogenetics", "ndx-ophys-devices")
    assert namespaces_to_validate({name: version[name] for name in names}, catalog) == ["ndx-optogenetics"]
    assert namespaces_to_validate({name: version[name] for name in names[:3]}, catalog) == ["core"]
    assert namespaces_to_validate({"ndx-unknown": {"0.1.0"}}, catalog) is None
    assert namespaces_to_validate({}, catalog) is None
