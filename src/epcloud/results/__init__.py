"""A finished run's outputs: the result, its SQL database, .err report, tabular reports and series."""
