from server.accounts.mails import language_of
from server.mail.audience import use_language_lookup

# Mails are written in the language the person chose (server/mail/audience.py).
use_language_lookup(language_of)
