"""The benefits domain package."""
