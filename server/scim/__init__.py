"""SCIM 2.0 provisioning (RFC 7643/7644) at /scim/v2/: an organisation's identity
provider creates, updates, disables and removes its people with a SCIM token."""
