"""The metadata blocks an interface adds to NeuroConv's: their schemas, and their defaults.

Most interfaces add one or more top-level blocks (``Icephys``, ``CalciumImaging``, ``GroundTruthUnit``, ...): the
schema of each under NeuroConv's base schema, and their defaults (with what the source records of ``NWBFile`` or
``Subject``) merged into NeuroConv's base metadata. :class:`MetadataBlocksMixin` does both from a table and a method.
"""

from __future__ import annotations

from ..metadata.assembly import deep_update


class MetadataBlocksMixin:
    """Mixin (before NeuroConv's interface base class) for an interface that adds top-level metadata blocks.

    A subclass names its blocks' schemas in :attr:`metadata_blocks` and returns their defaults from
    :meth:`default_metadata`; :meth:`get_metadata_schema` and :meth:`get_metadata` add them to what NeuroConv's base
    class returns.
    """

    #: Top-level metadata key → the JSON schema of its block.
    metadata_blocks: dict[str, dict] = {}

    def get_metadata_schema(self) -> dict:
        """Add the interface's :attr:`metadata_blocks` to NeuroConv's base schema."""
        schema = super().get_metadata_schema()
        schema["properties"].update(self.metadata_blocks)
        return schema

    def get_metadata(self) -> dict:
        """Return NeuroConv's base metadata with the interface's :meth:`default_metadata` merged in."""
        return deep_update(super().get_metadata(), self.default_metadata())

    def default_metadata(self) -> dict:
        """The defaults of the interface's blocks, and what its source records (session id, subject, ...)."""
        return {}
