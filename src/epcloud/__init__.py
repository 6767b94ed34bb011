"""epcloud: run EnergyPlus simulations locally, in batches and in the cloud."""

from typing import TYPE_CHECKING

from epcloud._lazy import lazy_exports
from epcloud._version import __version__
from epcloud.errors import (
    AmbiguousObjectError,
    CorruptResultError,
    DuplicateNameError,
    EnergyPlusNotFoundError,
    EpcloudError,
    EpJSONSyntaxError,
    IDFSyntaxError,
    ModelError,
    ModelFileNotFoundError,
    ObjectNotFoundError,
    ParseError,
    ResultNotFoundError,
    SimulationError,
    StorageError,
    StoragePathError,
    StoragePermissionError,
    UnknownFieldError,
    UnknownObjectTypeError,
    VersionMismatchError,
    WeatherFileNotFoundError,
)

if TYPE_CHECKING:
    from epcloud.model import IDFDocument, IDFObject, Shoebox, load_epjson, load_idf, new_document
    from epcloud.study import Study

# Models and studies load on first use: `import epcloud` costs the errors module and nothing else.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        **dict.fromkeys(
            ("IDFDocument", "IDFObject", "Shoebox", "load_epjson", "load_idf", "new_document"),
            "epcloud.model",
        ),
        "Study": "epcloud.study",
    },
    globals(),
)

__all__ = [
    "AmbiguousObjectError",
    "CorruptResultError",
    "DuplicateNameError",
    "EnergyPlusNotFoundError",
    "EpJSONSyntaxError",
    "EpcloudError",
    "IDFDocument",
    "IDFObject",
    "IDFSyntaxError",
    "ModelError",
    "ModelFileNotFoundError",
    "ObjectNotFoundError",
    "ParseError",
    "ResultNotFoundError",
    "Shoebox",
    "SimulationError",
    "StorageError",
    "StoragePathError",
    "StoragePermissionError",
    "Study",
    "UnknownFieldError",
    "UnknownObjectTypeError",
    "VersionMismatchError",
    "WeatherFileNotFoundError",
    "__version__",
    "load_epjson",
    "load_idf",
    "new_document",
]
