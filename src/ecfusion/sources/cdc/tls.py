"""TLS for CDC connections to the merchant's ERP/CRM databases (5.1.4; 7.4: protected in transit).

MariaDB/MySQL settings follow MySQL's ``--ssl-mode`` vocabulary and are turned into an
``ssl.SSLContext`` here (PyMySQL and python-mysql-replication both accept one); PostgreSQL settings
are libpq's own (``sslmode``, ``sslrootcert``, …) and passed through. ``connect_hint`` turns a
driver's TLS failure into a hint that names the setting to fix.
"""

from __future__ import annotations

import ssl

from ecfusion.errors import ConfigError


def client_tls_context(
    *,
    ca_file: str | None,
    verify: bool,
    check_hostname: bool,
    cert_file: str | None = None,
    key_file: str | None = None,
) -> ssl.SSLContext:
    """A client context: encrypt always; check the server against ``ca_file`` when ``verify``."""
    if verify and not ca_file:
        raise ConfigError(
            "TLS verification needs the CA certificate that signed the database server's certificate",
            hint="set ssl_ca = PATH (PEM), or ssl_mode = required to encrypt without verifying",
        )
    try:
        ctx = ssl.create_default_context(cafile=ca_file if verify else None)
        ctx.check_hostname = check_hostname
        ctx.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
        if cert_file:
            ctx.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as e:  # FileNotFoundError, a PEM that does not parse, a key mismatch
        raise ConfigError(
            f"cannot load TLS files (ssl_ca={ca_file}, ssl_cert={cert_file}, ssl_key={key_file}): {e}",
            hint="point ssl_ca/ssl_cert/ssl_key at readable PEM files; the key must match the certificate",
        ) from e
    return ctx


def connect_hint(reason: str, default: str, *, ca_key: str) -> str:
    """The hint for a failed connection: specific when the failure was the TLS handshake."""
    low = reason.lower()
    if "certificate verify failed" in low or "certificate_verify_failed" in low:
        return (
            f"the server's TLS certificate is not signed by the CA in `{ca_key}` (or its name does not "
            "match the host): point it at the CA that issued the server certificate"
        )
    if "ssl" in low or "tls" in low:
        return f"TLS handshake failed: check the server's TLS setup and `{ca_key}`/client certificate"
    return default
