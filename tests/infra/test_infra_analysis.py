"""The dashboard's analysis row: one graph per check of the topology's `analysis`, with its bounds."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
import yaml

from infra.dashboard import ANALYSIS_METRIC, NAMESPACE, SERVICE, analysis_widgets
from switchyard.topology import parse_topology
from tests.conftest import SHOP_FILE

pytestmark = pytest.mark.slow


def _rendered(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    data = yaml.safe_load(SHOP_FILE.read_text())
    data["analysis"] = analysis
    stack = cdk.Stack(cdk.App(), "Dashboard")
    return [w for widget in analysis_widgets(parse_topology(data)) for w in stack.resolve(widget.to_json())]


def test_each_check_is_graphed_with_its_bounds() -> None:
    widgets = _rendered(
        {
            "interval_seconds": 120,
            "checks": [
                {"template": "target-5xx-rate", "max": 0.01},
                {"template": "healthy-hosts", "min": 2},
                {"name": "errors", "metric": {"namespace": "Shop", "name": "Errors"}, "min": 0, "max": 5},
            ],
        }
    )
    assert [w["properties"]["title"] for w in widgets] == [
        "Analysis: target-5xx-rate (each measurement)",
        "Analysis: healthy-hosts (each measurement)",
        "Analysis: errors (each measurement)",
    ]
    first = widgets[0]["properties"]
    [row] = first["metrics"]
    assert row[:6] == [NAMESPACE, ANALYSIS_METRIC, "check", "target-5xx-rate", "service", SERVICE]
    assert row[6]["stat"] == "Maximum" and row[6]["period"] == 120
    assert first["annotations"]["horizontal"] == [{"value": 0.01, "label": "max 0.01", "yAxis": "left"}]
    assert widgets[1]["properties"]["metrics"][0][6]["stat"] == "Minimum"
    assert [a["label"] for a in widgets[2]["properties"]["annotations"]["horizontal"]] == ["max 5", "min 0"]
    assert sum(w["width"] for w in widgets) <= 24
