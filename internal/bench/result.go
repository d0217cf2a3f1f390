package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Result is one measured figure set. Which fields are set depends on the
// workload: request workloads have rates, latencies and CPU per request;
// transfers have MiB/s and CPU per GiB; startup, walk and memory have
// their one value.
type Result struct {
	Server   string `json:"server"` // glint, glance, endpoint, trivial, machine
	Workload string `json:"workload"`
	Clients  int    `json:"clients,omitempty"`

	Requests  int     `json:"requests,omitempty"`
	Seconds   float64 `json:"seconds,omitempty"`
	ReqPerSec float64 `json:"req_per_s,omitempty"`
	P50ms     float64 `json:"p50_ms,omitempty"`
	P95ms     float64 `json:"p95_ms,omitempty"`
	P99ms     float64 `json:"p99_ms,omitempty"`
	// Errors counts unexpected answers by status ("conn": no answer).
	Errors map[string]int `json:"errors,omitempty"`
	// CPUms is the server's CPU per request, in milliseconds.
	CPUms float64 `json:"server_cpu_ms_per_req,omitempty"`

	Bytes     int64   `json:"bytes,omitempty"`
	MiBPerSec float64 `json:"mib_per_s,omitempty"`
	// CPUPerGiB is the server's (or, for hashes, this process's) CPU
	// seconds per GiB moved.
	CPUPerGiB float64 `json:"cpu_s_per_gib,omitempty"`

	// CPUSeconds is the server's CPU for one walk, of Images images.
	CPUSeconds float64 `json:"server_cpu_s,omitempty"`
	Images     int     `json:"images,omitempty"`
	RSSMiB     float64 `json:"rss_mib,omitempty"`

	// Round is the round of a request workload's result when the
	// workloads ran several times (Options.Rounds), counted from 1.
	Round int `json:"round,omitempty"`
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func requestResult(server, name string, clients int, l load, wall, cpu time.Duration) Result {
	r := Result{Server: server, Workload: name, Clients: clients, Requests: l.requests,
		Seconds: wall.Seconds(), P50ms: ms(percentile(l.latencies, 0.50)),
		P95ms: ms(percentile(l.latencies, 0.95)), P99ms: ms(percentile(l.latencies, 0.99))}
	if wall > 0 {
		r.ReqPerSec = float64(l.requests) / wall.Seconds()
	}
	if len(l.errors) > 0 {
		r.Errors = l.errors
	}
	if cpu >= 0 && l.requests > 0 {
		r.CPUms = ms(cpu) / float64(l.requests)
	}
	return r
}

func transferResult(server, name string, streams int, bytes int64, wall, cpu time.Duration) Result {
	r := Result{Server: server, Workload: name, Clients: streams, Bytes: bytes, Seconds: wall.Seconds()}
	if wall > 0 {
		r.MiBPerSec = mib(bytes) / wall.Seconds()
	}
	if cpu >= 0 && bytes > 0 {
		r.CPUPerGiB = cpu.Seconds() / (float64(bytes) / (1 << 30))
	}
	return r
}

func hashResults(c hashCost) []Result {
	rate := func(d time.Duration) float64 { return 1024 / d.Seconds() }
	return []Result{
		{Server: "machine", Workload: "md5", CPUPerGiB: c.md5PerGiB.Seconds(), MiBPerSec: rate(c.md5PerGiB)},
		{Server: "machine", Workload: "sha512", CPUPerGiB: c.sha512PerGiB.Seconds(), MiBPerSec: rate(c.sha512PerGiB)},
	}
}

func (r Result) writeJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// summary is the result in one log line.
func (r Result) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Server, r.Workload)
	if r.Clients > 0 {
		fmt.Fprintf(&b, " x%d", r.Clients)
	}
	if r.Round > 0 {
		fmt.Fprintf(&b, " (round %d)", r.Round)
	}
	switch {
	case r.ReqPerSec > 0:
		fmt.Fprintf(&b, ": %.0f req/s, p50 %.2f ms, p99 %.2f ms", r.ReqPerSec, r.P50ms, r.P99ms)
		if r.CPUms > 0 {
			fmt.Fprintf(&b, ", %.3f ms CPU/req", r.CPUms)
		}
	case r.MiBPerSec > 0:
		fmt.Fprintf(&b, ": %.0f MiB/s", r.MiBPerSec)
		if r.CPUPerGiB > 0 {
			fmt.Fprintf(&b, ", %.2f CPU-s/GiB", r.CPUPerGiB)
		}
	case r.RSSMiB > 0:
		fmt.Fprintf(&b, ": %.1f MiB resident", r.RSSMiB)
	case r.Seconds > 0:
		fmt.Fprintf(&b, ": %.3f s", r.Seconds)
	}
	if len(r.Errors) > 0 {
		keys := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, ", %d × %s", r.Errors[k], k)
		}
	}
	return b.String()
}
