# Sourced by every tmci job to put tmci on PATH. Set the CI/CD variable
# TMCI_INSTALL to a shell command that does it your way (a pinned release,
# a cached binary); by default Go installs the latest tmci.
if [ -n "${TMCI_INSTALL:-}" ]; then
  eval "$TMCI_INSTALL"
else
  go install github.com/tmci/tmci/cmd/tmci@latest
  PATH="$(go env GOPATH)/bin:$PATH"
  export PATH
fi
