"""Block Kit views and messages as pure functions: state in, dict out. Nothing here calls Slack."""
