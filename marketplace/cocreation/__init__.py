"""Co-creation around the challenge: the readiness self-check for public bodies (and which service to
put forward first), kept per organisation so that progress shows over time."""
