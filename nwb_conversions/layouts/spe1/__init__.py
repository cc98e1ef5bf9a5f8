"""SPE-1 (Marques-Smith et al. 2018): the Data Summary sheet and ``cNN_expt_meta.csv``."""
