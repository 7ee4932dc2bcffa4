"""The traffic-shift workflow's steps as plain functions: plan, snapshot, apply, gate, roll back.

Each takes a pydantic event (what the state machine passes) and returns a pydantic result (what
it keeps). Handlers in steps/ only parse and call these; tests call them directly on moto.

One module per step, imported directly by its handler (each loads only what it runs): `plan`
(PlanShift), `snapshot` (TakeSnapshot), `stages` (ApplyStage), `gates` (CheckGates) and
`rollback` (RollBack); `events` holds the models they share, `groups` reads and writes the
weight groups a shift touches.
"""
