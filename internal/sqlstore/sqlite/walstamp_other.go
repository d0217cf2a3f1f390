//go:build !unix

package sqlite

import (
	"context"
	"errors"

	"github.com/glint-image/glint/internal/sqlstore"
)

// walStamp needs a shared mapping of the WAL index (walstamp.go); here
// the store asks the database for every show's revision instead.
type walStamp struct{}

func openWALStamp(context.Context, string) (*walStamp, error) {
	return nil, errors.New("sqlite: no WAL index mapping on this platform")
}

func (*walStamp) read() (sqlstore.Stamp, bool) { return sqlstore.Stamp{}, false }

func (*walStamp) close() error { return nil }
