"""Channel settings: typed models, validation, TOML persistence and secrets."""
