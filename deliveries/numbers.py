"""How numbers read on every page: a leaf module, imported by any layer."""

from django.utils.formats import number_format


def grouped(number: int) -> str:
    """250000 as the viewer's language writes it: 250,000 in English."""
    return number_format(number, force_grouping=True)
