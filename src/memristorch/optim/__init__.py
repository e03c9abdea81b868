"""Learning rules that turn gradients into tile programming."""

from .insitu_sgd import InSituSGD
from .metaplastic import MetaplasticAdam, tanh_attenuation
from .pulse_adam import PulseAdam

__all__ = ["InSituSGD", "MetaplasticAdam", "PulseAdam", "tanh_attenuation"]
