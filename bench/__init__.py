"""The ElGoose warehouse benchmark (``make bench``); see bench/README.md."""
