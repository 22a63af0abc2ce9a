"""The pages that sit on top of every domain: the dashboard."""
