"""The three workflows' ASL, built from shared fragments (docs/workflows.md).

`python -m statemachines.build` writes statemachines/*.asl.json from the workflow sources
(traffic_shift.py, regional_failover.py, restore.py); CDK and the local world load those files.
Standard library only, so the build runs before anything is installed.
"""
