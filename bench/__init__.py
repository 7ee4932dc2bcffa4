"""`make bench`: what Switchyard adds on top of AWS's own times, measured (see docs/performance.md)."""
