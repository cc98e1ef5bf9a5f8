"""``convert-to-nwb upload``: dandi organize + validate offline on a batch's output, then the upload call.

No test goes over the network: ``dandi.upload.upload`` (the only call that would) is replaced by a test double that
records its arguments and the API key the dandi client would read.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nwb_conversions.batch import ConversionOptions, run_batch
from nwb_conversions.datasets import registered_datasets

#: A fake key: the tests check it is handed to the dandi client and never printed.
FAKE_API_KEY = "test-key-0123456789abcdef"

TABLE = (
    "session,subject_id,species,sex,age\n"
    "103991.h5,mouse-1,Mus musculus,F,P90D\n"
    "103992,mouse-2,Mus musculus,M,P95D\n"
)


@pytest.fixture(scope="module")
def batch_output(tmp_path_factory):
    """A batch's output: two Allen Dataset II recordings with complete subject facts."""
    folder = tmp_path_factory.mktemp("upload")
    dataset = registered_datasets()["allen-oephys"]
    root, _ = dataset.write_sample_release(folder / "release", 2)
    (folder / "sessions.csv").write_text(TABLE, encoding="utf-8")
    outcome = run_batch(
        dataset, root, folder / "nwb", sessions_table=folder / "sessions.csv", options=ConversionOptions(inspect=False),
        cores=1, progress=False,
    )
    assert [result.status for result in outcome.results] == ["OK", "OK"]
    return folder / "nwb"


@pytest.fixture
def upload_double(monkeypatch):
    """Stands in for ``dandi.upload.upload`` (the network call): records each call's arguments and the key the
    dandi client would read from its instance's environment variable."""
    calls = []

    def fake_upload(**kwargs):
        variable = {"dandi": "DANDI_API_KEY", "dandi-sandbox": "DANDI_SANDBOX_API_KEY"}[kwargs["dandi_instance"]]
        calls.append(dict(kwargs, key_seen_by_client=os.environ.get(variable)))

    monkeypatch.setattr("dandi.upload.upload", fake_upload)
    monkeypatch.delenv("DANDI_SANDBOX_API_KEY", raising=False)
    return calls


def test_dry_run_organizes_and_validates_offline_and_uploads_nothing(batch_output, tmp_path, run_cli, upload_double):
    dandiset = tmp_path / "000123"
    code, out, err = run_cli("upload", batch_output, "--dandiset", "000123", "--dry-run", "--dandiset-dir", dandiset)
    assert code == 0, err
    assert "organized 2 NWB file(s)" in out and "dandi validate: no errors" in out and "nothing uploaded" in out
    organized = sorted(path.relative_to(dandiset).as_posix() for path in dandiset.rglob("*.nwb"))
    assert organized == [
        "sub-mouse-1/sub-mouse-1_ses-103991_icephys+ophys.nwb",
        "sub-mouse-2/sub-mouse-2_ses-103992_icephys+ophys.nwb",
    ]
    link = dandiset / organized[0]
    assert link.is_symlink() and link.resolve() == (batch_output / "sub-mouse-1/sub-mouse-1_ses-103991.nwb").resolve()
    assert "identifier: '000123'" in (dandiset / "dandiset.yaml").read_text()
    assert upload_double == []
    assert run_cli("upload", batch_output, "--dandiset", "000123", "--dry-run", "--dandiset-dir", dandiset)[0] == 0


def test_upload_hands_the_organized_dandiset_and_the_key_to_dandi(batch_output, tmp_path, run_cli, upload_double,
                                                                  monkeypatch):
    monkeypatch.setenv("DANDI_API_KEY", FAKE_API_KEY)
    dandiset = tmp_path / "dandiset"
    code, out, err = run_cli(
        "upload", batch_output, "--dandiset", "DANDI:000123", "--instance", "dandi-sandbox", "--dandiset-dir", dandiset
    )
    assert code == 0, err
    assert "uploaded to Dandiset 000123 on dandi-sandbox" in out
    assert len(upload_double) == 1
    call = upload_double[0]
    assert call["paths"] == [str(dandiset)]
    assert call["dandi_instance"] == "dandi-sandbox"
    assert call["upload_dandiset_metadata"] is False
    assert str(call["validation"]) == "skip" and str(call["existing"]) == "refresh"  # validated just before
    assert call["key_seen_by_client"] == FAKE_API_KEY
    assert "DANDI_SANDBOX_API_KEY" not in os.environ  # handed over for the call only
    assert FAKE_API_KEY not in out + err


@pytest.mark.parametrize(
    "arguments, environment, message",
    [
        (("--dandiset", "123"), {"DANDI_API_KEY": FAKE_API_KEY}, "error: --dandiset 123: not a Dandiset identifier"),
        (("--dandiset", "000123", "--instance", "dandy"), {"DANDI_API_KEY": FAKE_API_KEY}, "not a DANDI instance"),
        (("--dandiset", "000123"), {}, "error: DANDI_API_KEY: not set; expected your DANDI API key"),
    ],
)
def test_bad_arguments_and_a_missing_key_are_one_line_errors(
    batch_output, run_cli, upload_double, monkeypatch, arguments, environment, message
):
    monkeypatch.delenv("DANDI_API_KEY", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    code, out, err = run_cli("upload", batch_output, *arguments)
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1
    assert upload_double == []


@pytest.fixture
def sending_fails(monkeypatch):
    """``dandi.upload.upload`` replaced by a double that fails the test if it is called at all."""
    monkeypatch.setenv("DANDI_API_KEY", FAKE_API_KEY)
    monkeypatch.setattr("dandi.upload.upload", lambda **kwargs: pytest.fail(f"upload called: {kwargs}"))


def copy_of(batch_output, tmp_path):
    import shutil

    return Path(shutil.copytree(batch_output, tmp_path / "nwb", symlinks=True))


def test_the_tools_own_files_beside_the_outputs_are_tolerated(batch_output, tmp_path, run_cli, upload_double):
    folder = copy_of(batch_output, tmp_path)
    assert (folder / "report.html").is_file() and (folder / "batch_report.json").is_file()
    assert len(list(folder.rglob(".*.batch.json"))) == 2  # the batch's sidecars
    (folder / "batch_report.csv").write_text("session,status\n")
    (folder / "sub-mouse-1" / "sub-mouse-1_ses-103991.png").write_bytes(b"\x89PNG")  # the batch's quicklook name
    (folder / "sub-mouse-2" / "sub-mouse-2_ses-103992.nwb.png").write_bytes(b"\x89PNG")  # quicklook's own default
    (folder / ".DS_Store").write_bytes(b"\0")  # dot files are dandi's to skip
    (folder / "000123").mkdir()
    (folder / "000123" / "dandiset.yaml").write_text("identifier: '000123'\n")  # an organized Dandiset inside
    (folder / "000123" / "notes.txt").write_text("not looked at")
    code, out, err = run_cli("upload", folder, "--dandiset", "000123", "--dry-run", "--dandiset-dir", tmp_path / "d")
    assert code == 0, err
    assert "organized 2 NWB file(s)" in out and upload_double == []
    assert sorted(path.name for path in (tmp_path / "d").rglob("*.nwb")) == [
        "sub-mouse-1_ses-103991_icephys+ophys.nwb", "sub-mouse-2_ses-103992_icephys+ophys.nwb",
    ]


@pytest.mark.parametrize("name, folder", [
    (".sub-mouse-1_ses-103991.partial-4242.nwb", False),
    (".sub-mouse-1_ses-103991.nwb.partial-4242.zarr", True),
    (".sub-mouse-1_ses-103991.nwb.previous-4242.zarr", True),
])
def test_a_temporary_output_stops_the_upload_before_anything(batch_output, tmp_path, run_cli, sending_fails, name,
                                                              folder):
    """A conversion still writing (or killed): its outputs are not final, so nothing is organized or sent."""
    outputs = copy_of(batch_output, tmp_path)
    temporary = outputs / "sub-mouse-1" / name
    temporary.mkdir() if folder else temporary.write_bytes(b"half")
    code, out, err = run_cli("upload", outputs, "--dandiset", "000123")
    assert code == 1 and out == "" and err.count("\n") == 1, err
    assert err.startswith(f"error: {temporary}: is the temporary output of a conversion that is running or was killed")
    assert err.rstrip().endswith("nothing was uploaded")
    assert not (tmp_path / "nwb-dandiset-000123").exists()


def test_a_failing_upload_leaves_an_existing_dandiset_folder_as_it_was(batch_output, tmp_path, run_cli,
                                                                       sending_fails):
    outputs = copy_of(batch_output, tmp_path)
    dandiset = tmp_path / "dandiset"
    assert run_cli("upload", outputs, "--dandiset", "000123", "--dry-run", "--dandiset-dir", dandiset)[0] == 0
    before = sorted(path.relative_to(dandiset) for path in dandiset.rglob("*"))
    (outputs / "stray.txt").write_text("x")
    code, _, err = run_cli("upload", outputs, "--dandiset", "000123", "--dandiset-dir", dandiset)
    assert code == 1 and "stray.txt: is not an NWB file" in err
    assert sorted(path.relative_to(dandiset) for path in dandiset.rglob("*")) == before


def test_an_upload_while_a_batch_writes_into_the_folder_is_refused(batch_output, tmp_path, run_cli, sending_fails):
    import fcntl

    outputs = copy_of(batch_output, tmp_path)
    with open(outputs / ".batch.lock", "a") as lock:  # what a running batch holds
        fcntl.flock(lock, fcntl.LOCK_EX)
        code, _, err = run_cli("upload", outputs, "--dandiset", "000123")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"error: {outputs}: a batch is writing into this folder (it holds .batch.lock)")
    assert not (tmp_path / "nwb-dandiset-000123").exists()
    code, out, err = run_cli("upload", outputs, "--dandiset", "000123", "--dry-run")  # the batch has ended
    assert code == 0 and "organized 2 NWB file(s)" in out, err
