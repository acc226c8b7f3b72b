"""Transitional: the names that lived here are in :mod:`.verdict`, :mod:`.compare` and :mod:`.engine`."""

from .compare import RTOL, as_numbers, close, diagnose, fmt  # noqa: F401
from .engine import *  # noqa: F403
from .engine import DELEGATION, plain, watch_calls  # noqa: F401
from .verdict import CODES, GENERIC_CAUSES, CheckFailure, Raised, Verdict  # noqa: F401
