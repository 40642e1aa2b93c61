"""The dynamic phases: install and import the package under strace, inside the sandbox.

``session`` runs them (bait planted, ``sinkhole`` up, ``tracer`` per step, the
``ecosystems`` adapter saying what to run); ``strace`` and ``activity`` turn traces into
what the package did; ``observations`` and ``matching`` apply the ``dynamic`` rules;
``reporting`` makes findings and the report's ``DynamicTrace``. ``hooks/`` holds files run
by the package's own interpreters (stand-ins, import and require drivers).
"""
