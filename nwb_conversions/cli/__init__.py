"""The ``convert-to-nwb`` command."""
