"""The ``memristorch`` command line: run experiments, list what exists, preview devices."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Neural networks on simulated memristive hardware.", no_args_is_help=True)
devices_app = typer.Typer(help="Device presets.", no_args_is_help=True)
app.add_typer(devices_app, name="devices")
console = Console()


def _fail(message: str) -> None:
    console.print("[red]error:[/red]", end=" ")
    console.print(message, soft_wrap=True, highlight=False, markup=False)
    raise typer.Exit(code=2)


def _flatten(mapping: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name} / "))
        else:
            flat[name] = value
    return flat


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _overrides(config: Path | None, set_: list[str] | None, data_dir: Path | None) -> dict:
    from .runner.config import merge_overrides, parse_overrides, read_config_file

    data = read_config_file(config) if config is not None else {}
    data = merge_overrides(data, parse_overrides(set_))
    if data_dir is not None:
        data["data_dir"] = str(data_dir)
    return data


#: errors that are the user's input, not a bug: reported in one line, exit status 2
USER_ERRORS = (ValueError, TypeError, OSError)


@app.command()
def run(
    experiment: str = typer.Argument(..., help="experiment name (see `memristorch list`)"),
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML file of config fields"),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="run folder (default runs/<experiment>-<time>)"
    ),
    set_: list[str] | None = typer.Option(
        None, "--set", "-s", help="override a config field: key=value, dotted for nested (a.b=value)"
    ),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="data folder (else $MEMRISTORCH_DATA)"),
    resume: bool = typer.Option(False, "--resume", help="continue the interrupted run in --out"),
    overwrite: bool = typer.Option(False, "--overwrite", help="start over in --out, deleting its old run"),
) -> None:
    """Run an experiment; write results.json, CSV tables and PNG figures into the run folder.

    `memristorch config EXPERIMENT` lists every field it accepts.
    """
    from .experiments import get_experiment
    from .runner.config import load_config
    from .runner.store import default_run_dir
    from .runner.study import execute

    try:
        spec = get_experiment(experiment)
        cfg = load_config(spec.config, overrides=_overrides(config, set_, data_dir))
        if resume and out is None:
            raise ValueError("--resume needs --out pointing at the interrupted run folder")
        run_dir = out or default_run_dir(experiment)
        console.print(f"[bold]{experiment}[/bold] → {run_dir}")
        results, path = execute(spec, cfg, run_dir, resume=resume, overwrite=overwrite)
    except USER_ERRORS as error:
        _fail(str(error))
    table = Table(title=f"{experiment}: summary")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for key, value in _flatten(results.summary).items():
        table.add_row(key, _format(value))
    console.print(table)
    console.print(f"results: {path}")


@app.command("config")
def config_(experiment: str = typer.Argument(..., help="experiment name (see `memristorch list`)")) -> None:
    """List every config field of an experiment: type, default, allowed values or range, and what it does."""
    from .experiments import get_experiment
    from .runner.config import describe_config

    try:
        spec = get_experiment(experiment)
    except USER_ERRORS as error:
        _fail(str(error))
    console.print(f"[bold]{experiment}[/bold]: {spec.description}")
    console.print("set with -s field=value (nested: -s a.b=value), or in a YAML file given to --config\n")
    for row in describe_config(spec.config):
        console.print(f"[bold]{row['field']}[/bold]: {row['type']} = {row['default']}", highlight=False)
        if row["allowed"]:
            console.print(f"    allowed: {row['allowed']}", highlight=False, markup=False)
        if row["doc"]:
            console.print(f"    {row['doc']}", highlight=False, markup=False)


def _seed_list(text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"--seeds takes a count (3) or a list (0,4,7), got {text!r}") from None
    if len(numbers) == 1 and "," not in text:
        if not 1 <= numbers[0] <= 1000:
            raise ValueError(f"--seeds count must lie in [1, 1000], got {numbers[0]}")
        return list(range(numbers[0]))
    if not numbers or any(n < 0 for n in numbers):
        raise ValueError(f"--seeds list entries must be non-negative integers, got {text!r}")
    return numbers


@app.command()
def sweep(
    experiment: str = typer.Argument(..., help="experiment name (see `memristorch list`)"),
    out: Path = typer.Option(..., "--out", "-o", help="sweep folder (one run folder per point inside)"),
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML file of base config fields"),
    set_: list[str] | None = typer.Option(None, "--set", "-s", help="base override: key=value (a.b=value)"),
    grid: list[str] | None = typer.Option(None, "--grid", "-g", help="swept field: key=v1,v2,… (repeatable)"),
    seeds: str = typer.Option("3", "--seeds", help="seed count (3 → 0,1,2) or a list (0,4,7)"),
    jobs: int = typer.Option(1, "--jobs", "-j", help="points run at once"),
    backend: str = typer.Option("local", help="local (processes) or ray"),
    address: str | None = typer.Option(None, help="address of an existing Ray cluster (with --backend ray)"),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="data folder (else $MEMRISTORCH_DATA)"),
    resume: bool = typer.Option(False, "--resume", help="keep finished points, rerun the others"),
    overwrite: bool = typer.Option(False, "--overwrite", help="start the sweep over in --out"),
) -> None:
    """Run an experiment over a grid of settings × seeds; aggregate mean ± std over seeds into CSV, Markdown, PNG."""
    from .runner.sweep import parse_grid, run_sweep

    try:
        result = run_sweep(
            experiment,
            out,
            base=_overrides(config, set_, data_dir),
            grid=parse_grid(grid),
            seeds=_seed_list(seeds),
            jobs=jobs,
            backend=backend,
            address=address,
            resume=resume,
            overwrite=overwrite,
        )
    except USER_ERRORS as error:
        _fail(str(error))
    console.print((out / "aggregate.md").read_text(), markup=False)
    console.print(f"sweep: {out}  ({len(result['points'])} points, {result['wall_time_s']:.1f} s)")


@app.command()
def report(
    folders: list[Path] = typer.Argument(..., help="run or sweep folders"),
    out: Path = typer.Option(
        Path("report.html"), "--out", "-o", help="HTML file (a Markdown twin beside it)"
    ),
    title: str = typer.Option("memristorch report", help="page title"),
) -> None:
    """One self-contained HTML page (figures embedded) and a Markdown twin of run and sweep folders."""
    from .runner.report import write_report

    try:
        html_path, md_path = write_report(folders, out, title=title)
    except USER_ERRORS as error:
        _fail(str(error))
    console.print(f"report: {html_path}  (Markdown: {md_path})")


@app.command("list")
def list_(
    names: bool = typer.Option(False, "--names", help="print only the experiment names, one a line"),
) -> None:
    """List experiments and device presets."""
    from .devices import PRESETS
    from .experiments import EXPERIMENTS

    if names:
        for name in EXPERIMENTS:
            print(name)
        return

    console.print(
        _two_column_table(
            "experiments", ("name", "description"), ((e.name, e.description) for e in EXPERIMENTS.values())
        )
    )
    console.print(
        _two_column_table(
            "device presets", ("name", "description"), ((p.name, p.description) for p in PRESETS.values())
        )
    )


def _two_column_table(title: str, headers: tuple[str, str], rows) -> Table:
    table = Table(title=title)
    table.add_column(headers[0])
    table.add_column(headers[1])
    for first, second in rows:
        table.add_row(first, second)
    return table


@app.command()
def fit(
    data: Path = typer.Argument(
        ...,
        help="CSV. --family mss: time_s,voltage_v,current_a (a sweep: s, V, A) or pulse,conductance_s (pulse = "
        "polarity +1 SET / −1 RESET / 0 first read; S). --family pulsed: device,cycle,polarity,conductance_s "
        "(one read per row, after one pulse of that polarity; 0 = a cycle's first read; S)",
    ),
    out: Path = typer.Option(Path("fitted-preset.yaml"), "--out", "-o", help="preset file to write"),
    family: str = typer.Option("mss", help="model family to fit: mss (metastable switch) or pulsed"),
    response: str = typer.Option("soft_bounds", help="--family pulsed: soft_bounds or linear"),
    base: str = typer.Option(
        "knowm-reference",
        help="preset whose settings (pulses, T, φ) frame the fit (mss; pulsed: its pulse settings)",
    ),
    max_evaluations: int = typer.Option(200, help="model evaluations the optimizer may spend (mss)"),
) -> None:
    """Fit a device model to measurements and write a preset file the other commands accept."""
    from .devices import get_device
    from .devices.fit import FITTED, fit_mss, read_measurement, write_preset

    if family == "pulsed":
        _fit_pulsed(data, out, response, None if base == "knowm-reference" else base)
        return
    if family != "mss":
        _fail(f"family must be 'mss' or 'pulsed', got {family!r}")
    try:
        device = get_device(base)
        if not hasattr(device, "hold"):
            raise ValueError(f"base must be a metastable-switch preset, got {base!r}")
        measurement = read_measurement(data)
        result = fit_mss(measurement, device.params, max_evaluations)
    except USER_ERRORS as error:
        _fail(str(error))
    note = f"fitted by memristorch fit to {data.name} ({measurement.kind}); RMS relative error {result.rms_relative_error:.3g}"
    path = write_preset(out, result.params, note)
    table = Table(title=f"fit of {data.name} ({measurement.kind})")
    table.add_column("parameter")
    table.add_column("value", justify="right")
    for name in FITTED:
        table.add_row(name, _format(getattr(result.params, name)))
    table.add_row("x_init", _format(result.x0))
    table.add_row(
        "RMS relative error (start → fit)",
        f"{result.initial_rms_relative_error:.3g} → {result.rms_relative_error:.3g}",
    )
    console.print(table)
    console.print(f"preset: {path}  (use it as --set device={path} or materials=[{path}])", markup=False)


def _fit_pulsed(data: Path, out: Path, response: str, base: str | None) -> None:
    from .devices import PulsedDevice, get_device
    from .devices.fit import write_preset
    from .devices.fit_pulsed import fit_pulsed, read_pulse_traces

    try:
        base_params = None
        if base is not None:
            device = get_device(base)
            if not isinstance(device, PulsedDevice):
                raise ValueError(f"base must be a pulsed-family preset for --family pulsed, got {base!r}")
            base_params = device.params
        result = fit_pulsed(read_pulse_traces(data), response, base_params)
    except USER_ERRORS as error:
        _fail(str(error))
    note = (
        f"fitted by memristorch fit --family pulsed to {data.name} ({response}); "
        f"RMS relative step residual {result.rms_relative_error:.3g}"
    )
    path = write_preset(out, result.params, note)
    table = Table(title=f"pulsed-family fit of {data.name} ({response})")
    table.add_column("parameter")
    table.add_column("value", justify="right")
    for name in ("g_min_s", "g_max_s", "n_states", "asymmetry", "d2d_step_std", "d2d_bounds_std", "c2c_std"):
        table.add_row(name, _format(getattr(result.params, name)))
    console.print(table)
    console.print(f"preset: {path}  (use it as --set device={path})", markup=False)


@devices_app.command("show")
def devices_show(
    preset: str = typer.Argument(..., help="device preset name"),
    out: Path = typer.Option(Path("runs/devices"), "--out", "-o", help="folder for the figure"),
    devices: int = typer.Option(8, help="how many devices (D2D samples) to draw"),
    pulses: int | None = typer.Option(None, help="pulses per direction (default: the preset's n_states)"),
    seed: int = typer.Option(0),
) -> None:
    """Plot the preset's response to a potentiation-then-depression pulse train, and print its parameters."""
    from .devices import get_device
    from .devices.response import pulse_train_response
    from .plots import pulse_response

    try:
        device = get_device(preset)
    except USER_ERRORS as error:
        _fail(str(error))
    n = pulses or getattr(getattr(device, "params", None), "n_states", 100)
    numbers, g = pulse_train_response(device, n_devices=devices, n_pulses=n, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{Path(preset).stem if preset.endswith(('.yaml', '.yml')) else preset}.png"
    fig = pulse_response(numbers, g, f"{preset}: {devices} devices")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    table = Table(title=f"device preset {preset}")
    table.add_column("parameter")
    table.add_column("value", justify="right")
    for key, value in getattr(device, "params", device).__dict__.items():
        table.add_row(key, _format(value))
    console.print(table)
    console.print(f"figure: {path}")


if __name__ == "__main__":
    app()
