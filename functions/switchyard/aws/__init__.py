"""Adapters: find the topology's resources in AWS by name and read or write their weights."""
