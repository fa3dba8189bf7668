"""Mail: the SMTP sender behind the ``Mailer`` port, and the email templates."""
