"""The calculation service: the statutory calculation, exact to the penny, explained and stored."""
