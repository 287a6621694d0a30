from shishi.cli import main

main()
