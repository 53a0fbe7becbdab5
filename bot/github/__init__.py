"""The GitHub publisher: the REST client, the one bot pull request, the state branch and the alarm issue."""
