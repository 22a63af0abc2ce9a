"""The demo campaign's data and loaders, on top of every domain."""
