"""Starts the test provider: ``python -m tests.oidc_provider.serve CONFIG.json``.

The configuration names the port, the SQLite file, the users (username, password, email,
first and last names) and the clients (client_id, client_secret, redirect and post-logout
URIs). A fresh RSA key signs the tokens of each run.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _rsa_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
    os.environ["OIDC_PROVIDER_DB"] = config["database"]
    os.environ["OIDC_PROVIDER_RSA_KEY"] = _rsa_private_key()

    import django

    django.setup()

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    # Started again on the same file: the users and clients are brought up to date.
    for user in config["users"]:
        account, _created = User.objects.update_or_create(
            username=user["username"],
            defaults={
                "email": user["email"],
                "first_name": user.get("first_name", ""),
                "last_name": user.get("last_name", ""),
            },
        )
        account.set_password(user["password"])
        account.save()
    for client in config["clients"]:
        Application.objects.filter(client_id=client["client_id"]).delete()
        Application.objects.create(
            name=client["client_id"],
            client_id=client["client_id"],
            client_secret=client["client_secret"],
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(client["redirect_uris"]),
            post_logout_redirect_uris=" ".join(client["post_logout_redirect_uris"]),
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
        )
    call_command("runserver", f"127.0.0.1:{config['port']}", use_reloader=False)


if __name__ == "__main__":
    main(sys.argv[1])
