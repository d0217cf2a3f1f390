package image

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"
)

// progressEvery is how often a running import step reports its bytes: to
// the task (saved with its next lease renewal) and to the image record.
const progressEvery = 2 * time.Second

// importProgress counts the bytes of one import step.
type importProgress struct {
	ctx         context.Context
	j           *importJob
	step        string
	done, total int64
	last        time.Time
}

// progress starts a step (download, prepare, store:<id>) of total bytes,
// -1 when unknown, and reports it at once.
func (j *importJob) progress(ctx context.Context, step string, total int64) *importProgress {
	p := &importProgress{ctx: ctx, j: j, step: step, total: total}
	p.flush()
	return p
}

func (p *importProgress) add(n int) {
	p.done += int64(n)
	if time.Since(p.last) >= progressEvery {
		p.flush()
	}
}

// flush reports the step: the task's message is Glance's ("Copied N
// MiB"), its result carries the exact figures, and the image the
// properties os_glance_import_bytes_done and _total.
func (p *importProgress) flush() {
	p.last = time.Now()
	result := map[string]any{"step": p.step, "bytes_done": p.done, "bytes_total": nil}
	total := ""
	if p.total >= 0 {
		result["bytes_total"] = p.total
		total = strconv.FormatInt(p.total, 10)
	}
	p.j.rep.Report(fmt.Sprintf("Copied %d MiB", p.done>>20), result)
	err := p.j.s.store.UpdateImport(p.ctx, p.j.id, p.j.t.ID, ImportUpdate{SetProps: map[string]string{
		propBytesDone: strconv.FormatInt(p.done, 10), propBytesTotal: total}}, p.j.s.now())
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
