package cli

import (
	"github.com/spf13/pflag"

	"github.com/glint-image/glint/internal/config"
)

type pflagFlag = pflag.Flag

// copyFlag copies the setting behind one explicitly given serve flag from
// the flag-bound config into the final one.
func copyFlag(dst, src *config.Config, name string) {
	switch name {
	case "data-dir":
		dst.DataDir = src.DataDir
	case "listen":
		dst.Listen = src.Listen
	case "auth":
		dst.Auth = src.Auth
	case "allow-remote-trusted-headers":
		dst.AllowRemoteTrustedHeaders = src.AllowRemoteTrustedHeaders
	case "size-cap":
		dst.SizeCap = src.SizeCap
	case "max-transfers":
		dst.MaxTransfers = src.MaxTransfers
	case "idle-timeout":
		dst.IdleTimeout = src.IdleTimeout
	case "shutdown-timeout":
		dst.ShutdownTimeout = src.ShutdownTimeout
	case "policy-file":
		dst.PolicyFile = src.PolicyFile
	case "policy-new-defaults":
		dst.PolicyNewDefaults = src.PolicyNewDefaults
	case "log-level":
		dst.LogLevel = src.LogLevel
	case "no-dashboard":
		dst.NoDashboard = src.NoDashboard
	case "metrics-listen":
		dst.MetricsListen = src.MetricsListen
	case "log-format":
		dst.LogFormat = src.LogFormat
	}
}
