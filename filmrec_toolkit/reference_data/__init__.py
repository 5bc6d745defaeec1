"""Package data: published reference results (``published.csv``)."""
