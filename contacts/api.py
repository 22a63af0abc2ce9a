"""JSON API for contacts, lists and segments (to be built: issue 3)."""

blueprints = []
