"""The version of ipvkg, in one place (the package, the command and the dataset description read it)."""

__version__ = "0.1.0"
