"""EnergyPlus models: IDF and epJSON read and written with the field names of the engine's schema."""

from epcloud.model.collection import ObjectCollection
from epcloud.model.document import IDFDocument
from epcloud.model.load import load_epjson, load_idf, new_document
from epcloud.model.objects import IDFObject
from epcloud.model.schema import ObjectSpec, Schema, get_schema
from epcloud.model.shoebox import Shoebox

__all__ = [
    "IDFDocument",
    "IDFObject",
    "ObjectCollection",
    "ObjectSpec",
    "Schema",
    "Shoebox",
    "get_schema",
    "load_epjson",
    "load_idf",
    "new_document",
]
