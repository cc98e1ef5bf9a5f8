"""nwb_conversions: convert public neuroscience datasets from their original files into validated NWB."""

__version__ = "0.1.0"
