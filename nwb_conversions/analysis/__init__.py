"""Analyses a conversion runs on the source data: juxtacellular spike detection, optogenetic response."""
