"""Neuropixels Opto (Steinmetz lab): one ALF session folder."""
