"""The exceptions of tinyreg.data: a data file is missing, damaged, or not what it claims to be.

``DataError`` subclasses ``ValueError`` (a bad file is a bad value); ``DataNotFoundError`` also
subclasses ``FileNotFoundError``, so code written against the built-in exceptions keeps working.
The command line catches ``DataError`` and prints its message, which names the file or directory
and the rule it broke.
"""


class DataError(ValueError):
    """A data file is damaged or is not the data it should be (IDX structure, size, checksum)."""


class DataNotFoundError(DataError, FileNotFoundError):
    """The data files are not in the directory searched; the message says how to get them."""
