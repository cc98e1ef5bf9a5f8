"""nwb_conversions: convert public neuroscience datasets from their original files into validated NWB.

Importing the package loads nothing heavy: the command line imports each library (pynwb, NeuroConv, h5py, a
dataset's readers) when a command first needs it.
"""

__version__ = "0.1.0"

#: The ``--compression`` choices (see :func:`nwb_conversions.writing.plan.h5py_filter_options`); defined here, free of
#: imports, so that building the command line does not load the writer's libraries.
COMPRESSION_CHOICES = ("gzip", "max", "zstd", "none")
