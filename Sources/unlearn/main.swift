import UnlearnCLI

Unlearn.main()
