"""The deployed stages: one CloudFormation stack of infrastructure per stage,
the app's functions on top of it with `chalice deploy`, least-privilege
policies for each function, and the deploy and teardown commands.

Everything the local stack also has (names, event patterns, queue settings,
CORS rules, the table's shape, the user pool's arguments) is read from the
same definitions in `devstack/resources.py`, `chalicelib/messages.py` and
`chalicelib/adapters/table_schema.py`, so the two cannot drift apart.
"""
