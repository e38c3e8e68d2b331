"""Members: listing, roles, feature grants, disable / enable / remove / delete, profiles."""
