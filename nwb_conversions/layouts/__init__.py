"""Per-dataset on-disk layouts: how one dataset's release arranges its files, read through the generic
format readers of :mod:`nwb_conversions.readers`. Imports only ``readers``, ``errors`` and ``resources``."""
