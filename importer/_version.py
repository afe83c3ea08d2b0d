"""The package version, in a module of its own: the client's User-Agent needs it without
importing the package's public face (which would import the client: a cycle)."""

__version__ = "0.1.0"
