"""`syndicate newsletter send`: hand an issue's message.eml to an SMTP server for a test read.

The message is sent as the build wrote it, with a To header for the one recipient in front.
The login comes from the environment (SYNDICATE_SMTP_USER, SYNDICATE_SMTP_PASSWORD), never
from site.yaml, which is committed; it is only ever sent over TLS, or to this machine.
Everything that can go wrong becomes one SendError line for the command to print.
"""

from __future__ import annotations

import email.utils
import re
import smtplib
import ssl

LOOPBACK = ("localhost", "127.0.0.1", "::1")


class SendError(Exception):
    """Why a message could not be handed to the SMTP server, in one line."""


def parse_server(value: str) -> tuple[str, int]:
    """HOST:PORT (or HOST, port 25; [v6]:PORT) -> (host, port); ValueError when malformed."""
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d+))?|([^:\s\[\]]+)(?::(\d+))?", value.strip())
    if not match:
        raise ValueError(f"'{value}' is not HOST:PORT")
    host = match[1] or match[3]
    port = int(match[2] or match[4] or 25)
    if not 0 < port < 65536:
        raise ValueError(f"port {port} is out of range")
    return host, port


def send_message(message: bytes, sender: str, recipient: str, host: str, port: int,
                 user: str = "", password: str = "", timeout: float = 30) -> str:
    """Send `message` to `recipient` through host:port; returns how it went, for the log.

    Port 465 speaks TLS from the start; on any other port STARTTLS is used whenever the server
    offers it. A login is only ever sent over an encrypted connection, or to this machine.
    """
    envelope_from = email.utils.parseaddr(sender)[1]
    data = f"To: {recipient}\r\n".encode() + message
    context = ssl.create_default_context()
    where = f"{host}:{port}"
    try:
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context) if port == 465 else smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            smtp.ehlo()
            secure = port == 465
            if not secure and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
                secure = True
            if user:
                if not secure and host not in LOOPBACK:
                    raise SendError(f"{where} offers no STARTTLS: refusing to send the password unencrypted")
                smtp.login(user, password)
            refused = smtp.sendmail(envelope_from, [recipient], data)
    except SendError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(f"{where} refused the login for {user}: {_reply(exc)}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        reasons = "; ".join(_reply_text(code, text) for code, text in exc.recipients.values())
        raise SendError(f"{where} refused the recipient {recipient}: {reasons}") from None
    except smtplib.SMTPResponseException as exc:
        raise SendError(f"{where} refused the message: {_reply(exc)}") from None
    except ssl.SSLError as exc:
        raise SendError(f"TLS with {where} failed: {exc.reason or exc}") from None
    except (OSError, smtplib.SMTPException) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise SendError(f"cannot send through {where}: {reason}") from None
    if refused:
        raise SendError(f"{where} refused {', '.join(refused)}")
    return f"sent to {recipient} through {where}" + (" (TLS)" if secure else "")


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return _reply_text(exc.smtp_code, exc.smtp_error)


def _reply_text(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(message.split())}"

