"""The package's own error types: what a user's input did wrong, as opposed to a bug.

The CLIs print an :class:`InputError` (and the file errors the OS raises for a path the user named) on one line with
exit status 2; any other exception is a bug in the package and keeps its traceback (:mod:`infogan.cli`). Both
subclass ``ValueError``, so code that caught ``ValueError`` before still does.
"""


class InputError(ValueError):
    """Bad input from the user: a flag, a file, a data set, an argument of the Python API. The message names the
    problem and the fix."""


class SettingsError(InputError):
    """A bad model setting (:mod:`infogan.config`): the message names the flag and what would be accepted."""
