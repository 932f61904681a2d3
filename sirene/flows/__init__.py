"""Where the domains meet: the only package that calls more than one domain.

Each flow is a plain function that sequences domain services (Zulip's `zerver/actions`, Dispatch's
`flows.py`); no Django signals. Entry points (api, web, hooks, worker, cli, bench, demo) call a flow
whenever a write crosses domains; domain services return typed results instead of calling upward.

- `intake`: store a report (cases), then analyse it: embed, match known problems (knowledge), group
  and evaluate (incidents), start the escalation run when an incident opens.
- `incidents`: open / acknowledge / resolve / regroup = the incident change + escalation + helpdesk.
- `cases`: status changes that queue the customer's holding reply.
"""
