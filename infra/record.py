"""Chalice's record of what it deployed, kept in the stage's own stack.

`chalice deploy` and `chalice delete` read `.chalice/deployed/<stage>.json`
to know the stage's REST API, functions and event sources, and `deploy`
writes it anew. Kept on one disk only, a deploy from another clone would
make a second REST API and second event source mappings (Chalice finds
those by the ids it recorded, not by name), and a teardown from another
clone would leave the functions running. So the record lives in the stage's
state bucket, an output of its stack: fetched before Chalice runs, saved
after, whether Chalice succeeded or not.

Not an SSM parameter: the record of six functions and an API is already
past a standard parameter's 4 KB.

LIMITATION: two deploys of one stage at once are not kept apart; the last
to finish writes the record. Closing it needs a lock (a conditional write
of a lock object) held from the fetch to the save.
LIMITATION: Chalice writes its record only when a deploy succeeds; what a
failed deploy made before failing is not in it. Functions and roles are
found again by name at the next deploy, but a REST API that a failed first
deploy made is not: it is left over, to delete by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger("infra.deploy")

_MISSING = {"NoSuchKey", "404"}


@dataclass(frozen=True)
class DeployRecord:
    """One stage's record: in its state bucket, and where Chalice reads it."""

    s3: Any
    bucket: str
    stage: str
    # The directory Chalice sees as `.chalice/deployed/`.
    local_dir: Path

    @property
    def key(self) -> str:
        # Chalice's own path, so a copy fetched by hand goes where it belongs.
        return f".chalice/deployed/{self.stage}.json"

    @property
    def local_file(self) -> Path:
        return self.local_dir / f"{self.stage}.json"

    def fetch(self) -> None:
        """Put the stage's kept record where Chalice reads it."""
        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _MISSING:
                raise
            if self.local_file.exists():
                # A stage deployed before its record was kept: this clone's
                # record is the stage's, and is saved after this run.
                log.info("      taking this clone's record %s", self.local_file)
            return
        self.local_dir.mkdir(parents=True, exist_ok=True)
        self.local_file.write_bytes(answer["Body"].read())

    def save(self) -> None:
        """Keep what Chalice recorded in the state bucket."""
        if not self.local_file.exists():
            return
        self.s3.put_object(
            Bucket=self.bucket,
            Key=self.key,
            Body=self.local_file.read_bytes(),
            ContentType="application/json",
        )
