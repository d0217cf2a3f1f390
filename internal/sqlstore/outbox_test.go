package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// TestWrittenImageStaysInItsJob runs many writes as one group-commit batch,
// all about the same image id: some with an outbox hook, some not, some
// that hand their image over and some that do not. A hook sees its own
// change's image, or none, never another job's.
func TestWrittenImageStaysInItsJob(t *testing.T) {
	s := groupStore(t)
	ctx := context.Background()
	hold, err := s.w.Conn(ctx) // the jobs queue while the connection is held
	if err != nil {
		t.Fatal(err)
	}
	const n = 60
	var wg sync.WaitGroup
	var mu sync.Mutex
	var batched bool
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			img := &image.Image{ID: "same"}
			hooked, hands := i%2 == 0, i%3 != 0
			jobCtx := ctx
			var seen *image.Image
			var ran bool
			if hooked {
				jobCtx = WithOutboxHook(ctx, func(_ context.Context, tx *Tx) ([]OutboxMessage, error) {
					seen, ran = tx.left, true
					mu.Lock()
					batched = batched || tx.detached
					mu.Unlock()
					return nil, nil
				})
			}
			err := s.write(jobCtx, func(tx *Tx) error {
				if _, err := tx.ExecContext(ctx, "INSERT INTO kv (k, v) VALUES ($1, $2)", fmt.Sprint("k", i), "v"); err != nil {
					return err
				}
				if hands {
					tx.wrote(img)
				}
				return nil
			})
			switch {
			case err != nil:
				t.Errorf("job %d: %v", i, err)
			case hooked && !ran:
				t.Errorf("job %d: the hook did not run", i)
			case hooked && hands && seen != img:
				t.Errorf("job %d: the hook saw %p, not its image %p", i, seen, img)
			case hooked && !hands && seen != nil:
				t.Errorf("job %d: the hook saw another job's image", i)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	hold.Close()
	wg.Wait()
	if !batched {
		t.Error("no job ran in a group-commit transaction")
	}
}
