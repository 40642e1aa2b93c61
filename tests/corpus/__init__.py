"""The labelled corpus: inert malicious-behaving and hard benign packages, built in memory.

``SAMPLES`` lists every sample; ``Sample.build()`` returns its artifact (filename, bytes).
Malicious samples only name reserved destinations (``*.invalid``, ``*.example``, the
TEST-NET ranges) and fake paths (``/nonexistent/...``); the tests and
``bench/detection.py`` analyse the archives statically. The one exception,
``ESM_IMPORT_STEALER``, reads the home directory's ``.npmrc`` because the sandbox test
(tests/integration/analyzer) runs it in the analyzer image, where that home holds bait
and every name resolves to the sandbox's own loopback listeners.
"""

from tests.corpus.benign import BENIGN
from tests.corpus.malicious import MALICIOUS
from tests.corpus.samples import Sample

SAMPLES: tuple[Sample, ...] = (*MALICIOUS, *BENIGN)

__all__ = ["BENIGN", "MALICIOUS", "SAMPLES", "Sample"]
