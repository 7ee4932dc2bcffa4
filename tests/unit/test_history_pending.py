"""`switchyard history` names what a run left pending (a fence, a banner, a replica not repointed)."""

from __future__ import annotations

from rich.console import Console

from switchyard_cli.history_cmd import _runs_table


def _rendered(record: dict) -> str:
    console = Console(width=400, record=True)
    console.print(_runs_table("shop", [record]))
    return console.export_text()


RUN = {"recorded_at": "2026-12-01T18:00:00+00:00", "workflow": "regional-failover", "status": "SUCCEEDED"}


def test_a_run_that_left_a_replica_pending_says_so_after_its_reason():
    left = {"action": "repoint-replica", "region": "eu-west-1", "reason": "tri-db-euw1 in eu-west-1: timed out"}
    text = _rendered({**RUN, "reason": "drill", "details": {"pending": [left]}})
    assert "drill; pending: repoint-replica in eu-west-1" in text


def test_a_run_that_left_nothing_shows_its_reason_alone():
    text = _rendered({**RUN, "reason": "drill", "details": {"pending": []}})
    assert "drill" in text and "pending" not in text
