# Models arrive with the capability that needs them (see docs/ARCHITECTURE.md).
