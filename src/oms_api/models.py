"""Every table of the service, for Alembic and the schema tests: import each context's models here."""

from oms_api.accounting import models as accounting_models  # noqa: F401
from oms_api.allocation import models as allocation_models  # noqa: F401
from oms_api.carriers import models as carriers_models  # noqa: F401
from oms_api.carts import models as carts_models  # noqa: F401
from oms_api.catalog import models as catalog_models  # noqa: F401
from oms_api.channels import models as channels_models  # noqa: F401
from oms_api.customers import models as customers_models  # noqa: F401
from oms_api.fulfillment import models as fulfillment_models  # noqa: F401
from oms_api.fulfillment.packing import models as packing_models  # noqa: F401
from oms_api.fulfillment.picking import models as picking_models  # noqa: F401
from oms_api.fx import models as fx_models  # noqa: F401
from oms_api.integrations.inbound import models as inbound_models  # noqa: F401
from oms_api.integrations.payments import models as payment_gateway_models  # noqa: F401
from oms_api.invoices import models as invoices_models  # noqa: F401
from oms_api.kit import auth, idempotency, outbox, ratelimit  # noqa: F401
from oms_api.kit.db import Base
from oms_api.orders import models as orders_models  # noqa: F401
from oms_api.payments import models as payments_models  # noqa: F401
from oms_api.quotes import models as quotes_models  # noqa: F401
from oms_api.stock import models as stock_models  # noqa: F401
from oms_api.taxes import models as taxes_models  # noqa: F401
from oms_api.webhooks import models as webhooks_models  # noqa: F401
from oms_api.worker import models as worker_models  # noqa: F401

metadata = Base.metadata
