"""Every byte written: chunk layout and filters, the parallel chunk writer and its encoders, page-cache
recycling, atomic output, and the HDF5 and Zarr backends. Imports only ``errors`` and the package root."""
