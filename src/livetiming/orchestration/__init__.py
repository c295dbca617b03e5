"""Components of the master router: authenticator, directory, Crossbar config."""
