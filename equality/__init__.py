"""The equality domain package."""
