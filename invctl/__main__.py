from invctl.cli.main import run

run()
