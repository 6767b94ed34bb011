"""Kept so that ``from epcloud.examples import Shoebox`` still works; the model lives in ``epcloud.model``."""

from epcloud.model.shoebox import Shoebox

__all__ = ["Shoebox"]
