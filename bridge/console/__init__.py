"""The demo's simulator console: edit a simulated Jira issue, CRM case or Projects task in the
browser and watch the change reach the other side."""
