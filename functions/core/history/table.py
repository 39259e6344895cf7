"""The names of DynamoDB's ``PredictionHistory`` table, shared by its adapter
(``dynamodb_store.py``) and the Pulumi program that declares it
(``components/storage.py``). Plain constants: the program imports them without boto3."""

from __future__ import annotations

HASH_KEY = "id"
INDEX_BY_CLIENT = "ByClient"
# The index's sort key: createdAt, then id. Unique, so paging never depends on
# how DynamoDB orders items that share a createdAt (DynamoDB Local does not
# keep that order stable between pages).
ORDER_KEY = "createdAtId"
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
