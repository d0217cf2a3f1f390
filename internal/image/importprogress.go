package image

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// progressEvery is how often a running import step reports its bytes: to
// the task (saved with its next lease renewal) and to the image record.
const progressEvery = 2 * time.Second

// importProgress counts the bytes of one import step and reports them
// while the step runs, stalls included.
type importProgress struct {
	ctx   context.Context
	j     *importJob
	step  string
	total int64
	done  atomic.Int64
	stop  chan struct{}
	wg    sync.WaitGroup
}

// progress starts a step (download, prepare, store:<id>) of total bytes,
// -1 when unknown, and reports it now and every progressEvery until
// finish.
func (j *importJob) progress(ctx context.Context, step string, total int64) *importProgress {
	p := &importProgress{ctx: ctx, j: j, step: step, total: total, stop: make(chan struct{})}
	p.report()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		last := int64(0)
		for {
			select {
			case <-p.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if n := p.done.Load(); n != last {
					last = n
					p.report()
				}
			}
		}
	}()
	return p
}

func (p *importProgress) add(n int) { p.done.Add(int64(n)) }

// finish reports the step's final figures and stops the reports.
func (p *importProgress) finish() {
	close(p.stop)
	p.wg.Wait()
	p.report()
}

// report tells the task (Glance's message, "Copied N MiB", and the exact
// figures in its result) and the image (os_glance_import_bytes_done and
// _total).
func (p *importProgress) report() {
	done := p.done.Load()
	result := map[string]any{"step": p.step, "bytes_done": done, "bytes_total": nil}
	total := ""
	if p.total >= 0 {
		result["bytes_total"] = p.total
		total = strconv.FormatInt(p.total, 10)
	}
	p.j.rep.Report(fmt.Sprintf("Copied %d MiB", done>>20), result)
	err := p.j.s.store.UpdateImport(p.ctx, p.j.id, p.j.t.ID, ImportUpdate{SetProps: map[string]string{
		propBytesDone: strconv.FormatInt(done, 10), propBytesTotal: total}}, p.j.s.now())
	if err != nil && p.ctx.Err() == nil {
		p.j.log.WarnContext(p.ctx, "recording import progress", "err", err)
	}
}

// countingReader feeds the bytes read to a progress.
type countingReader struct {
	r io.Reader
	p *importProgress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.add(n)
	return n, err
}
