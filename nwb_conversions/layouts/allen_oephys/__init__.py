"""Allen Dataset II (Ledochowitsch et al. 2019): one ``<recording_id>.h5`` recording."""
