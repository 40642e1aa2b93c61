# ruff: noqa: E501  (sample sources are data: their lines are kept whole to stay readable)
"""Hard benign samples: legitimate packages whose code looks risky at a glance — build
tools spawning compilers, CLIs reading credentials for the registry the user configured,
HTTP clients, minified vendored libraries, setup.py customising build_ext."""

from __future__ import annotations

import base64
import hashlib

from tests.corpus.samples import Kind, Sample

_RANDOM = base64.b64encode(b"".join(hashlib.sha256(bytes([i])).digest() for i in range(40)))
FONT_URI = "data:font/woff2;base64," + _RANDOM.decode()
MINIFIED = (
    "!function(e,t){'object'==typeof exports?module.exports=t():e.Lib=t()}(this,function(){"
    + "".join(f"var a{i}=function(n){{return n*{i}+Math.max(n,{i})}};" for i in range(120))
    + "return{version:'3.1.0',font:'"
    + FONT_URI
    + "'}});\n"
)


def py(name: str, technique: str, files: dict[str, str], kind: Kind = "sdist") -> Sample:
    return Sample(name, "2.3.1", kind, "benign", technique, files)


def npm(name: str, technique: str, files: dict[str, str], scripts: dict[str, str]) -> Sample:
    return Sample(name, "2.3.1", "npm", "benign", technique, files, scripts)


PYPI = [
    py(
        "fastcodec",
        "setup.py with cmdclass build_ext spawning the compiler",
        {
            "setup.py": (
                "import subprocess\nfrom setuptools import Extension, setup\n"
                "from setuptools.command.build_ext import build_ext\n\n"
                "class BuildExt(build_ext):\n"
                "    def run(self):\n"
                "        subprocess.check_call(['gcc', '--version'])\n"
                "        super().run()\n\n"
                "setup(name='fastcodec', ext_modules=[Extension('fastcodec._c', ['src/c.c'])],\n"
                "      cmdclass={'build_ext': BuildExt})\n"
            ),
            "src/c.c": "int answer(void) { return 42; }\n",
        },
    ),
    py(
        "gitversioned",
        "setup.py asks git for its version at module level",
        {
            "setup.py": (
                "import subprocess\nfrom setuptools import setup\n"
                "try:\n"
                "    version = subprocess.check_output(['git', 'describe', '--tags'],\n"
                "                                      stderr=subprocess.DEVNULL).decode().strip()\n"
                "except (OSError, subprocess.CalledProcessError):\n    version = '0.0.0'\n"
                "setup(name='gitversioned', version=version)\n"
            ),
        },
    ),
    py(
        "uploadtool",
        "publishing CLI reads ~/.pypirc and uploads to the configured index",
        {
            "uploadtool/__init__.py": (
                "import configparser, os\n\nimport requests\n\n"
                "def upload(dist, repository_name='default'):\n"
                "    config = configparser.ConfigParser()\n"
                "    config.read(os.path.expanduser('~/.pypirc'))\n"
                "    section = config[repository_name]\n"
                "    with open(dist, 'rb') as handle:\n"
                "        return requests.post(section['repository'], files={'content': handle},\n"
                "                             auth=(section['username'], section['password']))\n"
            ),
        },
    ),
    py(
        "tinyhttp",
        "HTTP client with sockets, urllib and URLs in code",
        {
            "tinyhttp/__init__.py": (
                '"""A small HTTP client. See https://docs.example/tinyhttp for usage."""\n'
                "import socket, ssl, urllib.parse\n\n"
                "DEFAULT_UA = 'tinyhttp/2.3 (+https://docs.example/tinyhttp)'\n\n"
                "def get(url, headers=None, timeout=10):\n"
                "    parts = urllib.parse.urlsplit(url)\n"
                "    sock = socket.create_connection((parts.hostname, parts.port or 443), timeout)\n"
                "    if parts.scheme == 'https':\n"
                "        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)\n"
                "    request = f'GET {parts.path or \"/\"} HTTP/1.1\\r\\nHost: {parts.hostname}\\r\\n\\r\\n'\n"
                "    sock.sendall(request.encode())\n"
                "    return sock.recv(65536)\n"
            ),
        },
        kind="wheel",
    ),
    py(
        "covhook",
        "coverage-style .pth start-up hook",
        {
            "covhook.pth": "import covhook; covhook.process_startup()\n",
            "covhook/__init__.py": (
                "import os\n\ndef process_startup():\n"
                "    if os.environ.get('COVHOOK_PROCESS_START'):\n        print('measuring')\n"
            ),
        },
        kind="wheel",
    ),
    py(
        "cloudcfg",
        "reads cloud config for the region and profile, sends nothing",
        {
            "cloudcfg/__init__.py": (
                "import configparser, os\n\n"
                "def region(profile='default'):\n"
                "    parser = configparser.ConfigParser()\n"
                "    parser.read(os.path.expanduser('~/.aws/config'))\n"
                "    return parser.get(f'profile {profile}', 'region', fallback='us-east-1')\n"
            ),
        },
    ),
    py(
        "shellcomplete",
        "CLI prints how to enable completion in ~/.bashrc",
        {
            "shellcomplete/__init__.py": (
                "import sys\n\nSNIPPET = 'eval \"$(shellcomplete --init bash)\"'\n\n"
                "def instructions():\n"
                "    sys.stdout.write(f'Add this line to ~/.bashrc:\\n  {SNIPPET}\\n')\n"
            ),
        },
    ),
    py(
        "templar",
        "template engine compiling generated code with exec",
        {
            "templar/__init__.py": (
                "def compile_template(source):\n"
                "    lines = ['def render(ctx):', '    out = []']\n"
                "    for part in source.split('{{'):\n"
                "        lines.append(f'    out.append({part!r})')\n"
                "    lines.append('    return \"\".join(out)')\n"
                "    namespace = {}\n"
                "    exec(compile('\\n'.join(lines), '<template>', 'exec'), namespace)\n"
                "    return namespace['render']\n"
            ),
        },
    ),
    py(
        "buildrunner",
        "task runner running shell commands on request",
        {
            "buildrunner/__init__.py": (
                "import os, subprocess\n\n"
                "def run(task, env=None):\n"
                "    merged = dict(os.environ)\n    merged.update(env or {})\n"
                "    return subprocess.run(task, shell=True, env=merged, check=True)\n"
            ),
        },
    ),
    py(
        "certbundle",
        "vendors a CA bundle and an embedded font",
        {
            "certbundle/__init__.py": (
                "CA = '''-----BEGIN CERTIFICATE-----\n"
                + _RANDOM.decode()
                + "\n-----END CERTIFICATE-----'''\n"
                f"FONT = '{FONT_URI}'\n"
            ),
        },
    ),
]

NPM = [
    npm(
        "native-addon",
        "node-gyp build at install, compiler spawned from build.js",
        {
            "binding.gyp": "{ 'targets': [{ 'target_name': 'addon', 'sources': ['addon.cc'] }] }\n",
            "build.js": (
                "const { execSync } = require('child_process');\n"
                "execSync('node-gyp rebuild', { stdio: 'inherit' });\n"
                "execSync(`${process.env.CC || 'cc'} --version`);\n"
            ),
        },
        {"install": "node build.js"},
    ),
    npm(
        "registry-cli",
        "CLI reads ~/.npmrc and sends the token to the configured registry",
        {
            "index.js": (
                "const fs = require('fs');\nconst os = require('os');\nconst path = require('path');\n"
                "const https = require('https');\n\n"
                "function token(registry) {\n"
                "  const rc = fs.readFileSync(path.join(os.homedir(), '.npmrc'), 'utf8');\n"
                "  const host = new URL(registry).host;\n"
                "  const line = rc.split('\\n').find((l) => l.includes(`//${host}/:_authToken=`));\n"
                "  return line ? line.split('=')[1] : undefined;\n}\n\n"
                "function whoami(registry = process.env.npm_config_registry) {\n"
                "  const req = https.request(new URL('-/whoami', registry), {\n"
                "    headers: { authorization: `Bearer ${token(registry)}` },\n  });\n"
                "  req.end();\n  return req;\n}\nmodule.exports = { whoami };\n"
            ),
        },
        {},
    ),
    npm(
        "vendored-lib",
        "minified vendored library with an embedded font",
        {
            "dist/lib.min.js": MINIFIED,
            "index.js": "module.exports = require('./dist/lib.min.js');\n",
        },
        {},
    ),
    npm(
        "globalshim",
        "globalThis polyfill and a template compiler using Function",
        {
            "index.js": (
                "var g = typeof globalThis !== 'undefined' ? globalThis : Function('return this')();\n"
                "function compile(tpl) {\n"
                "  var body = 'return ' + JSON.stringify(tpl).replace(/{{(\\w+)}}/g, '\" + d.$1 + \"');\n"
                "  return new Function('d', body);\n}\nmodule.exports = { g, compile };\n"
            ),
        },
        {},
    ),
    npm(
        "fetchy",
        "HTTP client without telemetry; URLs in docs and defaults",
        {
            "index.js": (
                "// Usage: see https://docs.example/fetchy\n"
                "const http = require('http');\nconst https = require('https');\n"
                "function request(url, options = {}) {\n"
                "  const lib = url.startsWith('https:') ? https : http;\n"
                "  return new Promise((resolve, reject) => {\n"
                "    const req = lib.request(url, options, (res) => {\n"
                "      let body = '';\n      res.on('data', (c) => { body += c; });\n"
                "      res.on('end', () => resolve(JSON.parse(body)));\n    });\n"
                "    req.on('error', reject);\n    req.end(options.body);\n  });\n}\n"
                "module.exports = { request };\n"
            ),
        },
        {},
    ),
    npm(
        "thanks-banner",
        "postinstall prints a banner with node -e",
        {},
        {
            "postinstall": "node -e \"console.log('Thanks for using thanks-banner!')\"",
        },
    ),
    npm(
        "binfetch",
        "postinstall downloads a platform archive and unpacks it",
        {
            "install.js": (
                "const https = require('https');\nconst fs = require('fs');\n"
                "const { execSync } = require('child_process');\n"
                "const base = process.env.BINFETCH_MIRROR;\n"
                "const archive = `${__dirname}/bin.tgz`;\n"
                "https.get(`${base}/${process.platform}-${process.arch}.tgz`, (res) => {\n"
                "  res.pipe(fs.createWriteStream(archive)).on('finish', () => {\n"
                "    execSync(`tar xzf ${archive} -C ${__dirname}`);\n  });\n});\n"
            ),
        },
        {"postinstall": "node install.js"},
    ),
]

BENIGN: tuple[Sample, ...] = (*PYPI, *NPM)
