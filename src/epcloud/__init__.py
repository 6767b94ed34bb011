"""epcloud: run EnergyPlus simulations locally, in batches and in the cloud."""

from epcloud._version import __version__

__all__ = ["__version__"]
