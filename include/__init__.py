"""The package's SQL and data files (``sql/``, ``quality/``), shipped inside the package as ``elgoose.include``."""
