"""Switchyard's shared library: used by every step Lambda, the CLI and the local world.

Nothing here imports the local world or the CLI; the Lambda asset is this folder's parent.
"""

from switchyard import coldstart

# First thing a step imports: the whole cold start runs without a full collection (coldstart.py).
coldstart.begin()
