"""The project's exceptions: one root, a few specific kinds.

Library code raises these for anything the user can fix (a path, a column, a
value); the CLI prints ``error: <message>`` and exits with status 2.
"""

__all__ = [
    "GeoError",
    "InputError",
    "SchemaError",
    "CRSError",
    "GeometryError",
    "JoinError",
    "ModelError",
    "OptionError",
    "ResultError",
]


class GeoError(Exception):
    """Root of every error `geo` raises for bad input or an impossible request."""


class InputError(GeoError):
    """A file is missing, empty, unreadable or malformed, or an output path is unusable."""


class SchemaError(GeoError):
    """A table lacks a named column, or a column holds values of the wrong kind."""


class CRSError(GeoError):
    """A coordinate reference system is missing or unusable."""


class GeometryError(GeoError):
    """Geometries are invalid, empty or of the wrong type."""


class JoinError(GeoError):
    """Rows could not be matched to units (strict joins), or keys are duplicated."""


class ModelError(GeoError):
    """A model cannot be fitted: singular design, no convergence, bad weights."""


class OptionError(GeoError, ValueError):
    """An option has a value outside the allowed choices."""


class ResultError(GeoError):
    """A result is not a finite number (overflow, degenerate input): it is neither printed nor written."""


def check_choice(name: str, value, allowed) -> None:
    """Raise OptionError naming the option, the value received and the choices."""
    allowed = tuple(allowed)
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise OptionError(f"{name}={value!r} is not one of {choices}")
