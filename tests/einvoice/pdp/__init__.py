"""Tests of the exchange with a plateforme agréée: CDAR messages and the sandbox platform."""
