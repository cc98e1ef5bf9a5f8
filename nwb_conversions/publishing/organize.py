"""The local steps of an upload: the Dandiset folder, ``dandi organize`` (symlinks) and ``dandi validate``.

Nothing here goes over the network. A failing step leaves nothing behind (a Dandiset folder made for this upload
is removed again) and says in one line that nothing was uploaded.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import ConversionError
from .gate import one_line
from .upload_scan import NOTHING_SENT

#: Written at the top of the ``dandiset.yaml`` this tool creates.
DANDISET_YAML_HEADER = (
    "# Written by convert-to-nwb upload to mark this folder as the Dandiset's: only the identifier is here; the\n"
    "# Dandiset's metadata lives on the archive (download it with `dandi download` to edit it locally).\n"
)


def prepare_dandiset_folder(dandiset_path: Path, dandiset_id: str) -> None:
    """Create the local Dandiset folder with its ``dandiset.yaml``, and drop symlinks a previous run left dangling.

    Raises
    ------
    ConversionError
        If the folder already belongs to another Dandiset.
    """
    import yaml

    dandiset_path.mkdir(parents=True, exist_ok=True)
    metadata_file = dandiset_path / "dandiset.yaml"
    if metadata_file.exists():
        try:
            identifier = str((yaml.safe_load(metadata_file.read_text(encoding="utf-8")) or {}).get("identifier", ""))
        except (OSError, ValueError, AttributeError, yaml.YAMLError):
            raise ConversionError(
                f"{metadata_file}: is not a dandiset.yaml with an identifier; expected the folder of Dandiset "
                f"{dandiset_id}, or another --dandiset-dir; {NOTHING_SENT}"
            ) from None
        if identifier.removeprefix("DANDI:") != dandiset_id:
            raise ConversionError(
                f"{metadata_file}: belongs to Dandiset {identifier or '(none)'}; expected {dandiset_id}, or another "
                f"--dandiset-dir; {NOTHING_SENT}"
            )
    else:
        metadata_file.write_text(DANDISET_YAML_HEADER + f"identifier: '{dandiset_id}'\n", encoding="utf-8")
    for link in dandiset_path.rglob("*.nwb"):
        if link.is_symlink() and not link.exists():
            link.unlink()


def organize(files: list[Path], dandiset_path: Path) -> list[Path]:
    """``dandi organize`` the files into the Dandiset folder as symlinks; return the organized files.

    Raises
    ------
    ConversionError
        If a file lacks what DANDI names files by (subject id, session id), or a name is taken by another file.
    """
    from dandi.organize import FileOperationMode, OrganizeInvalid
    from dandi.organize import organize as dandi_organize

    try:
        dandi_organize(
            [str(path) for path in files],
            dandiset_path=str(dandiset_path),
            invalid=OrganizeInvalid.FAIL,
            files_mode=FileOperationMode.SYMLINK,
            jobs=1,
        )
    except Exception as error:  # dandi's refusals (ValueError, AssertionError) and failures: one line
        raise ConversionError(
            f"{dandiset_path}: dandi organize failed ({one_line(str(error), 300)}); expected every file to name its "
            f"subject (Subject/subject_id: a sessions table column) and a free place in the Dandiset; {NOTHING_SENT}"
        ) from None
    return sorted(path for path in dandiset_path.rglob("*.nwb") if not path.name.startswith("."))


def validate(organized: list[Path]) -> list[str]:
    """``dandi validate`` every organized file; return the warnings.

    Raises
    ------
    ConversionError
        On the first ERROR (or worse): the file and why, and how many errors there are in all.
    """
    from dandi.validate import Severity
    from dandi.validate._core import validate as dandi_validate

    try:
        results = list(dandi_validate(*[str(path) for path in organized]))
    except Exception as error:  # a validator's own failure: one line, nothing sent
        raise ConversionError(
            f"{organized[0].parent}: dandi validate failed ({type(error).__name__}: {one_line(str(error), 300)}); "
            f"expected files dandi can validate; {NOTHING_SENT}"
        ) from None
    errors = [result for result in results if result.severity is not None and result.severity >= Severity.ERROR]
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more error(s))" if len(errors) > 1 else ""
        where = Path(first.path).resolve() if first.path else first.purview  # the output, not its organized link
        raise ConversionError(
            f"{where}: dandi validate: {first.id}: {one_line(first.message or '', 300)}{more}; "
            "expected no validation error: nothing was uploaded"
        )
    return [
        f"{result.path}: {result.id}: {one_line(result.message or '', 200)}"
        for result in results
        if result.severity is not None and result.severity >= Severity.WARNING
    ]


def organized_and_validated(files: list[Path], dandiset_path: Path, dandiset_id: str) -> tuple[list[Path], list[str]]:
    """Organize ``files`` into the Dandiset folder and validate them; return the organized files and the warnings.
    A Dandiset folder this call created is removed again if either step fails.

    Raises
    ------
    ConversionError
    """
    created = not (dandiset_path.exists() or dandiset_path.is_symlink())
    try:
        prepare_dandiset_folder(dandiset_path, dandiset_id)
        organized = organize(files, dandiset_path)
        return organized, validate(organized)
    except BaseException:
        if created:
            shutil.rmtree(dandiset_path, ignore_errors=True)  # symlinks and dandiset.yaml: the outputs stay
        raise
