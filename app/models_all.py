"""Import every model module so that Base.metadata knows every table."""

from app.catalog import models as catalog_models
from app.customers import models as customer_models
from app.einvoice import models as invoice_models
from app.einvoice.pdp import models as pdp_models
from app.ledger import models as ledger_models
from app.ledger import operators as operator_models
from app.ledger import preferences as preference_models
from app.ledger.central import models as central_models
from app.sales.terminal import models as card_models
from app.staff import models as staff_models

metadata = ledger_models.Base.metadata
__all__ = [
    "card_models",
    "catalog_models",
    "central_models",
    "customer_models",
    "invoice_models",
    "ledger_models",
    "metadata",
    "operator_models",
    "pdp_models",
    "preference_models",
    "staff_models",
]
