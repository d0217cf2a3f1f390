package notify_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/notify"
	"github.com/glint-image/glint/internal/sqlstore/postgres"
	"github.com/glint-image/glint/internal/sqlstore/postgres/pgtest"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
	"github.com/glint-image/glint/internal/task"
	"github.com/glint-image/glint/internal/testenv"
)

// records is what the decorators wrap and the relay reads.
type records interface {
	image.Store
	task.Store
	outbox
}

func recordStores(t *testing.T) map[string]func() records {
	return map[string]func() records{
		"sqlite": func() records {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "glint.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
		"postgres": func() records {
			if os.Getenv(pgtest.DSNVar) == "" {
				testenv.Missing(t, pgtest.DSNVar+" is not set")
			}
			st, err := postgres.Open(context.Background(), pgtest.Schema(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
	}
}

// drain returns the waiting notifications' types and payloads, and
// deletes them.
func drain(t *testing.T, st outbox) (types []string, payloads []map[string]any) {
	t.Helper()
	ctx := context.Background()
	msgs, err := st.PendingOutbox(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, m := range msgs {
		et, _, raw, _, err := notify.Decode(m.Body)
		if err != nil {
			t.Fatal(err)
		}
		var p map[string]any
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		types, payloads, ids = append(types, et), append(payloads, p), append(ids, m.ID)
	}
	if err := st.DeleteOutbox(ctx, ids); err != nil {
		t.Fatal(err)
	}
	return types, payloads
}

// TestImagePayloadsFromTheWrite checks that the payloads a create, a save
// and a delete build from the image they wrote (no read back) are the
// image as stored.
func TestImagePayloadsFromTheWrite(t *testing.T) {
	for name, open := range recordStores(t) {
		t.Run(name, func(t *testing.T) {
			st := open()
			ctx := context.Background()
			imgs := notify.NewNotifier("image.test", nil).WrapImages(st)
			now := time.Now().UTC()
			img := &image.Image{ID: "0b6e2a3c-40d4-4a4e-9a51-6c2b1e0f7a11", Status: image.StatusQueued,
				Visibility: image.VisibilityShared, Properties: map[string]string{"os_distro": "cirros"},
				Tags: []string{"b", "a"}, CreatedAt: now, UpdatedAt: now}
			owner := "p1"
			img.Owner = &owner
			if err := imgs.CreateImage(ctx, img); err != nil {
				t.Fatal(err)
			}
			saved := *img
			saved.Properties = map[string]string{"os_distro": "cirros", "os_version": "0.6"}
			saved.Tags = []string{"a"}
			saved.UpdatedAt = now.Add(2 * time.Second)
			if err := imgs.SaveImage(ctx, &saved, image.StatusQueued, img.UpdatedAt); err != nil {
				t.Fatal(err)
			}
			check := func(p map[string]any) {
				t.Helper()
				stored, err := st.GetImage(ctx, img.ID)
				if err != nil {
					t.Fatal(err)
				}
				tags, _ := p["tags"].([]any)
				var got []string
				for _, tag := range tags {
					got = append(got, tag.(string))
				}
				want := slices.Clone(stored.Tags)
				slices.Sort(got)
				slices.Sort(want)
				props, _ := json.Marshal(stored.Properties)
				gotProps, _ := json.Marshal(p["properties"])
				if p["id"] != stored.ID || p["status"] != string(stored.Status) || !slices.Equal(got, want) ||
					string(props) != string(gotProps) || p["updated_at"] != stored.UpdatedAt.Format("2006-01-02T15:04:05Z") ||
					p["deleted"] != stored.IsDeleted() {
					t.Errorf("payload %v, stored %+v", p, stored)
				}
			}
			types, payloads := drain(t, st)
			if !slices.Equal(types, []string{"image.create", "image.update"}) {
				t.Fatalf("events %v", types)
			}
			if err := imgs.SaveImage(ctx, &saved, image.StatusQueued, img.UpdatedAt); err == nil {
				t.Fatal("a stale save succeeded")
			}
			if types, _ := drain(t, st); len(types) != 0 {
				t.Fatalf("a failed save wrote %v", types)
			}
			// The create's payload is checked against the record before
			// the save changed it: read it back as it was.
			first := payloads[0]
			if first["status"] != "queued" || len(first["tags"].([]any)) != 2 || first["properties"].(map[string]any)["os_version"] != nil {
				t.Errorf("image.create payload %v", first)
			}
			check(payloads[1])
			if _, err := imgs.DeleteImage(ctx, img.ID, now.Add(5*time.Second)); err != nil {
				t.Fatal(err)
			}
			types, payloads = drain(t, st)
			if !slices.Equal(types, []string{"image.delete"}) {
				t.Fatalf("events %v", types)
			}
			check(payloads[0])
			if payloads[0]["deleted_at"] != now.Add(5*time.Second).Format("2006-01-02T15:04:05Z") {
				t.Errorf("image.delete payload %v", payloads[0])
			}
		})
	}
}

// TestTaskProcessingInTheClaim checks that task.processing is written by
// the claim's own transaction: once for a task's first claim, never for a
// claim that found nothing or took a task over from a dead runner.
func TestTaskProcessingInTheClaim(t *testing.T) {
	for name, open := range recordStores(t) {
		t.Run(name, func(t *testing.T) {
			st := open()
			ctx := context.Background()
			tasks := notify.NewNotifier("image.test", nil).WrapTasks(st, nil)
			now := time.Now().UTC()
			if got, err := tasks.ClaimTask(ctx, "n1", now, now.Add(time.Minute), now); err != nil || got != nil {
				t.Fatalf("claim of nothing: %v %v", got, err)
			}
			if types, _ := drain(t, st); len(types) != 0 {
				t.Fatalf("a claim of nothing wrote %v", types)
			}
			tk := &task.Task{ID: "5d1c9a2e-8f3b-4c6d-9e0a-1b2c3d4e5f60", Type: "api_image_import", Status: task.StatusPending,
				Owner: "p1", Input: map[string]any{}, CreatedAt: now, UpdatedAt: now}
			if err := tasks.CreateTask(ctx, tk); err != nil {
				t.Fatal(err)
			}
			got, err := tasks.ClaimTask(ctx, "n1", now, now.Add(time.Minute), now.Add(time.Second))
			if err != nil || got == nil {
				t.Fatalf("claim: %v %v", got, err)
			}
			types, payloads := drain(t, st)
			if !slices.Equal(types, []string{"task.create", "task.processing"}) {
				t.Fatalf("events %v", types)
			}
			if p := payloads[1]; p["id"] != tk.ID || p["status"] != "processing" || p["type"] != "api_image_import" {
				t.Errorf("task.processing payload %v", p)
			}
			// n1 dies: its lease ends and n2 takes the task over.
			later := now.Add(2 * time.Minute)
			if got, err := tasks.ClaimTask(ctx, "n2", later, later.Add(time.Minute), later); err != nil || got == nil || got.Attempts != 2 {
				t.Fatalf("take-over: %v %v", got, err)
			}
			if types, _ := drain(t, st); len(types) != 0 {
				t.Fatalf("a take-over wrote %v", types)
			}
		})
	}
}

// BenchmarkSaveImage is the record-store side of a notification: one
// image save on SQLite (its own transaction and commit), without
// notifications and with image.update written to the outbox in the same
// transaction. No relay runs: the outbox is emptied every 200 saves, as
// the relay would, outside the timer (so ns/op leaves it out, while
// cpu-ns/op and wchar-B/op, what the process used and wrote, keep it).
// What differs is the hook, the encoding, the outbox row in the commit
// and its delete.
//
//	go test -run '^$' -bench SaveImage -benchtime 3000x ./internal/notify
func BenchmarkSaveImage(b *testing.B) {
	for _, notified := range []bool{false, true} {
		name := "plain"
		if notified {
			name = "notified"
		}
		b.Run(name, func(b *testing.B) {
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "glint.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			var imgs image.Store = st
			if notified {
				imgs = notify.NewNotifier("image.bench", nil).WrapImages(st)
			}
			now := time.Now().UTC().Truncate(time.Microsecond)
			img := &image.Image{ID: "1c9e5d2a-7b3f-4e8a-9d6c-2f1a0b3c4d5e", Status: image.StatusQueued, Visibility: image.VisibilityShared,
				Properties: map[string]string{"os_distro": "cirros", "bench_counter": "0"}, Tags: []string{"bench"},
				CreatedAt: now, UpdatedAt: now}
			if err := st.CreateImage(ctx, img); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, wchar0 := cpuTime(), written()
			for i := range b.N {
				prev := img.UpdatedAt
				next := *img
				next.Properties = map[string]string{"os_distro": "cirros", "bench_counter": strconv.Itoa(i)}
				next.UpdatedAt = prev.Add(time.Microsecond)
				if err := imgs.SaveImage(ctx, &next, image.StatusQueued, prev); err != nil {
					b.Fatal(err)
				}
				img = &next
				if notified && i%200 == 199 {
					b.StopTimer()
					msgs, _ := st.PendingOutbox(ctx, 200)
					ids := make([]int64, len(msgs))
					for j, m := range msgs {
						ids[j] = m.ID
					}
					if err := st.DeleteOutbox(ctx, ids); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(written()-wchar0)/float64(b.N), "wchar-B/op")
		})
	}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// written is the number of bytes this process has written.
func written() int64 {
	b, _ := os.ReadFile("/proc/self/io")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
