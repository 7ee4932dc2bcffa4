"""The DNS table says where answers go, by Route 53's rules, not what the weights alone would send."""

from __future__ import annotations

from rich.console import Console

from switchyard_cli.tables import world_table


def _text(world: dict) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(world_table(world))
    return console.export_text()


def test_a_region_marked_out_shows_its_weight_and_no_answers() -> None:
    world = {
        "alb": {},
        "dns": {"api.example.com": {"us-east-1": 100, "us-west-2": 100}},
        "dns_answers": {"api.example.com": {"us-east-1": 0.0, "us-west-2": 100.0}},
    }
    assert "us-east-1 100 (0%)  us-west-2 100 (100%)" in _text(world)


def test_without_answers_the_shares_come_from_the_weights_and_latency_records_show_answers_only() -> None:
    world = {
        "alb": {},
        "dns": {"api.example.com": {"us-east-1": 100, "us-west-2": 0}},
        "dns_answers": {"lat.example.com": {"us-east-1": 50.0, "us-west-2": 50.0}},
    }
    text = _text(world)
    assert "us-east-1 100 (100%)  us-west-2 0 (0%)" in text
    assert "lat.example.com │ us-east-1 (50%)  us-west-2 (50%)" in text
