from sirene.cli import main

main()
