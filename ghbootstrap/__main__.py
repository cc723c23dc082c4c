from ghbootstrap.cli import main

main()
