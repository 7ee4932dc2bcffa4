"""`python -m switchyard_cli.chaos.bad_inputs`: the corpus alone, as `make chaos` runs it."""

from switchyard_cli.chaos.bad_inputs import run_and_print

raise SystemExit(0 if run_and_print() else 1)
