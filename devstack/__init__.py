"""The local stack: moto, provisioning, the event-source runner and `chalice local`.

`chalice local` serves the API but runs no event handler, and moto stores events
but runs no Lambda code. This package fills the gap for development and tests:
it starts a moto server, creates the resources `.chalice/config.json` names,
delivers S3, SQS, EventBridge and schedule events to the app's handlers with
Lambda's semantics, and starts `chalice local` against it all. Nothing here is
shipped to Lambda.
"""
