"""``datastore-bot demo``: the bot run end to end against a local Confluence site and a local Slack stand-in.

Nothing under ``bot/``, ``handlers/`` or ``storage/`` imports this package (an import contract in CI checks it):
the fakes are reachable only from the demo command and the tests.
"""
