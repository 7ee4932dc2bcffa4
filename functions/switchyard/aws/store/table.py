"""What both of Switchyard's tables share: a name, the replica region called, its timeouts."""

from __future__ import annotations

from typing import Any

from switchyard.aws.clients import DEFAULT, Timeouts, aws_errors, client
from switchyard.aws.store.codec import Item


class Table:
    def __init__(self, name: str, region: str, timeouts: Timeouts = DEFAULT) -> None:
        self.name = name
        self.region = region
        self.timeouts = timeouts

    def _ddb(self) -> Any:
        # Asked for at each call, not kept: the local world resets the library's clients.
        return client("dynamodb", self.region, self.timeouts)

    def _get(self, item_key: Item, action: str, **kwargs: Any) -> Item | None:
        """A strongly consistent read of one item (None when there is none)."""
        with aws_errors(action):
            item: Item | None = (
                self._ddb().get_item(TableName=self.name, Key=item_key, ConsistentRead=True, **kwargs).get("Item")
            )
        return item or None
