"""``python -m local``: the whole stack on this machine (see ``local/stack.py``)."""

import sys

from botocore.exceptions import BotoCoreError

from functions.core.config import ConfigError
from local.dynamodb_local import DynamoDbLocalUnavailable
from local.stack import parse_args, run

if __name__ == "__main__":
    try:
        run(parse_args())
    except (ConfigError, DynamoDbLocalUnavailable, FileNotFoundError, BotoCoreError) as error:
        # A missing model file, Java or setting, or a given DynamoDB endpoint
        # that does not answer: say what, without a traceback.
        sys.exit(f"The local stack could not start: {error}")
