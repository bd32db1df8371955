"""Where the shop's plateforme agréée and Chorus Pro are, and how to log in to them.

The addresses are shop preferences (kept with the ledger, not secret). The credentials
live only in the OS keyring: the PA's client id and secret; for Chorus Pro, the PISTE
application's client id and secret and the Chorus Pro technical account's login and
password. The environment (``COMPTOIR_PDP_*``, ``COMPTOIR_CHORUS_*``) wins over both,
which is how scripts, CI and the sandbox demo point the app at a platform.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlparse

import keyring
from sqlalchemy.orm import Session

from app.errors import ComptoirError, InvalidInput
from app.ledger.keys import KEYRING_SERVICE
from app.ledger.operators import Permission, require
from app.ledger.preferences import get_preference, set_preference
from app.ledger.store import ledger_of

log = logging.getLogger(__name__)

ENV_URL = "COMPTOIR_PDP_URL"
ENV_TOKEN_URL = "COMPTOIR_PDP_TOKEN_URL"
ENV_CLIENT_ID = "COMPTOIR_PDP_CLIENT_ID"
ENV_CLIENT_SECRET = "COMPTOIR_PDP_CLIENT_SECRET"
ENV_DIRECTORY_URL = "COMPTOIR_PDP_DIRECTORY_URL"
PREF_URL = "pdp_url"
PREF_DIRECTORY_URL = "pdp_directory_url"
PREF_TOKEN_URL = "pdp_token_url"
KEYRING_CLIENT_ID = "pdp-client-id"
KEYRING_CLIENT_SECRET = "pdp-client-secret"
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
DEMO_LOCAL_ONLY = (
    "Boutique de démonstration : rien n'est jamais envoyé à une plateforme réelle. Seule la "
    "plateforme de démonstration de ce poste (adresse 127.0.0.1) reçoit ses factures ; "
    "l'adresse {where} n'en est pas une."
)


class PlatformNotConfigured(ComptoirError):
    """The platform's address or credentials are missing or cannot be read."""


@dataclass(frozen=True)
class PlatformSettings:
    base_url: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    timeout: float = 10.0
    # The Directory Service (annuaire); by default beside the Flow API on the platform.
    directory_url: str = ""

    def __post_init__(self) -> None:
        if not self.directory_url:
            base = self.base_url.rstrip("/")
            object.__setattr__(self, "directory_url", f"{base}/directory-service")
        urls = (("de la plateforme", self.base_url), ("d'authentification", self.token_url),
                ("de l'annuaire", self.directory_url))  # fmt: skip
        for label, url in urls:
            parsed = urlparse(url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise InvalidInput(f"Adresse {label} invalide : {url!r} (http(s)://… attendu).")
        if self.timeout <= 0:
            raise InvalidInput("Le délai d'attente de la plateforme doit être positif.")


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this computer only."""
    host = (urlparse(url).hostname or "").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def _keyring_read(
    entry: str,
    *,
    whose: str = "de la plateforme de facturation électronique",
    env_names: tuple[str, ...] = (ENV_CLIENT_ID, ENV_CLIENT_SECRET),
) -> str | None:
    try:
        return keyring.get_password(KEYRING_SERVICE, entry)
    except Exception as exc:  # any backend failure means: no usable keyring
        log.info("keyring unavailable for %s: %s", entry, type(exc).__name__)
        raise PlatformNotConfigured(
            f"Les identifiants {whose} sont rangés dans le trousseau de clés du système, "
            "qui n'est pas disponible sur ce poste. Définissez les variables "
            f"d'environnement {_and(env_names)}, ou ouvrez une session avec un trousseau "
            "de clés.",
            detail=f"keyring backend error: {type(exc).__name__}",
        ) from None


def _keyring_write(values: dict[str, str], *, whose: str, env_names: tuple[str, ...]) -> None:
    """Each keyring entry its value; without a usable keyring the credentials are refused
    rather than written anywhere else, and the message names the environment variables
    that can carry them instead."""
    try:
        for entry, value in values.items():
            keyring.set_password(KEYRING_SERVICE, entry, value)
    except Exception as exc:
        log.info("keyring unavailable: %s", type(exc).__name__)
        raise PlatformNotConfigured(
            f"Impossible d'enregistrer les identifiants {whose} : le trousseau de clés du "
            "système n'est pas disponible sur ce poste. Ils ne sont jamais écrits dans la "
            f"base ; utilisez les variables d'environnement {_and(env_names)}.",
            detail=f"keyring backend error: {type(exc).__name__}",
        ) from None


def _keyring_forget(entries: Iterable[str]) -> None:
    for entry in entries:
        try:
            keyring.delete_password(KEYRING_SERVICE, entry)
        except Exception as exc:  # already absent, or no keyring: nothing to forget
            log.debug("keyring delete %s: %s", entry, type(exc).__name__)


def _and(names: tuple[str, ...]) -> str:
    return f"{', '.join(names[:-1])} et {names[-1]}" if len(names) > 1 else names[0]


def load_settings(session: Session, *, timeout: float | None = None) -> PlatformSettings | None:
    """The platform to talk to, or None when none is configured at all."""
    base_url = _env(ENV_URL) or get_preference(session, PREF_URL)
    token_url = _env(ENV_TOKEN_URL) or get_preference(session, PREF_TOKEN_URL)
    if not base_url:
        return None
    if not token_url:
        raise PlatformNotConfigured(
            "L'adresse d'authentification de la plateforme (jeton OAuth2) n'est pas "
            "renseignée : complétez les réglages de la facturation électronique."
        )
    client_id = _env(ENV_CLIENT_ID)
    client_secret = _env(ENV_CLIENT_SECRET)
    if not (client_id and client_secret):
        client_id = client_id or _keyring_read(KEYRING_CLIENT_ID) or ""
        client_secret = client_secret or _keyring_read(KEYRING_CLIENT_SECRET) or ""
    if not (client_id and client_secret):
        raise PlatformNotConfigured(
            "Les identifiants de la plateforme de facturation électronique ne sont pas "
            "renseignés : saisissez l'identifiant et le secret client dans les réglages."
        )
    directory = _env(ENV_DIRECTORY_URL) or get_preference(session, PREF_DIRECTORY_URL) or ""
    return PlatformSettings(
        base_url, token_url, client_id, client_secret,
        10.0 if timeout is None else timeout, directory,
    )  # fmt: skip


def save_settings(session: Session, settings: PlatformSettings, *, operator: str) -> None:
    """Addresses into the shop preferences, credentials into the keyring only (nothing to
    store when the environment gives them)."""
    require(session, operator, Permission.EDIT_SETTINGS)
    _local_only_for_demo(session, settings.base_url, settings.token_url)
    if not credentials_from_environment():
        store_credentials(settings.client_id, settings.client_secret)
    save_addresses(session, settings.base_url, settings.token_url, operator=operator)


def credentials_from_environment() -> bool:
    """Whether the client id and secret both come from the environment, which wins."""
    return bool(_env(ENV_CLIENT_ID) and _env(ENV_CLIENT_SECRET))


def save_addresses(session: Session, base_url: str, token_url: str, *, operator: str) -> None:
    """The platform's two addresses, kept with the shop's preferences: they are not
    secret, and need no keyring."""
    require(session, operator, Permission.EDIT_SETTINGS)
    PlatformSettings(base_url, token_url, "", "")  # checks the addresses
    _local_only_for_demo(session, base_url, token_url)
    set_preference(session, PREF_URL, base_url)
    set_preference(session, PREF_TOKEN_URL, token_url)


def _local_only_for_demo(session: Session, *urls: str) -> None:
    """A demo ledger keeps no address of a real platform (see ``demo_platform``)."""
    if ledger_of(session).kind != "demo":
        return
    for url in urls:
        if not is_loopback_url(url):
            raise InvalidInput(DEMO_LOCAL_ONLY.format(where=url))


WHERE_SECRETS_GO = (
    "Le secret peut être donné au lancement de Comptoir par les variables d'environnement "
    f"{ENV_CLIENT_ID} et {ENV_CLIENT_SECRET} (dans le raccourci ou le service qui lance "
    "Comptoir), ou rangé dans un trousseau de clés du système : Trousseau GNOME ou KWallet "
    "sous Linux, Gestionnaire d'identification sous Windows, Trousseau d'accès sous macOS. "
    "Il n'est jamais écrit dans la base."
)


def store_credentials(client_id: str, client_secret: str) -> None:
    """The client id and secret into the keyring; a blank one is left as it was. Without
    a keyring, PlatformNotConfigured says where they can go instead."""
    values = {
        entry: value
        for entry, value in ((KEYRING_CLIENT_ID, client_id), (KEYRING_CLIENT_SECRET, client_secret))
        if value
    }
    if not values:
        return
    try:
        for entry, value in values.items():
            keyring.set_password(KEYRING_SERVICE, entry, value)
    except Exception as exc:
        log.info("keyring unavailable: %s", type(exc).__name__)
        raise PlatformNotConfigured(
            "Identifiants de la plateforme non enregistrés : ce poste n'a pas de trousseau "
            f"de clés. {WHERE_SECRETS_GO}",
            detail=f"keyring backend error: {type(exc).__name__}",
        ) from None


def forget_credentials() -> None:
    """Remove the client id and secret from the keyring (the shop changes platform)."""
    _keyring_forget((KEYRING_CLIENT_ID, KEYRING_CLIENT_SECRET))


# -- Chorus Pro (public-sector customers) -----------------------------------------------
ENV_CHORUS_URL = "COMPTOIR_CHORUS_URL"
ENV_CHORUS_TOKEN_URL = "COMPTOIR_CHORUS_TOKEN_URL"
ENV_CHORUS_CLIENT_ID = "COMPTOIR_CHORUS_CLIENT_ID"
ENV_CHORUS_CLIENT_SECRET = "COMPTOIR_CHORUS_CLIENT_SECRET"
ENV_CHORUS_LOGIN = "COMPTOIR_CHORUS_LOGIN"
ENV_CHORUS_PASSWORD = "COMPTOIR_CHORUS_PASSWORD"
PREF_CHORUS_URL = "chorus_url"
PREF_CHORUS_TOKEN_URL = "chorus_token_url"
# Each keyring entry and the environment variable that overrides it, in the order of
# ChorusSettings' fields.
CHORUS_SECRETS = {
    "chorus-client-id": ENV_CHORUS_CLIENT_ID,
    "chorus-client-secret": ENV_CHORUS_CLIENT_SECRET,
    "chorus-account-login": ENV_CHORUS_LOGIN,
    "chorus-account-password": ENV_CHORUS_PASSWORD,
}
_CHORUS_ENV = tuple(CHORUS_SECRETS.values())
_CHORUS = "de Chorus Pro (application PISTE et compte technique)"


@dataclass(frozen=True)
class ChorusSettings:
    token_url: str
    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    account_login: str
    account_password: str = field(repr=False)
    timeout: float = 10.0
    # idUtilisateurCourant: left out of the deposit when unset, as known integrations do.
    user_id: int | None = None

    def __post_init__(self) -> None:
        urls = (
            ("de l'API Chorus Pro", self.base_url),
            ("d'authentification PISTE", self.token_url),
        )
        for label, url in urls:
            parsed = urlparse(url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise InvalidInput(f"Adresse {label} invalide : {url!r} (http(s)://… attendu).")
        if not (self.client_id and self.client_secret):
            raise InvalidInput(
                "L'identifiant et le secret client de l'application PISTE sont obligatoires."
            )
        if not (self.account_login and self.account_password):
            raise InvalidInput(
                "L'identifiant et le mot de passe du compte technique Chorus Pro sont obligatoires."
            )
        if ":" in self.account_login:
            raise InvalidInput(
                "L'identifiant du compte technique Chorus Pro ne peut pas contenir « : »."
            )
        if self.timeout <= 0:
            raise InvalidInput("Le délai d'attente de Chorus Pro doit être positif.")


def chorus_configured(session: Session) -> bool:
    """Whether Chorus Pro has an address (environment or settings). The keyring is not
    read: this is asked on every refresh of the banner."""
    return bool(_env(ENV_CHORUS_URL) or get_preference(session, PREF_CHORUS_URL))


def load_chorus_settings(
    session: Session, *, timeout: float | None = None
) -> ChorusSettings | None:
    """Chorus Pro's addresses and logins, or None when Chorus Pro is not set up at all."""
    base_url = _env(ENV_CHORUS_URL) or get_preference(session, PREF_CHORUS_URL)
    token_url = _env(ENV_CHORUS_TOKEN_URL) or get_preference(session, PREF_CHORUS_TOKEN_URL)
    if not base_url:
        return None
    if not token_url:
        raise PlatformNotConfigured(
            "L'adresse d'authentification PISTE (jeton OAuth2) de Chorus Pro n'est pas "
            "renseignée : complétez les réglages Chorus Pro."
        )
    values = {entry: _env(name) for entry, name in CHORUS_SECRETS.items()}
    if not all(values.values()):
        for entry, value in values.items():
            stored = value or _keyring_read(entry, whose=_CHORUS, env_names=_CHORUS_ENV)
            values[entry] = stored or ""
    if not all(values.values()):
        raise PlatformNotConfigured(
            "Les identifiants Chorus Pro ne sont pas tous renseignés : saisissez l'identifiant "
            "et le secret de l'application PISTE, et l'identifiant et le mot de passe du "
            "compte technique Chorus Pro, dans les réglages."
        )
    client_id, secret, login, password = values.values()
    if timeout is None:
        return ChorusSettings(token_url, base_url, client_id, secret, login, password)
    return ChorusSettings(token_url, base_url, client_id, secret, login, password, timeout)


def save_chorus_settings(session: Session, settings: ChorusSettings, *, operator: str) -> None:
    """Addresses into the shop preferences, the four logins into the keyring only."""
    require(session, operator, Permission.EDIT_SETTINGS)
    values = (
        settings.client_id,
        settings.client_secret,
        settings.account_login,
        settings.account_password,
    )
    _keyring_write(
        dict(zip(CHORUS_SECRETS, values, strict=True)), whose="Chorus Pro", env_names=_CHORUS_ENV
    )
    set_preference(session, PREF_CHORUS_URL, settings.base_url)
    set_preference(session, PREF_CHORUS_TOKEN_URL, settings.token_url)


def forget_chorus_credentials() -> None:
    """Remove the Chorus Pro logins from the keyring (the shop stops using Chorus Pro)."""
    _keyring_forget(CHORUS_SECRETS)
