from packguard.devstack.cli import app

app(prog_name="python -m packguard.devstack")
