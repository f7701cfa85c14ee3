# Shared fixtures for every suite (libs/*/tests, services/*/tests and tests/): see cms_devkit.testing.
pytest_plugins = ["cms_devkit.testing"]

# Property tests check behaviour, never speed: no per-example deadline (a loaded CI machine would fail them).
from hypothesis import settings  # noqa: E402

settings.register_profile("cms", deadline=None)
settings.load_profile("cms")
