package e2e

import (
	"testing"

	"shopauth/internal/servetest"
)

// Package e2e drives the shopauth binary as an operator and a browser do: kill -9, signals, an
// upgrade from the previous release, two processes on one PostgreSQL database, a PostgreSQL
// outage, a restart on a systemd socket, and the Node and Chromium scripts of this folder
// (./test.sh sets SHOPAUTH_E2E=1 for those). TestMain builds the binary once for all of them.

func TestMain(m *testing.M) { servetest.Main(m) }
