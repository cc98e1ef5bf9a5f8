"""The text lines of a Word ``.docx`` file: every body paragraph, then every table cell.

The document's XML is read directly from the zip (``zipfile`` + ``lxml`` with entities left unresolved, no DTD, no
network), its size bounded, so a damaged or hostile file is one :class:`~nwb_conversions.errors.SourceFormatError`.
lxml is imported when a file is read.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ..errors import SourceFormatError
from .source_access import printable, read_source_bytes

#: Largest ``.docx`` read, and largest main document XML in it (a page of text is a few kilobytes).
MAX_DOCX_BYTES = 32 * 1024 * 1024
MAX_DOCUMENT_XML_BYTES = 16 * 1024 * 1024

#: WordprocessingML's namespace and the relationship type of a package's main document.
WORD_NAMESPACE = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
OFFICE_DOCUMENT_RELATIONSHIP = "/officeDocument"


def _main_document_part(archive: zipfile.ZipFile) -> str:
    """The package's main document (``word/document.xml`` in every Word file; the package relationships say)."""
    from lxml import etree

    names = set(archive.namelist())
    if "_rels/.rels" in names and archive.getinfo("_rels/.rels").file_size <= MAX_DOCUMENT_XML_BYTES:
        relationships = etree.fromstring(archive.read("_rels/.rels"), parser=_xml_parser())
        for relationship in relationships:
            if str(relationship.get("Type", "")).endswith(OFFICE_DOCUMENT_RELATIONSHIP):
                target = str(relationship.get("Target", "")).lstrip("/")
                if target in names:
                    return target
    return "word/document.xml"


def _xml_parser():
    """An lxml parser that resolves no entity, loads no DTD and reads nothing from the network."""
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False)


def _paragraph_text(paragraph) -> str:
    """A ``w:p``'s text as Word shows it: runs' text, tabs as ``\\t``, line breaks as ``\\n``."""
    tags = [f"{WORD_NAMESPACE}{name}" for name in ("t", "tab", "br", "cr")]
    pieces = []
    for element in paragraph.iter(*tags):
        if element.tag == tags[0]:
            pieces.append(element.text or "")
        else:
            pieces.append("\t" if element.tag == tags[1] else "\n")
    return "".join(pieces)


def read_docx_lines(file_path: str | Path, *, expected: str, document: str = "a text document") -> list[str]:
    """Return the text lines of a ``.docx``: every body paragraph, then every table cell, split at line breaks.

    Parameters
    ----------
    file_path : str or Path
    expected : str
        What the file should be, for the messages (e.g. ``"a READ ME.docx with 'key = value' lines"``).
    document : str, default: "a text document"
        What the document is, for the message on an oversized document part (e.g. ``"a READ ME"``).

    Raises
    ------
    SourceFormatError
        If the file cannot be read, is larger than :data:`MAX_DOCX_BYTES`, or is not a Word document (a zip with a
        well-formed main document of at most :data:`MAX_DOCUMENT_XML_BYTES`).
    """
    from lxml import etree

    file_path = Path(file_path)
    content = read_source_bytes(file_path, expected, max_bytes=MAX_DOCX_BYTES)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            part = _main_document_part(archive)
            if archive.getinfo(part).file_size > MAX_DOCUMENT_XML_BYTES:
                raise SourceFormatError(file_path, f"{printable(part)} is larger than {document} can be", expected)
            root = etree.fromstring(archive.read(part), parser=_xml_parser())
        body = root.find(f"{WORD_NAMESPACE}body")
        if body is None:
            raise SourceFormatError(file_path, f"{printable(part)} has no document body", expected)
        texts = [_paragraph_text(paragraph) for paragraph in body.findall(f"{WORD_NAMESPACE}p")]
        texts += [
            "\n".join(_paragraph_text(paragraph) for paragraph in cell.findall(f"{WORD_NAMESPACE}p"))
            for cell in body.iter(f"{WORD_NAMESPACE}tc")
        ]
    except SourceFormatError:
        raise
    except Exception as exc:  # zipfile, zlib and lxml raise many types for damaged files
        raise SourceFormatError(
            file_path, f"not a readable Word document ({exc.__class__.__name__})", expected
        ) from None
    return [line for text in texts for line in text.splitlines()]

