"""Circuit cross-check: netlist export and ngspice runs."""

from .netlist import Drive, mss_netlist, pwl_source
from .network import CrossbarLayer, network_netlist, simulate_network
from .ngspice import ngspice_available, simulate_mss

__all__ = [
    "CrossbarLayer",
    "network_netlist",
    "simulate_network",
    "Drive",
    "mss_netlist",
    "ngspice_available",
    "pwl_source",
    "simulate_mss",
]
