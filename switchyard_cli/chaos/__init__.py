"""Chaos checks run by `make chaos`: inputs and conditions that must never reach a write."""
