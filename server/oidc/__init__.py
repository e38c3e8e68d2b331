"""OpenID Connect provider: other systems sign people in with Frontdesk (README,
"The provider's other systems")."""
