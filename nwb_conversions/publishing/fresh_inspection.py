"""The gate's inspection of a file this process has just written, read once.

``nwbinspector.inspect_nwbfile`` on a path reads the file, then ``pynwb.validate`` reads it again; the gate's
readability check reads it a third time; and every read first loads the namespaces cached in the file, parsing the
NWB schema's YAML anew (~0.3 s each, about a third of a short conversion). A file this process has just written
caches exactly the namespaces this process's type map holds (pynwb wrote them from it, names and versions), so
here the file is read once, with that type map (``load_namespaces=False``); it is validated against the most
specific of the namespaces it caches, as ``pynwb.validate`` does, and the nwbinspector checks run on the object
read. The messages are the same:
``tests/publishing/test_fresh_inspection.py`` compares them with ``inspect_nwbfile``'s.

A file caching a namespace, or a version of one, that this process does not hold is inspected the usual way.
:func:`inspector_messages` (validation errors and nwbinspector's checks on a file read once) also serves the gate of
NWB-Zarr stores (:mod:`nwb_conversions.publishing.zarr_gate`).
"""

from __future__ import annotations

from pathlib import Path

#: Cached namespaces not validated (as in ``pynwb.validate``: pynwb issue 1357).
NOT_VALIDATED = {"hdmf-experimental"}


def namespaces_to_validate(cached: dict[str, set[str]], catalog) -> list[str] | None:
    """The most specific of the ``cached`` namespaces (name → versions cached; those no other one includes), or None
    if ``catalog`` (this process's namespace catalog) lacks one of them at the version cached."""
    known = set(catalog.namespaces)
    if not cached or any(name not in known or catalog.get_namespace(name).get("version") not in versions
                         for name, versions in cached.items()):
        return None
    included: set[str] = set()
    todo = list(cached)
    while todo:
        schema = catalog.get_namespace(todo.pop()).get("schema", [])
        for name in (entry["namespace"] for entry in schema if "namespace" in entry):
            if name not in included:
                included.add(name)
                todo.append(name)
    return sorted(set(cached) - included - NOT_VALIDATED)


def inspector_messages(validation_errors, nwbfile, path: str | Path, *, ignore=()) -> list:
    """What ``nwbinspector.inspect_nwbfile`` gives for a file read once: its schema ``validation_errors`` (from pynwb)
    as PYNWB_VALIDATION messages, then nwbinspector's checks (DANDI configuration, less ``ignore``) on ``nwbfile``."""
    from nwbinspector import Importance, InspectorMessage, inspect_nwbfile_object, load_config

    messages = [
        InspectorMessage(
            message=error.reason, importance=Importance.PYNWB_VALIDATION, check_function_name=error.name,
            location=error.location, file_path=str(path),
        )
        for error in validation_errors
    ]
    for message in inspect_nwbfile_object(nwbfile_object=nwbfile, config=load_config("dandi"), ignore=list(ignore)):
        message.file_path = str(path)
        messages.append(message)
    return messages


def inspect_fresh_file(nwbfile_path: str | Path) -> list | None:
    """The nwbinspector messages (DANDI configuration, schema validation included) of a file this process wrote, or
    None when its cached namespaces are not all known here (then use ``inspect_nwbfile``).

    Raises
    ------
    Exception
        Whatever reading the file raises (the caller reports it in one line).
    """
    import h5py
    from pynwb import NWBHDF5IO, get_type_map
    from pynwb.validation import _validate_helper

    with h5py.File(nwbfile_path, "r") as file:
        specifications = file.get("specifications")
        cached = {name: set(specifications[name].keys()) for name in specifications} if specifications else {}
    namespaces = namespaces_to_validate(cached, get_type_map().namespace_catalog)
    if namespaces is None:
        return None
    with NWBHDF5IO(str(nwbfile_path), "r", load_namespaces=False) as io:
        nwbfile = io.read()
        errors = [error for namespace in namespaces for error in _validate_helper(io=io, namespace=namespace)]
        return inspector_messages(errors, nwbfile, nwbfile_path)
