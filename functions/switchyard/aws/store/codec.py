"""DynamoDB attribute encoding of the values Switchyard's items hold."""

from __future__ import annotations

from typing import Any

Attribute = dict[str, Any]
Item = dict[str, Attribute]


def s(value: str) -> Attribute:
    return {"S": value}


def n(value: int) -> Attribute:
    return {"N": str(value)}


def key(pk: str, sk: str) -> Item:
    return {"pk": s(pk), "sk": s(sk)}


def text(item: Item, name: str, default: str | None = None) -> str | None:
    attribute = item.get(name)
    return str(attribute["S"]) if attribute else default


def number(item: Item, name: str, default: int | None = None) -> int | None:
    attribute = item.get(name)
    return int(attribute["N"]) if attribute else default
