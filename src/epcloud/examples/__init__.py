"""Models and studies epcloud ships for its demo and tests."""

from epcloud.examples.shoebox import Shoebox

__all__ = ["Shoebox"]
