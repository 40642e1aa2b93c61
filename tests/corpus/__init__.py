"""The labelled corpus: inert malicious-behaving and hard benign packages, built in memory.

``SAMPLES`` lists every sample; ``Sample.build()`` returns its artifact (filename, bytes).
Malicious samples only name reserved destinations (``*.invalid``, ``*.example``, the
TEST-NET ranges) and fake paths (``/nonexistent/...``); nothing here is ever executed:
the tests and ``bench/detection.py`` analyse the archives statically.
"""

from tests.corpus.benign import BENIGN
from tests.corpus.malicious import MALICIOUS
from tests.corpus.samples import Sample

SAMPLES: tuple[Sample, ...] = (*MALICIOUS, *BENIGN)

__all__ = ["BENIGN", "MALICIOUS", "SAMPLES", "Sample"]
