"""The `switchyard` command: the operator CLI and the local world (never shipped to Lambda)."""
