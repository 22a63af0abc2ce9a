"""JSON API for templates and mailings (to be built: issue 4)."""

blueprints = []
