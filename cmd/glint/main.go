// Command glint is the image service, its command line and its tools.
package main

import (
	"os"

	"github.com/glint-image/glint/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
