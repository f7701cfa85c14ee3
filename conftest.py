# Shared fixtures for every suite (libs/*/tests, services/*/tests and tests/): see cms_devkit.testing.
pytest_plugins = ["cms_devkit.testing"]
