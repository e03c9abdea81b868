"""Learning rules that turn gradients into tile programming."""

from .insitu_sgd import InSituSGD

__all__ = ["InSituSGD"]
