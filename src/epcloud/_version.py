"""The package version: pyproject.toml reads it from here (`[tool.setuptools.dynamic]`), so there is one."""

__version__ = "0.1.0"
