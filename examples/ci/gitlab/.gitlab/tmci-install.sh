# Sourced by every job of the fan-out child pipeline to put tmci on PATH
# (the parent pipeline's jobs come from the tmci component). Keep the
# version equal to the component's. Set the CI/CD variable TMCI_INSTALL to
# a shell command that does it your way (a cached or mirrored binary).
if [ -n "${TMCI_INSTALL:-}" ]; then
  eval "$TMCI_INSTALL"
else
  GOFLAGS=-trimpath go install github.com/tmci/tmci/cmd/tmci@v0.1.0
  PATH="$(go env GOPATH)/bin:$PATH"
  export PATH
fi
