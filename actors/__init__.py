"""Actor runtime: mailboxes, supervision, rate budgets and the SCI actor."""
