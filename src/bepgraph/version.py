"""The package's version, in a module of its own so the CLI can say it without importing the public API."""

__all__ = ["__version__"]

__version__ = "0.1.0"
