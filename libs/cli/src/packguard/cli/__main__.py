from packguard.cli.main import run

run()
