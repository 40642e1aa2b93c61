"""JavaScript matchers: rules the declarative ``js`` patterns cannot express.

One module per rule, named after it; each exposes ``nodes(module, package)``, the syntax
nodes where the rule fires. A rule file selects one with ``match: {matcher: id}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from tree_sitter import Node

from packguard.analyzer.engines.js_flow import JsModule, JsPackage
from packguard.analyzer.engines.jsrules import (
    backdoor_js_reverse_shell,
    exfiltration_js_host_info_sent,
    exfiltration_js_secrets_sent,
    obfuscation_js_encoded_blob,
    obfuscation_js_minified_install_script,
    obfuscation_js_string_array,
    remote_code_js_download_exec,
)

JsMatcher = Callable[[JsModule, JsPackage], Iterator[Node]]

JS_MATCHERS: dict[str, JsMatcher] = {
    "backdoor-js-reverse-shell": backdoor_js_reverse_shell.nodes,
    "exfiltration-js-host-info-sent": exfiltration_js_host_info_sent.nodes,
    "exfiltration-js-secrets-sent": exfiltration_js_secrets_sent.nodes,
    "obfuscation-js-encoded-blob": obfuscation_js_encoded_blob.nodes,
    "obfuscation-js-minified-install-script": obfuscation_js_minified_install_script.nodes,
    "obfuscation-js-string-array": obfuscation_js_string_array.nodes,
    "remote-code-js-download-exec": remote_code_js_download_exec.nodes,
}
