# Shared fixtures for every suite (services/*/tests and tests/): see cms_platform.testing.
pytest_plugins = ["cms_platform.testing"]
