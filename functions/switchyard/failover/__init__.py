"""Regional failover and restore (failback): the database and banner steps, and their plans.

Traffic moves with the traffic-shift steps (region scope: the snapshot holds the records'
weighted sets), so a failover's DNS shift is the same code as a planned region drain.

Safety rules kept here:
- preflight refuses before any write: an unhealthy receiving region (the destination and any other
  region that takes a share of the source's traffic), a destination that is not a
  replicating replica, and (unplanned) a replica lag over the RPO budget, unless forced;
- a promotion is never undone: after it, a failure stops, keeps the banner on and says what
  state the world is in;
- a former writer is fenced (tagged and stopped) and later set aside, never reused.

One module per job, imported directly by the step handlers (each loads only what it runs):
`plans` (the failover and restore plans), `preflight` (what the plans read and refuse),
`shape` (pure decisions over those reads), `database` (the database steps and the writer record),
`banner_step`, `verify` and `rollback`; `events` holds what they share.
"""
