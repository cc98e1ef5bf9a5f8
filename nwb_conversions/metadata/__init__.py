"""Session metadata: assembly in precedence order (source, dataset YAML, session tables, user file) and the
sessions table of a batch."""
