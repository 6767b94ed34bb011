"""The run directory's own formats, written by a run and read by results: the status file and gzip."""
