"""Bronze: one ElGoose response into ``raw_data.<method>``, deduplicated by content, one transaction each.

- ``reading``  the response's bytes: envelope checks, records cut from the body, canonical form, hashes
- ``loading``  ``pull_endpoint`` / ``load_download``: COPY, dedup against the current versions, the pull's key set
- ``summary``  ``finish_bronze_run``: what a run loaded and failed, and whether silver may proceed
"""

from elgoose.bronze.loading import BronzeResult, load_download, pull_endpoint
from elgoose.bronze.reading import canonical_json, content_hash, raw_hash
from elgoose.bronze.summary import finish_bronze_run

__all__ = [
    "BronzeResult",
    "canonical_json",
    "content_hash",
    "finish_bronze_run",
    "load_download",
    "pull_endpoint",
    "raw_hash",
]
