"""The report: one self-contained HTML page with every figure, table, config and provenance, and a Markdown twin."""

import json
import re
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

from memristorch.cli import app
from memristorch.runner.sweep import run_sweep

runner = CliRunner()
TINY = ["-s", "epochs=2", "-s", "hidden=[16]", "-s", "train_subset=300"]


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.tables, self.open = [], 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        if tag == "table":
            self.tables += 1
        if tag not in ("img", "meta", "br"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, (tag, self.open[-5:])
        self.open.pop()


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    run = root / "run"
    assert runner.invoke(app, ["run", "insitu-mlp", *TINY, "--out", str(run)]).exit_code == 0
    sweep = root / "sweep"
    run_sweep(
        "insitu-mlp",
        sweep,
        base={"epochs": 2, "hidden": [16], "train_subset": 300},
        grid={"lr": [0.05, 0.1]},
        seeds=[0, 1],
        progress=False,
    )
    return root, run, sweep


def test_report_embeds_every_figure_table_config_and_provenance(folders):
    root, run, sweep = folders
    out = root / "report.html"
    result = runner.invoke(app, ["report", str(run), str(sweep), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    parser = _Collect()
    parser.feed(page)
    assert parser.open == []  # every tag closed: one well-formed page
    document = json.loads((run / "results.json").read_text())
    expected_figures = len(document["figures"]) + len(
        json.loads((sweep / "sweep-results.json").read_text())["figures"]
    )
    assert len(parser.images) == expected_figures >= 3
    assert all(src.startswith("data:image/png;base64,") and len(src) > 5000 for src in parser.images)
    assert not re.search(r'src="(?!data:)', page)  # nothing outside the page: self-contained
    for column in ("insitu_test_accuracy", "float_test_accuracy"):  # the history table
        assert column in page
    for field in ("device_overrides", "w_max", "rounding"):  # the validated config
        assert field in page
    for key in ("memristorch", "git_commit", "torch", "python", "cpu_count", "wall_time_s", "config seed"):
        assert key in page
    assert "Claims of the seed study" in page and "In-situ training on soft-bounds devices" in page
    assert "Aggregate (mean ± sample std over seeds" in page and "test_accuracy_mean" in page


def test_markdown_twin_links_figures_that_exist(folders):
    root, run, sweep = folders
    out = root / "sub" / "r.html"
    out.parent.mkdir()
    assert runner.invoke(app, ["report", str(run), str(sweep), "--out", str(out)]).exit_code == 0
    markdown = (root / "sub" / "r.md").read_text()
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", markdown)
    assert len(links) >= 3
    assert all((out.parent / link).resolve().exists() for link in links)
    assert "| summary | value |" in markdown


def test_report_refuses_what_is_not_a_run(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and "neither a finished run" in result.output
    result = runner.invoke(app, ["report", str(tmp_path), "--out", str(tmp_path / "r.pdf")])
    assert result.exit_code == 2 and ".html" in result.output


def test_claim_verdicts_weigh_the_margin_against_the_spread():
    from memristorch.runner.study import Claim, lookup

    def claim(spread):
        return Claim(
            "x beats y", "x − y", "> 0", lambda s, c: lookup(s, "gain"), lambda v: v > 0, 0.0, spread
        )

    def verdict(summary, spread=lambda s, c: lookup(s, "gain_std")):
        return claim(spread).evaluate(summary, {})["verdict"]

    assert verdict({"gain": 3.0, "gain_std": 1.0}) == "holds"
    assert verdict({"gain": 0.7, "gain_std": 6.3}) == "holds, within the spread"
    assert verdict({"gain": -1.0, "gain_std": 0.1}) == "does not hold"
    assert verdict({}) == "not measured"
    assert verdict({"gain": 0.7}, spread=None) == "holds"  # no spread measured: judged on the number alone
    assert lookup({"a": {"0.3": {"after": 1}}}, "a.0.3.after") == 1  # keys that hold dots
