package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// groupStore is a Store over a one-connection SQLite writer with group
// commit, and a table of its own to write to.
func groupStore(t *testing.T) *Store {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "g.db")+"?_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	s := New(db, db, Dialect{Name: "test", BindTime: func(t time.Time) any { return t },
		ScanTime:  func(any) (time.Time, error) { return time.Time{}, nil },
		Violation: func(error) Violation { return NoViolation }, CacheStatements: true, GroupCommit: true,
		ByteLength: "length(CAST(%s AS BLOB))", Aggregate: "group_concat(%s, '')"})
	t.Cleanup(func() { s.Close() })
	return s
}

// committed holds, by store and key, the puts whose afterCommit ran.
var committed sync.Map

type committedKey struct {
	s *Store
	k string
}

func put(ctx context.Context, s *Store, k, v string, fail bool) error {
	return s.write(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO kv (k, v) VALUES ($1, $2)", k, v); err != nil {
			return err
		}
		tx.afterCommit(func() { committed.Store(committedKey{s, k}, true) })
		if fail {
			return errors.New("job fails after writing")
		}
		return nil
	})
}

func keys(t *testing.T, s *Store) map[string]bool {
	t.Helper()
	rows, err := s.r.Query("SELECT k FROM kv")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		rows.Scan(&k)
		out[k] = true
	}
	return out
}

// TestGroupCommitBatchKeepsEachJobApart holds the writer connection so
// that many jobs queue, then lets them run as one batch: the ones that
// fail leave nothing, the others are all committed, and a cancelled
// caller's job is not run.
func TestGroupCommitBatchKeepsEachJobApart(t *testing.T) {
	s := groupStore(t)
	ctx := context.Background()
	// The committer blocks on BeginTx while the only connection is
	// taken here, so the jobs sent meanwhile pile up.
	hold, err := s.w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = put(ctx, s, fmt.Sprint("k", i), "v", i%5 == 0)
		}()
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancelErr := make(chan error, 1)
	go func() { cancelErr <- put(cancelled, s, "cancelled", "v", false) }()
	time.Sleep(200 * time.Millisecond) // let the jobs reach the committer's queue
	cancel()
	hold.Close()
	wg.Wait()

	got := keys(t, s)
	for i := range n {
		k := fmt.Sprint("k", i)
		_, ran := committed.Load(committedKey{s, k})
		if i%5 == 0 {
			if errs[i] == nil || got[k] || ran {
				t.Errorf("failing job %d: err %v, row kept %v, afterCommit ran %v", i, errs[i], got[k], ran)
			}
		} else if errs[i] != nil || !got[k] || !ran {
			t.Errorf("job %d: err %v, row kept %v, afterCommit ran %v", i, errs[i], got[k], ran)
		}
	}
	if err := <-cancelErr; err == nil && !got["cancelled"] {
		t.Error("the cancelled job reported success but wrote nothing")
	} else if err != nil && got["cancelled"] {
		t.Errorf("the cancelled job reported %v but its row was committed", err)
	}
}

// A lone writer is committed at once, and a duplicate key is its own
// error only.
func TestGroupCommitSingleJobs(t *testing.T) {
	s := groupStore(t)
	ctx := context.Background()
	if err := put(ctx, s, "a", "1", false); err != nil {
		t.Fatal(err)
	}
	if _, ran := committed.Load(committedKey{s, "a"}); !ran {
		t.Error("a lone job's afterCommit did not run before it was answered")
	}
	if err := put(ctx, s, "x", "1", true); err == nil {
		t.Fatal("a failing job succeeded")
	}
	if _, ran := committed.Load(committedKey{s, "x"}); ran {
		t.Error("a failed lone job's afterCommit ran")
	}
	if err := put(ctx, s, "a", "2", false); err == nil {
		t.Fatal("a duplicate key was accepted")
	}
	if err := put(ctx, s, "b", "1", false); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, s); !got["a"] || !got["b"] || len(got) != 2 {
		t.Fatalf("rows %v", got)
	}
	// The statements ran often enough to be cached by now.
	deadline := time.Now().Add(5 * time.Second)
	for s.stmts.n.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.stmts.n.Load() == 0 {
		t.Error("no statement was cached")
	}
	s.Close()
	if err := put(ctx, s, "c", "1", false); !errors.Is(err, errStoreClosed) {
		t.Fatalf("write after Close: %v", err)
	}
}
