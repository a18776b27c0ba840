"""What boto3 raises, as the service's domain errors: an unreachable or overloaded store is 503."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from runstash_artifacts.paths import INVALID_PATH
from runstash_artifacts.storage.base import storage_unavailable
from runstash_protos.errors import ErrorCode, RunstashError, invalid_parameter

log = logging.getLogger("runstash.artifacts.s3")

MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_RETRYABLE_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "RequestTimeTooSkewed", "503"}
)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _http_status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


@contextlib.contextmanager
def s3_errors() -> Iterator[None]:
    """Map what boto3 raises to the domain errors: unreachable or overloaded store -> 503."""
    try:
        yield
    except NoCredentialsError as error:
        log.error("no S3 credentials configured: %s", error)
        raise RunstashError(
            ErrorCode.INTERNAL_ERROR, "Artifact storage credentials are not configured"
        ) from error
    except BotoCoreError as error:  # connection refused, timeouts, closed connections...
        raise storage_unavailable(str(error)) from error
    except ClientError as error:
        code, status = error_code(error), _http_status(error)
        if code == "KeyTooLongError":
            raise invalid_parameter(INVALID_PATH) from error
        if code in _RETRYABLE_CODES or status >= 500:
            raise storage_unavailable(code or str(status)) from error
        log.error("S3 request failed: %s", error)
        raise RunstashError(ErrorCode.INTERNAL_ERROR, f"Artifact storage request failed: {code}") from error
