"""The dpia domain package."""
