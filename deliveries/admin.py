"""The studio contacts' admin: each feature registers its own models."""

from .partners import admin as partners_admin  # noqa: F401
from .people import admin as people_admin  # noqa: F401
from .requests import admin as requests_admin  # noqa: F401
