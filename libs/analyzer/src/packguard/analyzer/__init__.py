"""packguard's analysis engine; runs only inside the sandbox.

Imports nothing from ``packguard.common`` beyond ``report`` and ``sandbox``, and no
network, database or container client.
"""
