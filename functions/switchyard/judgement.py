"""One analysis check's measurement judged: its bounds, and its comparison with the baseline
(docs/analysis.md, "Against the baseline").

Kayenta judges a canary against a baseline that serves the same application at the same time,
not against fixed numbers alone: an error rate that every cluster shows is the application's, not
the shift's. Here the baseline is the side whose traffic moves away (the clusters or regions
that never get more traffic during the shift), measured over the same interval, in the same
GetMetricData call as the receiving side when both are in one region.

The comparison is by direction, without dividing (a baseline of 0 is common: no 5xx at all):

    higher-is-worse: fails when receiving > max_ratio x baseline and receiving - baseline > min_delta
    lower-is-worse:  fails when receiving x max_ratio < baseline and baseline - receiving > min_delta

`min_delta` is the noise floor: 2 errors in 1000 requests against 0 in 1000 is "infinitely worse"
and still noise. The ratio receiving / baseline is recorded for people to read (None when the
baseline is 0); it never decides.
"""

from __future__ import annotations

from switchyard.analysis_schema import Baseline, Check, Direction


def worse(direction: Direction, value: float, baseline: float, rule: Baseline) -> bool:
    """Whether `value` is worse than `baseline` beyond what `rule` tolerates."""
    if direction == "higher-is-worse":
        return value > rule.max_ratio * baseline and value - baseline > rule.min_delta
    return value * rule.max_ratio < baseline and baseline - value > rule.min_delta


def ratio(value: float | None, baseline: float | None) -> float | None:
    """receiving / baseline, rounded for the record (None: a side has no data, or the baseline is 0)."""
    if value is None or baseline is None or baseline == 0:
        return None
    return round(value / baseline, 4)


def failure(direction: Direction, value: float, baseline: float | None, rule: Baseline) -> str | None:
    """Why the comparison fails this measurement (None: it passes). No baseline value (no traffic
    left on it, as at a drain's last stage) is judged by the rule's `no_data`."""
    if baseline is None:
        return "had no baseline data (baseline no_data: fail)" if rule.no_data == "fail" else None
    if not worse(direction, value, baseline, rule):
        return None
    times = ratio(value, baseline)
    against = f"{times:g}x the baseline's {baseline:g}" if times is not None else f"against a baseline of {baseline:g}"
    return f"measured {value:g}, {against} (max_ratio {rule.max_ratio:g}, min_delta {rule.min_delta:g}, {direction})"


def reasons(check: Check, value: float | None, base: float | None) -> list[str]:
    """Why this measurement of the check fails (none: it passes): its bounds, then its baseline."""
    if value is None:
        return ["had no data"] if check.no_data == "fail" else []
    found = []
    if check.max is not None and value > check.max:
        found.append(f"measured {value:g} above max {check.max:g}")
    elif check.min is not None and value < check.min:
        found.append(f"measured {value:g} below min {check.min:g}")
    if check.baseline is not None:
        against = failure(check.direction, value, base, check.baseline)
        found += [against] if against is not None else []
    return found


def describe(check: Check, value: float | None, base: float | None, failures: int) -> str:
    """A failed check for the failure's message."""
    found = reasons(check, value, base)
    if value is None:
        seen = "had no data"
    elif found:
        seen = "; ".join(found)
    else:  # within bounds now, failed before often enough
        seen = f"measured {value:g}"
    return f"{check.label} {seen} ({failures} failed measurement(s), failure_limit {check.failure_limit})"
