"""What happens to a finished file: the nwbinspector gate, the DANDI upload and the batch report."""
