"""Running experiments: configs, run folders, results."""

from .config import load_config, parse_overrides
from .store import Results, default_run_dir, save_results, write_csv

__all__ = ["Results", "default_run_dir", "load_config", "parse_overrides", "save_results", "write_csv"]
