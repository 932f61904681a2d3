"""Incident detection: the 6th distinct customer with the same problem opens exactly one incident.

- `store`: the window of this process (`similarity.window.Window`) and the one rule that keeps it
  equal to the database (reconciled on what changed, checked, rebuilt on a mismatch or a rolled-back
  analysis, one lock, one encoder).
- `decide`: reads the window and the incident links and returns a `Decision` (join, propose, open,
  warn); it writes nothing.
- `proposals`: everyday reports that would have joined a live incident wait for a person's yes.

`flows.detection` applies a decision (incidents opens, joins and warns); intake calls
`flows.detection.assign_and_evaluate` inside its transaction.
"""
