"""Every table of the service, for Alembic and the schema tests: import each context's models here."""

from oms_api.catalog import models as catalog_models  # noqa: F401
from oms_api.channels import models as channels_models  # noqa: F401
from oms_api.customers import models as customers_models  # noqa: F401
from oms_api.fulfillment import models as fulfillment_models  # noqa: F401
from oms_api.kit import auth, idempotency, outbox  # noqa: F401
from oms_api.kit.db import Base
from oms_api.orders import models as orders_models  # noqa: F401
from oms_api.stock import models as stock_models  # noqa: F401

metadata = Base.metadata
