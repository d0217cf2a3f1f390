package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat. Linux has
// reported USER_HZ as 100 on every architecture for decades; there is no
// portable way to ask for it without cgo.
const clockTick = 10 * time.Millisecond

// procTree is a server process and every process under it (Glance forks
// one worker per core; glint is one process). Its CPU and memory are read
// from /proc, so it works for any server on this machine.
type procTree struct {
	root int
}

// pids returns root and all of its descendants that are alive now.
func (p procTree) pids() []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	out := []int{p.root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// statFields returns the fields of /proc/PID/stat after the command name,
// which may itself hold spaces and parentheses.
func statFields(pid int) ([]string, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, false
	}
	return strings.Fields(string(b[i+1:])), true
}

func parentOf(pid int) (int, bool) {
	f, ok := statFields(pid)
	if !ok || len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

// CPU is the processor time the tree has used so far (user + system, of
// live processes and of the children they have waited for).
func (p procTree) CPU() time.Duration {
	var ticks int64
	for _, pid := range p.pids() {
		f, ok := statFields(pid)
		if !ok || len(f) < 15 {
			continue
		}
		// Fields 14-17 of stat (utime, stime, cutime, cstime) are at
		// offsets 11-14 once pid and comm are cut off.
		for _, s := range f[11:15] {
			n, _ := strconv.ParseInt(s, 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * clockTick
}

// RSS is the resident memory of the tree in bytes.
func (p procTree) RSS() int64 {
	var total int64
	for _, pid := range p.pids() {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				total += kb << 10
			}
		}
	}
	return total
}

// peakSampler records the largest RSS of a tree while it runs.
type peakSampler struct {
	stop chan struct{}
	done sync.WaitGroup
	peak int64
}

func samplePeak(p procTree, every time.Duration) *peakSampler {
	s := &peakSampler{stop: make(chan struct{})}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.peak = max(s.peak, p.RSS())
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the peak in bytes.
func (s *peakSampler) Stop() int64 {
	close(s.stop)
	s.done.Wait()
	return s.peak
}

// meter measures one stretch of work on a server tree: its CPU and the
// wall time.
type meter struct {
	tree  *procTree
	cpu0  time.Duration
	start time.Time
}

func startMeter(tree *procTree) meter {
	m := meter{tree: tree, start: time.Now()}
	if tree != nil {
		m.cpu0 = tree.CPU()
	}
	return m
}

// stop returns the elapsed wall time and the server CPU used (-1 when no
// server process is known).
func (m meter) stop() (wall, cpu time.Duration) {
	wall = time.Since(m.start)
	cpu = -1
	if m.tree != nil {
		cpu = m.tree.CPU() - m.cpu0
	}
	return wall, cpu
}

func (p procTree) String() string { return fmt.Sprintf("pid %d", p.root) }
