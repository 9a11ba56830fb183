"""The exception hierarchy of fashiondata.

Every error the library raises on purpose is a :class:`FashionDataError`; the CLI turns it (and
``OSError``) into one line ``error: FILE: LOCATION: reason`` and exit code 2.
"""

from __future__ import annotations


class FashionDataError(Exception):
    """Base of every error fashiondata raises on purpose."""


class FormatError(FashionDataError):
    """A format name or a file's format could not be resolved."""


class UnknownFormatError(FormatError):
    """No registered format has this name, or no format recognises this path."""


class AmbiguousFormatError(FormatError):
    """More than one registered format recognises this path."""


class ParseError(FashionDataError):
    """An input file is malformed.

    Args:
        path: the file that failed.
        reason: what is wrong, in words.
        location: where in the file: ``line 3``, a JSON pointer ``/annotations/7/bbox`` or an XML
            element ``/annotation/object[2]/bndbox``.
    """

    def __init__(self, path: object, reason: str, location: str | None = None) -> None:
        self.path = str(path)
        self.reason = reason
        self.location = location
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [self.path]
        if self.location:
            parts.append(self.location)
        parts.append(self.reason)
        return ": ".join(parts)

    def __reduce__(self):  # keep the three fields across process boundaries
        return (type(self), (self.path, self.reason, self.location))


class ValidationError(FashionDataError):
    """An invariant of the canonical model does not hold."""


class LossyConversionError(FashionDataError):
    """A writer cannot hold something and ``strict=True`` forbids the documented transform."""


class OutputExistsError(FashionDataError):
    """The destination exists and is not empty, and ``overwrite`` was not given."""


class MissingDependencyError(FashionDataError):
    """An optional dependency is needed: the message says which extra to install."""

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(f"{module} is needed for this: pip install 'fashiondata[{extra}]'")

    def __reduce__(self):
        return (type(self), (self.module, self.extra))
