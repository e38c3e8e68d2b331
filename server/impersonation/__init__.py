"""Impersonation: an administrator in a member's own portal view.

Signing out of such a session ends the impersonation like Stop does (with the
member's mail); auth/ learns how from here, as it stands below.
"""

from server.auth.sessions import on_impersonation_end
from server.impersonation.service import end_by

on_impersonation_end(end_by)
