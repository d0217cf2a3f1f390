// Package health answers load balancers and operators. GET /healthcheck
// behaves as oslo.middleware's healthcheck in Glance's pipeline (what
// kolla-ansible's and OSISM's HAProxy checks call): no token, any method,
// "OK" or 503 "DISABLED BY FILE" while the drain file exists, the body in
// plain text, JSON or HTML by Accept. The detailed check runs each
// dependency's probe (database, stores, identity) and is served only to
// admins on the API port, or on the metrics listener.
package health

import (
	"context"
	"encoding/json"
	"html"
	"mime"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Path is where the check is answered, exactly (as oslo.middleware
// matches it: /healthcheck/ is not the check).
const Path = "/healthcheck"

// Probe checks one dependency.
type Probe struct {
	// Name is what the detailed answer calls it ("database", "store
	// default", "identity").
	Name  string
	Check func(ctx context.Context) error
}

// Checker answers /healthcheck and the detailed check.
type Checker struct {
	// DisableFile drains the node while it exists; empty never drains.
	DisableFile string
	// Probes are run by the detailed check, concurrently.
	Probes []Probe
	// Timeout bounds each probe (5 s when zero).
	Timeout time.Duration
	start   time.Time
}

// New returns a checker.
func New(disableFile string, probes ...Probe) *Checker {
	return &Checker{DisableFile: disableFile, Probes: probes, start: time.Now()}
}

const disabledReason = "DISABLED BY FILE"

// Middleware answers Path itself and passes every other request to next,
// as the middleware sits in front of Glance's API.
func (c *Checker) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == Path {
			c.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP answers the simple check.
func (c *Checker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	healthy, reason := true, "OK"
	if c.DisableFile != "" {
		if _, err := os.Stat(c.DisableFile); err == nil {
			healthy, reason = false, disabledReason
		}
	}
	status := http.StatusOK
	if !healthy {
		status = http.StatusServiceUnavailable
	}
	if r.Method == http.MethodHead {
		if healthy {
			// oslo answers a healthy HEAD with 204 and nothing else.
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(status)
		return
	}
	ctype, body := render(accept(r), false, []any{reason}, nil)
	write(w, status, ctype, body)
}

// Result is one probe's outcome in the detailed answer.
type Result struct {
	Reason  string `json:"reason"`
	Details string `json:"details"`
	Class   string `json:"class"`
}

// Detailed runs every probe and answers 200 when all pass, 503 otherwise,
// in oslo's detailed JSON shape (reasons with reason, details, class)
// plus what glint has instead of Python's interpreter facts.
func (c *Checker) Detailed(w http.ResponseWriter, r *http.Request) {
	results := c.Run(r.Context())
	healthy := true
	reasons := make([]any, 0, len(results)+1)
	if c.DisableFile != "" {
		if _, err := os.Stat(c.DisableFile); err == nil {
			healthy = false
			reasons = append(reasons, Result{Reason: disabledReason, Details: "the file " + c.DisableFile + " exists", Class: "DisableByFile"})
		}
	}
	for _, res := range results {
		if res.Reason != "OK" {
			healthy = false
		}
		reasons = append(reasons, res)
	}
	status := http.StatusOK
	if !healthy {
		status = http.StatusServiceUnavailable
	}
	extra := map[string]any{
		"go_version": runtime.Version(),
		"now":        time.Now().UTC().Format("2006-01-02 15:04:05.000000"),
		"platform":   runtime.GOOS + "-" + runtime.GOARCH,
		"goroutines": runtime.NumGoroutine(),
		"uptime_s":   int64(time.Since(c.start).Seconds()),
	}
	ctype, body := render(accept(r), true, reasons, extra)
	write(w, status, ctype, body)
}

// Run runs the probes concurrently, each under the timeout.
func (c *Checker) Run(ctx context.Context) []Result {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	out := make([]Result, len(c.Probes))
	var wg sync.WaitGroup
	for i, p := range c.Probes {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			res := Result{Reason: "OK", Details: p.Name + " answered", Class: p.Name}
			if err := p.Check(pctx); err != nil {
				res.Reason, res.Details = "FAILED", p.Name+": "+err.Error()
			}
			out[i] = res
		})
	}
	wg.Wait()
	return out
}

// accept picks text/plain, text/html or application/json, in that order
// of preference among equals, as oslo.middleware offers them.
func accept(r *http.Request) string {
	offers := []string{"text/plain", "text/html", "application/json"}
	h := r.Header.Get("Accept")
	if h == "" {
		return offers[0]
	}
	best, bestQ := offers[0], -1.0
	for _, part := range strings.Split(h, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		for _, o := range offers {
			if (mt == o || mt == "*/*" || (strings.HasSuffix(mt, "/*") && strings.HasPrefix(o, strings.TrimSuffix(mt, "*")))) && q > bestQ {
				best, bestQ = o, q
				break
			}
		}
	}
	return best
}

func render(ctype string, detailed bool, reasons []any, extra map[string]any) (string, []byte) {
	switch ctype {
	case "application/json":
		doc := map[string]any{"detailed": detailed, "reasons": reasons}
		for k, v := range extra {
			doc[k] = v
		}
		b, _ := json.MarshalIndent(doc, "", "    ")
		return "application/json", b
	case "text/html":
		var b strings.Builder
		b.WriteString("<HTML>\n<HEAD><TITLE>Healthcheck Status</TITLE></HEAD>\n<BODY>\n<H2>Result of " + strconv.Itoa(len(reasons)) + " checks:</H2>\n<TABLE bgcolor=\"#ffffff\" border=\"1\">\n<TBODY>\n<TR>\n<TH>Reason</TH>\n</TR>\n")
		for _, r := range reasons {
			b.WriteString("<TR>\n<TD>" + html.EscapeString(reasonText(r)) + "</TD>\n</TR>\n")
		}
		b.WriteString("</TBODY>\n</TABLE>\n</BODY>\n</HTML>\n")
		return "text/html; charset=UTF-8", []byte(b.String())
	}
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = reasonText(r)
	}
	return "text/plain; charset=UTF-8", []byte(strings.Join(parts, "\n"))
}

func reasonText(r any) string {
	if res, ok := r.(Result); ok {
		if res.Reason == "OK" {
			return res.Class + ": OK"
		}
		return res.Details
	}
	return r.(string)
}

func write(w http.ResponseWriter, status int, ctype string, body []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
