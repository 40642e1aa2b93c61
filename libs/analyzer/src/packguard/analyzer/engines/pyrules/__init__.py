"""Python matchers: rules the declarative ``python-ast`` patterns cannot express.

One module per rule, named after it; each exposes ``lines(module)``, the lines where the
rule fires in ``module``, or, for a rule that follows data across modules, ``KIND``: the
sources whose leaks it reports (``python_leaks``). A rule file selects one with
``match: {matcher: id}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from packguard.analyzer.engines.pyrules import (
    backdoor_python_reverse_shell,
    execution_python_silent_shell,
    exfiltration_python_host_info_sent,
    exfiltration_python_secrets_sent,
    install_hook_setup_py_cmdclass,
    obfuscation_python_encoded_blob,
    remote_code_python_download_run,
)
from packguard.analyzer.engines.python_facts import PyModule
from packguard.analyzer.engines.python_flow import SourceKind

PythonMatcher = Callable[[PyModule], Iterator[int]]

PYTHON_MATCHERS: dict[str, PythonMatcher | SourceKind] = {
    "backdoor-python-reverse-shell": backdoor_python_reverse_shell.lines,
    "execution-python-silent-shell": execution_python_silent_shell.lines,
    "exfiltration-python-host-info-sent": exfiltration_python_host_info_sent.KIND,
    "exfiltration-python-secrets-sent": exfiltration_python_secrets_sent.KIND,
    "install-hook-setup-py-cmdclass": install_hook_setup_py_cmdclass.lines,
    "obfuscation-python-encoded-blob": obfuscation_python_encoded_blob.lines,
    "remote-code-python-download-run": remote_code_python_download_run.lines,
}
