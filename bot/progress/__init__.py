"""What a sync's Slack thread should say: plain snapshots of runs, read from the database."""
