"""The names of DynamoDB's ``PredictionHistory`` table, shared by its adapter
(``dynamodb_store.py``) and the Pulumi program that declares it
(``components/storage.py``). Plain constants: the program imports them without boto3."""

from __future__ import annotations

# The table's name; each stack puts its own prefix before it.
TABLE_NAME = "PredictionHistory"
HASH_KEY = "id"
INDEX_BY_CLIENT = "ByClient"
# The index's hash key: one client's items.
CLIENT_KEY = "clientId"
# The index's sort key: createdAt, then id. Unique, so paging never depends on
# how DynamoDB orders items that share a createdAt (DynamoDB Local does not
# keep that order stable between pages).
ORDER_KEY = "createdAtId"
# Every key attribute of the table and its index, all strings ("S"): together
# they are an item's position in the index.
KEY_ATTRIBUTES = (HASH_KEY, CLIENT_KEY, ORDER_KEY)
STRING = "S"
TTL_ATTRIBUTE = "expiresAt"
CREATED_AT = "createdAt"
THUMBNAIL = "thumbnail"
# The prediction item's fields besides the keys (functions/core/predictions.py
# build_item, and feedbackLabel): what the index holds for a history page,
# which returns whole items. Only the TTL attribute is left out.
LISTED_ATTRIBUTES = (
    "digit",
    "confidence",
    "lowConfidence",
    "probabilities",
    "modelVersion",
    CREATED_AT,
    "input",
    THUMBNAIL,
    "timingsMs",
    "feedbackLabel",
)
