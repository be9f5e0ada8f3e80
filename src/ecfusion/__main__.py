from ecfusion.cli import run

run()
