"""The tenancy tree: organisations, the ground every other domain stands on."""
