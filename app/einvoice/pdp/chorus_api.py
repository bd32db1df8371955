"""What Chorus Pro and PISTE look like, gathered in one place to be checked against their
documentation (the specifications folder's ``chorus-pro.md``) and corrected there: the
addresses, the login header, the API paths, the flow syntax, the return code of a request
carried out, the size limit and the time zone deposits are dated in."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

TOKEN_URL = "https://oauth.piste.gouv.fr/api/oauth/token"
API_URL = "https://api.piste.gouv.fr/cpro"
QUALIF_TOKEN_URL = "https://sandbox-oauth.piste.gouv.fr/api/oauth/token"
QUALIF_API_URL = "https://sandbox-api.piste.gouv.fr/cpro"
TOKEN_SCOPE = "openid"
ACCOUNT_HEADER = "cpro-account"
# Chorus Pro dates deposits in French time: a search by deposit date counts days there.
CHORUS_TIMEZONE = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Endpoints:
    """Paths under the API address (``…/cpro``); all of them are JSON ``POST``s."""

    deposit: str = "/factures/v1/deposer/flux"  # deposerFluxFacture
    flow_report: str = "/transverses/v1/consulterCRDetaille"  # state of a deposited flow
    invoices: str = "/factures/v1/rechercher/fournisseur"  # rechercherFactureParFournisseur
    history: str = "/factures/v1/consulter/historique"  # one invoice's status history
    health: str = "/transverses/v1/health-check"  # the only GET


ENDPOINTS = Endpoints()
SYNTAXES = {"Factur-X": "IN_DP_E2_CII_FACTURX"}  # our flow syntax -> syntaxeFlux
OK = 0  # codeRetour of a request Chorus Pro carried out
MAX_FILE_BYTES = 30 * 1024 * 1024  # Chorus Pro's limit for one deposited file

# consulterCRDetaille's libelle when all went well: a message code, not worth showing.
QUIET_LIBELLES = frozenset({"TRA_MSG_00.000"})
