"""Running experiments: configs, run folders, seeds, statistics, the training loop, sweeps and reports."""

from .config import StudyConfig, describe_config, load_config, parse_overrides
from .seeds import derive_seed, stream
from .stats import mean_std
from .store import Results, RunStore, default_run_dir, write_csv
from .study import Experiment, execute

__all__ = [
    "Experiment",
    "Results",
    "RunStore",
    "StudyConfig",
    "default_run_dir",
    "derive_seed",
    "describe_config",
    "execute",
    "load_config",
    "mean_std",
    "parse_overrides",
    "stream",
    "write_csv",
]
