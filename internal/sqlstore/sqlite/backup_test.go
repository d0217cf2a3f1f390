package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

// TestBackupWhileWriting copies the database while writers keep adding
// images: the copy opens, is migrated already, and holds a prefix of the
// writes (every image it has is whole), and an existing target is
// refused.
func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "glint.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	create := func(i int) {
		name := fmt.Sprintf("img-%04d", i)
		now := time.Now().UTC()
		img := &image.Image{ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), Name: &name, Status: image.StatusQueued,
			Visibility: image.VisibilityShared, CreatedAt: now, UpdatedAt: now, Properties: map[string]string{"k": name}, Tags: []string{"t"}}
		if err := st.CreateImage(ctx, img); err != nil {
			t.Error(err)
		}
	}
	for i := range 50 {
		create(i)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 50; ; i++ {
			select {
			case <-stop:
				return
			default:
				create(i)
			}
		}
	})
	dest := filepath.Join(dir, "backup.db")
	err = sqlite.Backup(ctx, path, dest)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	copyStore, err := sqlite.Open(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer copyStore.Close()
	imgs, err := copyStore.ListImages(ctx, image.ListQuery{Caller: image.Scope{Admin: true}, Visibility: "all", Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) < 50 {
		t.Fatalf("the backup has %d images, want at least 50", len(imgs))
	}
	for _, img := range imgs {
		if img.Properties["k"] != *img.Name || len(img.Tags) != 1 {
			t.Fatalf("a partial image in the backup: %+v", img)
		}
	}
	if err := sqlite.Backup(ctx, path, dest); err == nil {
		t.Error("an existing backup file was overwritten")
	}
}
