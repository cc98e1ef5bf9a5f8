"""Small, strict low-level readers shared by the interfaces. Each raises SourceFormatError on bad input."""
