"""SSC-11 (Peron et al. 2020): the release layout and the ``sess`` struct's imaging and behaviour."""
