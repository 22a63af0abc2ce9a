"""Translation that also works outside a request (command line, scheduler): French there."""

from i18n import _

__all__ = ["_"]
